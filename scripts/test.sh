#!/usr/bin/env bash
# Runs every test of the repository: formatting, vet, staticcheck, the unit,
# end-to-end and interop tests under the race detector, and a short run of
# every fuzz target. The interop tests need Node.js (npm packages are
# installed here from the committed lockfiles), Debian's python3-socketio and
# Chromium: .ci/run installs those on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

# An execution count, not a duration: Go 1.26's fuzz coordinator can
# report a bare "context deadline exceeded" failure when a duration runs
# out while a worker is mid-call (go.dev/issue/75804, fixed in Go 1.27); a
# count has no deadline to race. 100,000 runs take 5-15 s per target here.
FUZZTIME=${FUZZTIME:-100000x}

echo "== npm ci (official Socket.IO client and server, browser driver)"
for dir in interop/node interop/browser bench/node; do
  if [ -f "$dir/package-lock.json" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

echo "== staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

echo "== bench module (its own go.mod): vet, staticcheck, build, tests"
(cd bench && go vet ./... && go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./... && go build ./... && go test -count=1 ./...)

echo "== go test -race"
go test -race -count=1 -timeout 15m ./...
# The engine again with a reader goroutine per WebSocket (the path TLS and
# compressed connections take), instead of the epoll poller.
go test -race -count=1 -timeout 5m ./engineio -args -nopoller
# And with the poller but without io_uring for broadcast rounds (the path
# of machines that refuse io_uring).
go test -race -count=1 -timeout 5m ./engineio -args -norings

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
echo "== all tests passed"
