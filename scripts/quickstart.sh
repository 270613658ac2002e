#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a sandboxed command: sets up and builds (scripts/setup.sh),
# installs and starts jaid.service where systemd runs (else starts jaid in the background as root, log
# /var/log/jai/jaid.log), then runs `jai` as the invoking user
# (SUDO_USER) with the given command, a short demo that shows the PID and a refused write to /etc.
# Usage: sudo scripts/quickstart.sh [CMD [ARG]...]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bash scripts/setup.sh

client="$root"
if [ -d /run/systemd/system ]; then
  # A systemd host: install like any distro daemon (PREFIX /usr/local) and let systemd run jaid.
  bash scripts/install.sh
  systemctl enable --now jaid.service
  client=/usr/local/lib/jai
  for _ in $(seq 50); do [ -S /run/jai/jaid.sock ] && break; sleep 0.1; done
  echo "quickstart: jaid.service running; logs: journalctl -u jaid"
else
  # No systemd as PID 1 (containers, CI): bash completion and the man page, then jaid in the background.
  install -D -m 0644 completion/jai.bash /usr/share/bash-completion/completions/jai
  install -D -m 0644 docs/jai.1 /usr/local/share/man/man1/jai.1
  mkdir -p /var/log/jai
  if [ -S /run/jai/jaid.sock ] && pgrep -f "$root/bin/jaid" >/dev/null; then
    echo "quickstart: jaid already running"
  else
    nohup "$root/bin/jaid" >>/var/log/jai/jaid.log 2>&1 &
    for _ in $(seq 50); do [ -S /run/jai/jaid.sock ] && break; sleep 0.1; done
    [ -S /run/jai/jaid.sock ] || { echo "quickstart: jaid did not start; see /var/log/jai/jaid.log" >&2; exit 1; }
    echo "quickstart: jaid started (pid $!), log /var/log/jai/jaid.log; stop it with: sudo pkill -f $root/bin/jaid"
  fi
fi

user=${SUDO_USER:-}
if [ -z "$user" ] || [ "$user" = root ]; then
  user=jaidemo
  getent passwd "$user" >/dev/null || useradd -m -s /bin/bash "$user"
  echo "quickstart: no SUDO_USER; running as the demo user $user"
fi
home=$(getent passwd "$user" | cut -d: -f6)
work="$home/jai-quickstart"
runuser -u "$user" -- mkdir -p "$work"
if [ "$#" -eq 0 ]; then set -- sh -c 'echo "hello from the jail: pid $$, $(id)"; touch /etc/x || echo "(the rest of the system is read-only)"'; fi
# The client must be readable by the user: the checkout may sit in a directory they cannot traverse (/root).
if ! runuser -u "$user" -- test -r "$root/dist/client/cli/main.js"; then
  client=/usr/local/lib/jai-client
  bash scripts/install-client.sh "$client"
  echo "quickstart: client installed in $client (the checkout is not readable by $user)"
fi
echo "quickstart: running as $user in $work: jai $*"
cd "$work"
exec runuser -u "$user" -- env HOME="$home" "$client/bin/jai" "$@"
