#!/usr/bin/env bash
# Profiles the Go benchmark server (pinned to CPU 0, siobench on CPU 1):
#   - idle memory: N idle connections, runtime figures before and after a
#     forced GC, a heap profile, goroutine stacks;
#   - CPU and allocations under the broadcast flood, a light broadcast load
#     (50 msg/s to 1,000 receivers) and the echo loop.
#
#   bench/profile.sh [-o DIR] [-n CONNS]
#
# Writes DIR/{idle,broadcast,broadcast50,echo}.* (pprof files, memstats JSON and
# `go tool pprof -top` text). Default DIR: bench/results/<date>/profiles.
# Takes about three minutes.
set -euo pipefail
cd "$(dirname "$0")"
OUT="$PWD/results/$(date -u +%F)/profiles"
N=10000
SERVER_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    -o) OUT=$2; shift 2 ;;
    -n) N=$2; shift 2 ;;
    -args) SERVER_ARGS=(-args "$2"); shift 2 ;;
    *) echo "usage: $0 [-o DIR] [-n CONNS] [-args value|raw]" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT"
BIN=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$BIN"' EXIT
go build -o "$BIN/" ./cmd/siobench ./cmd/benchserver
ADDR=127.0.0.1:3201
DBG=127.0.0.1:6201

start() {
  taskset -c 0 "$BIN/benchserver" -addr "$ADDR" -debug "$DBG" "${SERVER_ARGS[@]}" >/dev/null 2>&1 &
  PID=$!
  for _ in $(seq 50); do curl -s -o /dev/null "http://$DBG/debug/memstats" && return 0; sleep 0.1; done
  echo "server did not start" >&2; exit 1
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=; }
rss() { awk '/VmRSS/{print $2}' "/proc/$PID/status"; }
gen() { taskset -c 1 "$BIN/siobench" -addr "$ADDR" -pid "$PID" -server-cpus 0 "$@"; }

echo "== idle: $N connections"
start
echo "{\"rss_kib\": $(rss)}" > "$OUT/idle.base.json"
curl -s "http://$DBG/debug/memstats" > "$OUT/idle.base.memstats.json"
gen -scenario conns -n "$N" -checkpoints "" -rate 2000 -hold 20s > "$OUT/idle.siobench.txt" &
GEN=$!
sleep $(( N / 2000 + 5 ))
echo "{\"rss_kib\": $(rss)}" > "$OUT/idle.held.json"
curl -s "http://$DBG/debug/memstats" > "$OUT/idle.held.memstats.json"
curl -s "http://$DBG/debug/memstats?gc=1" > "$OUT/idle.held.gc.memstats.json"
echo "{\"rss_kib\": $(rss)}" > "$OUT/idle.held.gc.json"
curl -s "http://$DBG/debug/pprof/heap" > "$OUT/idle.heap.pb.gz"
curl -s "http://$DBG/debug/pprof/goroutine?debug=1" > "$OUT/idle.goroutines.txt"
wait "$GEN"
stop
go tool pprof -sample_index=inuse_space -top -nodecount=30 "$OUT/idle.heap.pb.gz" > "$OUT/idle.heap.top.txt" 2>/dev/null

profile() { # name seconds siobench-args...
  local name=$1 secs=$2; shift 2
  start
  gen "$@" > "$OUT/$name.siobench.txt" &
  local g=$!
  sleep 4
  curl -s "http://$DBG/debug/memstats" > "$OUT/$name.before.memstats.json"
  curl -s "http://$DBG/debug/pprof/profile?seconds=$secs" > "$OUT/$name.cpu.pb.gz"
  curl -s "http://$DBG/debug/memstats" > "$OUT/$name.after.memstats.json"
  curl -s "http://$DBG/debug/pprof/allocs" > "$OUT/$name.allocs.pb.gz"
  wait "$g"
  stop
  go tool pprof -top -nodecount=45 "$OUT/$name.cpu.pb.gz" > "$OUT/$name.cpu.top.txt" 2>/dev/null
  go tool pprof -top -cum -nodecount=45 "$OUT/$name.cpu.pb.gz" > "$OUT/$name.cpu.cum.txt" 2>/dev/null
  go tool pprof -sample_index=alloc_space -top -nodecount=30 "$OUT/$name.allocs.pb.gz" > "$OUT/$name.allocs.top.txt" 2>/dev/null
}
echo "== broadcast flood, 1000 receivers"
profile broadcast 10 -scenario broadcast -receivers 1000 -rates "" -warmup 1s -max-phase 14s
echo "== broadcast at 50 msg/s, 1000 receivers (light load: one frame per connection per write)"
profile broadcast50 10 -scenario broadcast -receivers 1000 -rates 50 -step 16s -max-phase 0 -warmup 1s
echo "== echo, 50 clients"
profile echo 10 -scenario echo -c 50 -warmup 1s -duration 14s
echo "profiles in $OUT"
