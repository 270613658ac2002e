#!/usr/bin/env bash
# Copies what the unprivileged client needs (bin/jai, dist/, the addon, protobufjs and long) into DIR, owned by
# root and readable by everyone, for users who cannot traverse the checkout (e.g. one under /root).
# Usage: scripts/install-client.sh DIR    (after npm run build)
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:?usage: install-client.sh DIR}
mkdir -p "$dest/bin" "$dest/native/build" "$dest/node_modules"
cp bin/jai "$dest/bin/jai"
rm -rf "$dest/dist"
cp -r dist "$dest/dist"
cp native/build/jai_addon.node "$dest/native/build/"
for pkg in protobufjs long; do
  rm -rf "${dest:?}/node_modules/$pkg"
  cp -r "node_modules/$pkg" "$dest/node_modules/$pkg"
done
chmod -R a+rX,go-w "$dest"
