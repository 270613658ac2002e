#!/usr/bin/env bash
# Installs the built product (run `npm run build` first) for system-wide use:
#   $DESTDIR$PREFIX/lib/jai/        bin/, dist/ (common, daemon, client, native, proto), native/build/{jai-helper,
#                                   jai_addon.node}, the runtime node_modules, package.json
#   $DESTDIR$PREFIX/bin/{jai,jaid,jaictl}  relative symlinks into lib/jai/bin (node resolves the real path, so
#                                   the entry points find ../dist next to them)
#   $DESTDIR/etc/systemd/system/{jaid.service,jaid.socket}   (@LIBDIR@ replaced by $PREFIX/lib/jai)
#   $DESTDIR/usr/lib/sysusers.d/jai.conf, $DESTDIR/usr/lib/tmpfiles.d/jai.conf
#   $DESTDIR$PREFIX/share/man/man1/jai.1, $DESTDIR$PREFIX/share/man/man8/{jaid.8,jaictl.8}
#   $DESTDIR/usr/share/bash-completion/completions/{jai,jaictl}
# Everything is owned by root and not writable by group or others: jaid refuses a helper that anyone else could
# replace. With an empty DESTDIR on a machine where systemd is PID 1 it then runs systemd-sysusers,
# systemd-tmpfiles --create and systemctl daemon-reload; it never enables, starts or restarts jaid.
# Idempotent: lib/jai is rebuilt from scratch each time. scripts/uninstall.sh removes the same files.
#
# Usage: [PREFIX=/usr/local] [DESTDIR=] scripts/install.sh
set -euo pipefail
umask 022

say() { echo "install.sh: $*"; }
die() {
  echo "install.sh: $*" >&2
  exit 1
}

case "${1:-}" in
  '') ;;
  -h | --help)
    sed -n '2,/^# Usage/s/^# \{0,1\}//p' "$0"
    exit 0
    ;;
  *) die "unknown argument $1 (configure with the PREFIX and DESTDIR environment variables)" ;;
esac

# shellcheck source=scripts/install-paths.sh
source "$(dirname "$0")/install-paths.sh"
[ ! -e "$DESTDIR$LIBDIR" ] || is_our_libdir || die "$DESTDIR$LIBDIR exists and is not a jai installation: not replacing it"

cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || die "run as root: the installed files must be owned by root"
for f in bin/jai bin/jaid bin/jaictl dist/daemon/main.js dist/client/cli/main.js dist/client/cli/jai.bundle.js dist/client/ctl/main.js \
  dist/native/addon/index.js \
  dist/proto/gen/jai.js native/build/jai-helper native/build/jai_addon.node; do
  [ -e "$f" ] || die "$f is missing: run npm run build first"
done
command -v node >/dev/null || die "node is not on PATH"
command -v npm >/dev/null || die "npm is not on PATH (needed to list the runtime dependencies)"

# The runtime dependency closure, from npm's own view of node_modules. Left out, with everything only they
# pull in: prebuild-install, which better-sqlite3 lists as a dependency for its `install` script alone (it
# fetches a prebuilt binary when npm installs the package) and never loads at run time.
SKIP_DEPS=(prebuild-install)
# shellcheck disable=SC2016  # the JavaScript is single-quoted on purpose
closure_js='
const path = require("path");
const tree = JSON.parse(require("fs").readFileSync(0, "utf8"));
const skip = new Set(process.argv.slice(1));
const edges = new Map();
const collect = (node) => {
  if (!edges.has(node.path)) edges.set(node.path, new Map());
  for (const [name, child] of Object.entries(node.dependencies ?? {})) {
    if (typeof child.path !== "string") throw new Error(`${name}: not installed (run npm ci)`);
    edges.get(node.path).set(child.path, name);
    collect(child);
  }
};
collect(tree);
const seen = new Set();
const walk = (from) => {
  for (const [to, name] of edges.get(from) ?? []) {
    if (skip.has(name) || seen.has(to)) continue;
    seen.add(to);
    walk(to);
  }
};
walk(tree.path);
for (const p of [...seen].sort()) {
  const rel = path.relative(tree.path, p);
  if (!rel.startsWith("node_modules/") || rel.includes("..")) throw new Error(`unexpected package path ${p}`);
  console.log(rel);
}'
if ! deps_json=$(npm ls --omit=dev --all --json --long 2>/dev/null); then
  die "npm ls reports a problem with node_modules (run npm ci, then npm run build)"
fi
mapfile -t runtime_deps < <(node -e "$closure_js" "${SKIP_DEPS[@]}" <<<"$deps_json")
[ "${#runtime_deps[@]}" -gt 0 ] || die "no runtime dependencies found in node_modules"

# Build lib/jai in a staging directory next to it, then swap it in.
dest_lib=$DESTDIR$LIBDIR
stage=$DESTDIR$PREFIX/lib/.jai.new
old=$DESTDIR$PREFIX/lib/.jai.old
cleanup() { rm -rf "$stage" "$old"; }
trap cleanup EXIT
cleanup
install -d -m 0755 "$stage/bin" "$stage/dist" "$stage/native/build" "$stage/node_modules"
install -m 0755 bin/jai bin/jaid bin/jaictl "$stage/bin/"
install -m 0644 package.json "$stage/"
# Compiled JavaScript only: no tests, benches, declaration files or source maps (their sources are not installed).
tar -C dist -cf - --exclude='*.d.ts' --exclude='*.map' common daemon client native proto |
  tar -C "$stage/dist" -xf - --no-same-owner
install -m 0755 native/build/jai-helper "$stage/native/build/jai-helper"
install -m 0644 native/build/jai_addon.node "$stage/native/build/jai_addon.node"
for rel in "${runtime_deps[@]}"; do
  excludes=(--anchored --exclude=./node_modules)
  # A native package: its C/C++ sources and build objects stay behind, only the built addons are copied.
  native=no
  if [ -e "$rel/binding.gyp" ]; then
    native=yes
    excludes+=(--exclude=./build --exclude=./deps --exclude=./src)
  fi
  mkdir -p "$stage/$rel"
  tar -C "$rel" -cf - "${excludes[@]}" . | tar -C "$stage/$rel" -xf - --no-same-owner
  if [ "$native" = yes ]; then
    shopt -s nullglob
    addons=("$rel"/build/Release/*.node)
    shopt -u nullglob
    [ "${#addons[@]}" -gt 0 ] || die "$rel has no build/Release/*.node (run npm ci)"
    install -d -m 0755 "$stage/$rel/build/Release"
    install -m 0755 "${addons[@]}" "$stage/$rel/build/Release/"
  fi
done
chown -R root:root "$stage"
chmod -R u+rwX,go+rX,go-w,ug-s "$stage"
if [ -e "$dest_lib" ]; then mv "$dest_lib" "$old"; fi
mv "$stage" "$dest_lib"
rm -rf "$old"
trap - EXIT
say "installed $LIBDIR (${#runtime_deps[@]} runtime packages)${DESTDIR:+ under $DESTDIR}"

# Commands: relative symlinks, valid both under DESTDIR and once installed.
install -d -m 0755 "$DESTDIR$PREFIX/bin"
for cmd in jai jaid jaictl; do
  link=$DESTDIR$PREFIX/bin/$cmd
  target=../lib/jai/bin/$cmd
  if [ -e "$link" ] || [ -L "$link" ]; then
    if ! [ -L "$link" ] || [ "$(readlink "$link")" != "$target" ]; then
      die "$PREFIX/bin/$cmd exists and is not jai's (a symlink to $target): move it away first"
    fi
  else
    ln -s "$target" "$link"
  fi
done

# The units, with the real library directory.
install -d -m 0755 "$DESTDIR/etc/systemd/system"
sed "s|@LIBDIR@|$LIBDIR|g" systemd/jaid.service >"$DESTDIR/etc/systemd/system/jaid.service.tmp"
chmod 0644 "$DESTDIR/etc/systemd/system/jaid.service.tmp"
mv "$DESTDIR/etc/systemd/system/jaid.service.tmp" "$DESTDIR/etc/systemd/system/jaid.service"
install -m 0644 systemd/jaid.socket "$DESTDIR/etc/systemd/system/jaid.socket"
install -D -m 0644 systemd/sysusers.d/jai.conf "$DESTDIR/usr/lib/sysusers.d/jai.conf"
install -D -m 0644 systemd/tmpfiles.d/jai.conf "$DESTDIR/usr/lib/tmpfiles.d/jai.conf"
install -D -m 0644 docs/jai.1 "$DESTDIR$PREFIX/share/man/man1/jai.1"
install -D -m 0644 docs/jaid.8 "$DESTDIR$PREFIX/share/man/man8/jaid.8"
install -D -m 0644 docs/jaictl.8 "$DESTDIR$PREFIX/share/man/man8/jaictl.8"
install -D -m 0644 completion/jai.bash "$DESTDIR/usr/share/bash-completion/completions/jai"
install -D -m 0644 completion/jaictl.bash "$DESTDIR/usr/share/bash-completion/completions/jaictl"
say "installed $PREFIX/bin/{jai,jaid,jaictl}, the jaid units, sysusers and tmpfiles entries, man pages, bash completion"

# Self-check: nothing group/other-writable or foreign-owned (symlinks have no mode of their own).
bad=$(find "$dest_lib" "$DESTDIR/etc/systemd/system/jaid.service" "$DESTDIR/etc/systemd/system/jaid.socket" \
  ! -type l \( -perm /022 -o ! -user root \) -print -quit)
[ -z "$bad" ] || die "$bad is writable by group/others or not owned by root"

if [ -z "$DESTDIR" ]; then
  # jaid refuses a helper below a directory that anyone but root could change (Debian once made /usr/local
  # group-writable by staff): say so now rather than at the first start.
  dir=$LIBDIR/native/build
  while :; do
    read -r owner mode < <(stat -c '%u %a' "$dir")
    if [ "$owner" -ne 0 ] || { (((8#$mode & 8#022) != 0)) && (((8#$mode & 8#1000) == 0)); }; then
      echo "install.sh: warning: $dir is not root-owned or is writable by others: jaid will refuse" \
        "$LIBDIR/native/build/jai-helper until it is fixed (chmod go-w $dir) or PREFIX is elsewhere" >&2
    fi
    [ "$dir" = / ] && break
    dir=$(dirname "$dir")
  done
  # jaid.service runs `#!/usr/bin/env node` with systemd's default PATH.
  node_dir=$(dirname "$(command -v node)")
  case "$node_dir" in
    /usr/local/sbin | /usr/local/bin | /usr/sbin | /usr/bin | /sbin | /bin) ;;
    *)
      echo "install.sh: warning: node is in $node_dir, which is not on systemd's PATH: add" \
        "Environment=PATH=$node_dir:/usr/sbin:/usr/bin to a drop-in (systemctl edit jaid.service)" >&2
      ;;
  esac
fi

if [ -z "$DESTDIR" ] && [ -d /run/systemd/system ]; then
  systemd-sysusers /usr/lib/sysusers.d/jai.conf
  systemd-tmpfiles --create /usr/lib/tmpfiles.d/jai.conf
  systemctl daemon-reload
  say "created the jai account and /var/lib/jai, /run/jai; reloaded systemd"
  if systemctl is-active --quiet jaid.service; then
    say "jaid.service is running the previous version: systemctl restart jaid (this hangs up every session)"
  else
    say "start jaid with: systemctl enable --now jaid.service   (or, started on first use: jaid.socket)"
  fi
elif [ -z "$DESTDIR" ]; then
  say "systemd is not running: skipped systemd-sysusers, systemd-tmpfiles --create and systemctl daemon-reload" \
    "(jaid creates the jai account and its directories itself at start: run $PREFIX/bin/jaid as root)"
else
  say "DESTDIR is set: skipped systemd-sysusers, systemd-tmpfiles --create and systemctl daemon-reload"
fi
