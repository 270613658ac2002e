#!/usr/bin/env bash
# Installs everything jai needs on Debian 12 and builds it: apt build tools (only when missing), npm packages,
# the native parts and the TypeScript, and the `jai` system user. Idempotent. Run as root from the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: run as root (it installs packages and creates the jai user)" >&2
  exit 1
fi

missing=()
command -v cc >/dev/null || missing+=(gcc libc6-dev)
command -v make >/dev/null || missing+=(make)
command -v g++ >/dev/null || missing+=(g++)
command -v python3 >/dev/null || missing+=(python3)
command -v script >/dev/null || missing+=(bsdutils)
command -v setpriv >/dev/null || missing+=(util-linux) # the test fixture starts jaid through it
command -v useradd >/dev/null || missing+=(passwd)
command -v umount >/dev/null || missing+=(mount)
command -v node >/dev/null || missing+=(nodejs npm)
# For the tests: network namespaces are checked with ip(8), the man pages rendered with man(1).
[ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || missing+=(iproute2)
command -v man >/dev/null || missing+=(man-db)
command -v perl >/dev/null || missing+=(perl)
# For bench/launch-latency.js, which compares jai with bubblewrap.
command -v bwrap >/dev/null || missing+=(bubblewrap)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm ci only when node_modules was not installed from this exact lockfile (it recompiles better-sqlite3, ~2 min).
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.jai-lock-sha256 2>/dev/null)" != "$lock_hash" ]; then
  npm ci --no-audit --no-fund
  echo "$lock_hash" > node_modules/.jai-lock-sha256
fi
npm run build --silent

# The untrusted user strict mode runs as (systemd/sysusers.d/jai.conf declares the same account).
if ! getent passwd jai >/dev/null; then
  useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin \
    --comment "JAI sandbox untrusted user" jai
  echo "setup.sh: created system user jai"
fi
