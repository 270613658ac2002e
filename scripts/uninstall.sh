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

# shellcheck source=scripts/install-paths.sh
source "$(dirname "$0")/install-paths.sh"
checkout=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || die "run as root"

units=(jaid.socket jaid.service)
systemd_live=no
if [ -z "$DESTDIR" ] && [ -d /run/systemd/system ]; then systemd_live=yes; fi
ours_service=no
if is_our_service; then ours_service=yes; fi
if [ "$systemd_live" = yes ] && [ "$ours_service" = yes ]; then
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

# Shipped files (man pages, completion) are removed only when they are still the copies this checkout installs.
remove_if_same() { # INSTALLED SHIPPED
  if [ -e "$1" ] && ! cmp -s "$1" "$2"; then
    say "left ${1#"$DESTDIR"} alone: not the file install.sh puts there"
    return
  fi
  remove "$1"
}

if [ -e "$DESTDIR$LIBDIR" ] && ! is_our_libdir; then
  say "left $LIBDIR alone: not a jai installation"
elif [ -e "$DESTDIR$LIBDIR" ]; then
  rm -rf "$DESTDIR$LIBDIR"
  say "removed $LIBDIR"
  removed_dirs+=("$DESTDIR$PREFIX/lib")
fi
rm -rf "$DESTDIR$PREFIX/lib/.jai.new" "$DESTDIR$PREFIX/lib/.jai.old"
for cmd in jai jaid jaictl; do
  link=$DESTDIR$PREFIX/bin/$cmd
  if [ -L "$link" ] && [ "$(readlink "$link")" = "../lib/jai/bin/$cmd" ]; then
    remove "$link"
  elif [ -e "$link" ] || [ -L "$link" ]; then
    say "left $PREFIX/bin/$cmd alone: not the symlink install.sh makes"
  fi
done
# Units, sysusers, tmpfiles and completion live outside PREFIX: they belong to the installation jaid.service starts.
if [ "$ours_service" = yes ]; then
  for unit in "${units[@]}"; do remove "$DESTDIR/etc/systemd/system/$unit"; done
  remove_if_same "$DESTDIR/usr/lib/sysusers.d/jai.conf" "$checkout/systemd/sysusers.d/jai.conf"
  remove_if_same "$DESTDIR/usr/lib/tmpfiles.d/jai.conf" "$checkout/systemd/tmpfiles.d/jai.conf"
  remove_if_same "$DESTDIR/usr/share/bash-completion/completions/jai" "$checkout/completion/jai.bash"
  remove_if_same "$DESTDIR/usr/share/bash-completion/completions/jaictl" "$checkout/completion/jaictl.bash"
elif [ -e "$DESTDIR/etc/systemd/system/jaid.service" ]; then
  say "left the jaid units, sysusers, tmpfiles and completion alone: jaid.service does not start $LIBDIR/bin/jaid"
fi
remove_if_same "$DESTDIR$PREFIX/share/man/man1/jai.1" "$checkout/docs/jai.1"
remove_if_same "$DESTDIR$PREFIX/share/man/man8/jaid.8" "$checkout/docs/jaid.8"
remove_if_same "$DESTDIR$PREFIX/share/man/man8/jaictl.8" "$checkout/docs/jaictl.8"

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
