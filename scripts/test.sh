#!/usr/bin/env bash
# Runs every test of the repository: formatting, tidy modules, vet,
# staticcheck, the unit and end-to-end tests under the race detector, the
# interop tests (their own module, interop/) against the official Node.js
# client and server, python-socketio and headless Chromium, and a short run
# of every fuzz target; then checks that the run left the tree as it found
# it.
#
# Needs Go, Node.js >= 20 with npm (the npm packages are installed here
# from the committed lockfiles), Chromium and a python3 that has
# python-socketio, requests, websocket-client and websockets (Debian:
# chromium, python3-socketio, python3-requests, python3-websocket,
# python3-websockets; .ci/run installs them on a fresh machine), and
# HAProxy for the chat's two-node test (Debian: haproxy). A missing one fails the run: nothing is skipped.
#
# Environment:
#   SWITCHBOARD_CHROMIUM  the Chromium binary (default /usr/bin/chromium)
#   SWITCHBOARD_PYTHON    the python3 that runs python-socketio
#                         (default /usr/bin/python3, which sees Debian's
#                         packages)
#   FUZZTIME              -fuzztime of each fuzz target (default 100000x)
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
  echo "scripts/test.sh: $*" >&2
  exit 1
}

# An execution count, not a duration: Go 1.26's fuzz coordinator can
# report a bare "context deadline exceeded" failure when a duration runs
# out while a worker is mid-call (go.dev/issue/75804, fixed in Go 1.27); a
# count has no deadline to race. 100,000 runs take 5-15 s per target here.
FUZZTIME=${FUZZTIME:-100000x}
# Exported with their defaults so that the interop tests use exactly the
# binaries checked here.
export SWITCHBOARD_CHROMIUM=${SWITCHBOARD_CHROMIUM:-/usr/bin/chromium}
export SWITCHBOARD_PYTHON=${SWITCHBOARD_PYTHON:-/usr/bin/python3}

# What the run must leave unchanged: tracked files, and which files exist
# outside .gitignore.
tree_state() { git status --porcelain=v1 --untracked-files=all; git diff HEAD | sha256sum; }
before=$(tree_state)

echo "== dependencies"
command -v node >/dev/null || fail "node is not on PATH: install Node.js >= 20 (the interop tests run the official Socket.IO packages)"
command -v npm >/dev/null || fail "npm is not on PATH: install npm (with Node.js >= 20)"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
  fail "Node.js $(node --version) is too old: the interop tests need Node.js >= 20"
[ -x "$SWITCHBOARD_CHROMIUM" ] ||
  fail "no Chromium at $SWITCHBOARD_CHROMIUM: run 'apt-get install -y chromium' or set SWITCHBOARD_CHROMIUM to a Chromium binary"
"$SWITCHBOARD_PYTHON" -c 'import socketio, engineio, requests, websocket, websockets' ||
  fail "$SWITCHBOARD_PYTHON cannot import python-socketio, requests, websocket-client and websockets: run 'apt-get install -y python3-socketio python3-requests python3-websocket python3-websockets' or set SWITCHBOARD_PYTHON to a python3 that has them"
{ [ -x /usr/sbin/haproxy ] || command -v haproxy >/dev/null; } ||
  fail "no haproxy: run 'apt-get install -y haproxy' (the chat's two-node test runs cmd/chat/deploy/haproxy.cfg)"
echo "$(go version), node $(node --version), npm $(npm --version), $("$SWITCHBOARD_CHROMIUM" --version 2>/dev/null || echo "$SWITCHBOARD_CHROMIUM"), $("$SWITCHBOARD_PYTHON" --version)"

echo "== npm ci (official Socket.IO clients, v4 and v2, and server, browser driver)"
for dir in interop/node interop/node-eio3 interop/browser bench/node examples/tutorial/browsertest redisadapter/nodetest cmd/chat/browsertest cmd/chat/nodetest adminui/browsertest; do
  [ -f "$dir/package-lock.json" ] || fail "$dir/package-lock.json is missing"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
done
echo "== client bundle (internal/clientbundle is the socket.io-client the lockfile pins)"
./scripts/check-client-bundle.sh

# Every Go module of the repository: the library (.), interop/ and bench/.
modules=$(git ls-files 'go.mod' '*/go.mod' | xargs -n1 dirname)

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go mod tidy -diff, go vet, staticcheck (every module:" $modules")"
for mod in $modules; do
  echo "-- $mod"
  (cd "$mod" && go mod tidy -diff) || fail "$mod/go.mod or go.sum is not tidy: run 'go mod tidy' in $mod"
  (cd "$mod" && go vet ./... && go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...)
done

# The library builds where it has no poller too (a reader goroutine per
# connection there): a Linux-only call in a file for every platform once
# broke the Windows build unseen.
echo "== the library on other platforms: go build for windows, darwin, freebsd"
for os in windows darwin freebsd; do
  GOOS=$os GOARCH=amd64 go build ./... || fail "the library does not build for $os"
done

echo "== bench module (its own go.mod and go.work): build, tests"
(cd bench && go build ./... && go test -count=1 ./...)

# race_only: the tests that skip under the race detector; the pass
# without it below runs them and fails if they skip there.
race_only='TestDecodeTextDoesNotAllocate|TestAppendPayloadGrowsOnce|TestDecodePayloadTextDoesNotAllocate'
# noskip_test runs go test -v with its arguments, shows the packages'
# results (the whole output on failure) and fails if a test other than the
# race_only ones skipped: a skip on CI's machine fails the run (TESTING.md).
noskip_test() {
  local log skips
  log=$(mktemp)
  if ! go test -v "$@" >"$log" 2>&1; then
    cat "$log"; rm -f "$log"; exit 1
  fi
  grep -E '^(ok|\?) ' "$log" || true
  skips=$(grep -E -- '--- SKIP: ' "$log" | grep -Ev -- "--- SKIP: ($race_only) " || true)
  rm -f "$log"
  [ -z "$skips" ] || fail "tests skipped (a skip fails the run):
$skips"
}

echo "== go test -race"
noskip_test -race -count=1 -timeout 15m ./...
# The engine again with a reader goroutine per WebSocket (the path TLS and
# compressed connections take), instead of the epoll poller.
noskip_test -race -count=1 -timeout 5m ./engineio -args -nopoller
# And with the poller but without io_uring for broadcast rounds (the path
# of machines that refuse io_uring).
noskip_test -race -count=1 -timeout 5m ./engineio -args -norings

echo "== without the race detector: the tests that skip or loosen a bound under it"
# Allocation counts differ under the race detector (it turns off compiler
# optimisations and drops sync.Pool items on purpose), so these tests skip
# there, or loosen their bound: here they run at their tight bound. Each one
# must run and pass; a skip, or a name that no longer matches, fails.
alloc="^($race_only|TestInMemoryBroadcastReusesTargets)\$"
out=$(go test -count=1 -v -run "$alloc" ./engineio ./adapter) || { echo "$out"; exit 1; }
if grep -q -- '--- SKIP' <<<"$out" || [ "$(grep -c -- '--- PASS' <<<"$out")" -ne 4 ]; then
  echo "$out"; fail "an allocation test skipped or did not run"
fi

echo "== mutation testing of the lines changed since ${MUTATION_BASE:-HEAD~1} (TESTING.md)"
# Only the packages held to the bar (scripts/mutation.sh lists them), only
# the lines the last commit changed, bounded to 10 minutes; the full run is
# scripts/mutation.sh without -d. MUTATION_BASE names an older base when
# several commits land at once. Quick mode (-q): each mutant runs only the
# tests that reach it, which keeps a change to the engine within the bound.
scripts/mutation.sh -q -t 600 -d "${MUTATION_BASE:-HEAD~1}"

echo "== interop tests (module interop/): official Node.js client and server, python-socketio, Chromium"
(cd interop && noskip_test -race -count=1 -timeout 15m ./...)

echo "== socket.io's tutorial, step by step (module examples/tutorial/): Go client, Chromium, Redis at 127.0.0.1:6379 (step 9)"
(cd examples/tutorial && noskip_test -race -count=1 -timeout 10m ./...)

echo "== redisadapter (its own module): classic and sharded adapters, three Go nodes and mixed Go / Node.js clusters on the Redis at 127.0.0.1:6379, restarts, a Redis Cluster and a Sentinel failover of redis-servers the tests start"
(cd redisadapter && noskip_test -race -count=1 -timeout 10m ./...)

echo "== prommetrics (its own module): the Prometheus exporter, real clients against a server, /metrics scraped"
(cd prommetrics && noskip_test -race -count=1 -timeout 5m ./...)

echo "== msgpackparser (its own module): packets of the npm socket.io-msgpack-parser (testdata/golden.json), invalid and hostile messages, Go server and Go client over each transport"
(cd msgpackparser && noskip_test -race -count=1 -timeout 5m ./...)

echo "== the chat (module cmd/chat): store, auth, handlers, many clients, the Node client, Chromium, two nodes over Redis and PostgreSQL, behind HAProxy"
(cd cmd/chat && noskip_test -race -count=1 -timeout 10m ./...)

echo "== adminui (its own module): the admin namespace's protocol with the Go client, the official admin UI in Chromium"
(cd adminui && noskip_test -race -count=1 -timeout 10m ./...)

echo "== benchmarks (one iteration each: they must run, timings are not checked)"
go test -run '^$' -bench . -benchtime 1x ./...

echo "== fuzz ($FUZZTIME per target)"
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "-- $pkg $target"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg"
  done
done

# Modules of their own with fuzz targets: msgpackparser's decoder.
for mod in msgpackparser; do
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$mod"/*_test.go | sed 's/^func //' | sort -u); do
    echo "-- $mod $target"
    (cd "$mod" && go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" .)
  done
done

echo "== the run left the tree as it found it"
if [ "$(tree_state)" != "$before" ]; then
  git status --short
  fail "the run changed or created files in the tree (above): a go.sum, go.work.sum or generated file that belongs in the commit, or one that should be ignored"
fi
echo "== all tests passed"
