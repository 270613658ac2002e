# shellcheck shell=bash
# Sourced by install.sh and uninstall.sh: PREFIX/DESTDIR normalised the same way, and the checks that say whether a
# path at the destination is ours before either script replaces or removes it. Needs `die` from the caller.
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
# A relative DESTDIR means relative to where we were started, not to the checkout we cd into.
if [ -n "$DESTDIR" ] && [ "${DESTDIR#/}" = "$DESTDIR" ]; then DESTDIR="$PWD/$DESTDIR"; fi
DESTDIR=${DESTDIR%/}
PREFIX=${PREFIX%/}
# PREFIX ends up in a unit file (where % starts a specifier) and in a sed replacement: keep it plain.
[[ "$PREFIX" =~ ^/[A-Za-z0-9._/+-]*$ ]] || die "PREFIX must be an absolute path of [A-Za-z0-9._/+-]: '$PREFIX'"
LIBDIR=$PREFIX/lib/jai

# Our installation directory: its package.json names this project.
is_our_libdir() {
  grep -q '"name": "jai-sandbox"' "$DESTDIR$LIBDIR/package.json" 2>/dev/null
}

# Our unit: jaid.service starting this LIBDIR's jaid (another PREFIX's or another product's is left alone).
is_our_service() {
  grep -qx "ExecStart=$LIBDIR/bin/jaid" "$DESTDIR/etc/systemd/system/jaid.service" 2>/dev/null
}
