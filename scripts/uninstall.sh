#!/usr/bin/env bash
# Removes what scripts/install.sh installed with the same PREFIX and DESTDIR. With an empty DESTDIR on a machine
# where systemd is PID 1 it first stops and disables jaid.socket and jaid.service (which hangs up every running
# session), and reloads systemd afterwards.
# Kept: the audit database /var/lib/jai (unless --purge), the jai account (its uid may own files; remove it with
# userdel jai if you are sure), and /run/jai, where users' overlays may still be mounted: they go away with
# `jai -u` or at reboot. Never rm -r /run/jai while anything is mounted below it.
# Idempotent: what is already gone is skipped.
#
# Usage: [PREFIX=/usr/local] [DESTDIR=] scripts/uninstall.sh [--purge]
set -euo pipefail

say() { echo "uninstall.sh: $*"; }
die() {
  echo "uninstall.sh: $*" >&2
  exit 1
}

purge=no
for arg in "$@"; do
  case "$arg" in
    --purge) purge=yes ;;
    -h | --help)
      sed -n '2,/^# Usage/s/^# \{0,1\}//p' "$0"
      exit 0
      ;;
    *) die "unknown argument $arg (usage: uninstall.sh [--purge])" ;;
  esac
done

PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
if [ -n "$DESTDIR" ] && [ "${DESTDIR#/}" = "$DESTDIR" ]; then DESTDIR="$PWD/$DESTDIR"; fi
DESTDIR=${DESTDIR%/}
PREFIX=${PREFIX%/}
[[ "$PREFIX" =~ ^/[A-Za-z0-9._/+-]*$ ]] || die "PREFIX must be an absolute path of [A-Za-z0-9._/+-]: '$PREFIX'"
LIBDIR=$PREFIX/lib/jai
[ "$(id -u)" -eq 0 ] || die "run as root"

units=(jaid.socket jaid.service)
systemd_live=no
if [ -z "$DESTDIR" ] && [ -d /run/systemd/system ]; then systemd_live=yes; fi
if [ "$systemd_live" = yes ]; then
  for unit in "${units[@]}"; do
    if [ -e "/etc/systemd/system/$unit" ]; then
      if systemctl is-active --quiet "$unit"; then say "stopping $unit"; fi
      systemctl disable --now --quiet "$unit" || die "systemctl disable --now $unit failed"
    fi
  done
elif [ -z "$DESTDIR" ]; then
  say "systemd is not running: nothing to stop or disable (stop a jaid you started yourself with SIGTERM)"
fi

removed_dirs=()
remove() { # FILE: remove one installed file, remembering its directory for pruning under DESTDIR
  if [ -e "$1" ] || [ -L "$1" ]; then
    rm -f "$1"
    say "removed ${1#"$DESTDIR"}"
    removed_dirs+=("$(dirname "$1")")
  fi
}

if [ -e "$DESTDIR$LIBDIR" ]; then
  rm -rf "$DESTDIR$LIBDIR"
  say "removed $LIBDIR"
  removed_dirs+=("$DESTDIR$PREFIX/lib")
fi
rm -rf "$DESTDIR$PREFIX/lib/.jai.new" "$DESTDIR$PREFIX/lib/.jai.old"
for cmd in jai jaid; do
  link=$DESTDIR$PREFIX/bin/$cmd
  if [ -L "$link" ] && [ "$(readlink "$link")" = "../lib/jai/bin/$cmd" ]; then
    remove "$link"
  elif [ -e "$link" ] || [ -L "$link" ]; then
    say "left $PREFIX/bin/$cmd alone: not the symlink install.sh makes"
  fi
done
for unit in "${units[@]}"; do remove "$DESTDIR/etc/systemd/system/$unit"; done
remove "$DESTDIR/usr/lib/sysusers.d/jai.conf"
remove "$DESTDIR/usr/lib/tmpfiles.d/jai.conf"
remove "$DESTDIR$PREFIX/share/man/man1/jai.1"
remove "$DESTDIR$PREFIX/share/man/man8/jaid.8"
remove "$DESTDIR/usr/share/bash-completion/completions/jai"

if [ "$purge" = yes ]; then
  if [ -e "$DESTDIR/var/lib/jai" ]; then
    rm -rf "$DESTDIR/var/lib/jai"
    say "purged /var/lib/jai (the audit database)"
    removed_dirs+=("$DESTDIR/var/lib")
  fi
elif [ -e "$DESTDIR/var/lib/jai" ]; then
  say "kept /var/lib/jai (the audit database); uninstall.sh --purge removes it"
fi

if [ "$systemd_live" = yes ]; then
  systemctl daemon-reload
  say "reloaded systemd"
fi

# Under DESTDIR, also remove the directories install.sh created there once they are empty.
if [ -n "$DESTDIR" ]; then
  for dir in "${removed_dirs[@]}"; do
    while [ "$dir" != "$DESTDIR" ] && [ "${dir#"$DESTDIR"/}" != "$dir" ] && rmdir "$dir" 2>/dev/null; do
      dir=$(dirname "$dir")
    done
  done
fi
say "done"
