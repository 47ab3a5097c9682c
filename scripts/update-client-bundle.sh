#!/usr/bin/env bash
# Copies the official browser client that the server serves at
# <path>socket.io.js (serveclient.go) from the socket.io-client package that
# interop/node/package-lock.json pins into internal/clientbundle: the files
# the Node.js reference server serves, gzip-compressed (the server sends them
# as they are to clients that accept gzip, which every browser does), the
# package's license, and its version in internal/clientbundle/VERSION.
#
# To move to another client version: change interop/node/package.json, run
# `npm install` there (which updates the lockfile), then this script, then
# scripts/check-client-bundle.sh, and commit the lockfile and
# internal/clientbundle together.
set -euo pipefail
cd "$(dirname "$0")/.."

lock=interop/node/package-lock.json
pkg=interop/node/node_modules/socket.io-client
out=internal/clientbundle
# The reference server's CLIENT_FILES (socket.io/lib/index.ts).
files=(
  socket.io.esm.min.js socket.io.esm.min.js.map
  socket.io.js socket.io.js.map
  socket.io.min.js socket.io.min.js.map
  socket.io.msgpack.min.js socket.io.msgpack.min.js.map
)

if [ ! -f "$pkg/package.json" ]; then
  echo "$pkg is missing: run \`npm ci\` in interop/node first" >&2
  exit 1
fi
pinned=$(node -p 'require(process.argv[1]).packages["node_modules/socket.io-client"].version' "./$lock")
installed=$(node -p 'require(process.argv[1]).version' "./$pkg/package.json")
if [ "$pinned" != "$installed" ]; then
  echo "$lock pins socket.io-client $pinned but $installed is installed: run \`npm ci\` in interop/node" >&2
  exit 1
fi

rm -f "$out"/dist/*.gz
for f in "${files[@]}"; do
  # -n leaves the file name and time out of the header: the same input
  # gives the same bytes, so an unchanged client leaves git clean.
  gzip -9 -n -c "$pkg/dist/$f" >"$out/dist/$f.gz"
done
cp "$pkg/LICENSE" "$out/LICENSE-socket.io-client"
echo "$pinned" >"$out/VERSION"
echo "internal/clientbundle: socket.io-client $pinned"
