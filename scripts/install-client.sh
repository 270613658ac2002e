#!/usr/bin/env bash
# Copies what the unprivileged client needs (bin/jai, package.json, dist/, the addon, protobufjs and long) into DIR,
# owned by root and readable by everyone, for users who cannot traverse the checkout (e.g. one under /root). Also bin/jaictl
# and smol-toml, which `jaictl policy check` needs (the other jaictl commands need only node).
# Usage: scripts/install-client.sh DIR    (after npm run build)
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:?usage: install-client.sh DIR}
mkdir -p "$dest/bin" "$dest/native/build" "$dest/node_modules"
cp bin/jai "$dest/bin/jai"
cp bin/jaictl "$dest/bin/jaictl"
# package.json's "exports" make `require('jai-sandbox/client')` resolve (the SDK; docs/sdk.md).
cp package.json "$dest/package.json"
rm -rf "$dest/dist"
cp -r dist "$dest/dist"
cp native/build/jai_addon.node "$dest/native/build/"
for pkg in protobufjs long smol-toml; do
  rm -rf "${dest:?}/node_modules/$pkg"
  cp -r "node_modules/$pkg" "$dest/node_modules/$pkg"
done
chmod -R a+rX,go-w "$dest"
