#!/usr/bin/env bash
# Fails when the client bundle embedded in internal/clientbundle is not the
# one interop/node/package-lock.json pins: a different version recorded in
# internal/clientbundle/VERSION, a file missing, extra or different from the
# installed package's. Run after `npm ci` in interop/node (npm checks the
# installed package against the lockfile's integrity hash); the fix is
# scripts/update-client-bundle.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

lock=interop/node/package-lock.json
pkg=interop/node/node_modules/socket.io-client
out=internal/clientbundle
files=(
  socket.io.esm.min.js socket.io.esm.min.js.map
  socket.io.js socket.io.js.map
  socket.io.min.js socket.io.min.js.map
  socket.io.msgpack.min.js socket.io.msgpack.min.js.map
)
fix="run scripts/update-client-bundle.sh and commit internal/clientbundle"

if [ ! -f "$pkg/package.json" ]; then
  echo "check-client-bundle: $pkg is missing: run \`npm ci\` in interop/node first" >&2
  exit 1
fi
pinned=$(node -p 'require(process.argv[1]).packages["node_modules/socket.io-client"].version' "./$lock")
installed=$(node -p 'require(process.argv[1]).version' "./$pkg/package.json")
recorded=$(cat "$out/VERSION")
fail=0
if [ "$pinned" != "$installed" ]; then
  echo "check-client-bundle: $lock pins socket.io-client $pinned but $installed is installed: run \`npm ci\` in interop/node" >&2
  exit 1
fi
if [ "$recorded" != "$pinned" ]; then
  echo "check-client-bundle: $out/VERSION says $recorded, $lock pins $pinned" >&2
  fail=1
fi
want=$(printf '%s.gz\n' "${files[@]}" | sort)
have=$(cd "$out/dist" && ls -1 | sort)
if [ "$want" != "$have" ]; then
  echo "check-client-bundle: $out/dist holds:" $have "; want:" $want >&2
  fail=1
fi
for f in "${files[@]}"; do
  if [ -f "$out/dist/$f.gz" ] && ! gzip -dc "$out/dist/$f.gz" | cmp -s - "$pkg/dist/$f"; then
    echo "check-client-bundle: $out/dist/$f.gz differs from $pkg/dist/$f" >&2
    fail=1
  fi
done
if ! cmp -s "$pkg/LICENSE" "$out/LICENSE-socket.io-client"; then
  echo "check-client-bundle: $out/LICENSE-socket.io-client differs from $pkg/LICENSE" >&2
  fail=1
fi
if [ "$fail" != 0 ]; then
  echo "check-client-bundle: the embedded client is not socket.io-client $pinned: $fix" >&2
  exit 1
fi
echo "check-client-bundle: socket.io-client $pinned, ${#files[@]} files match"
