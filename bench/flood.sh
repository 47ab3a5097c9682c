#!/usr/bin/env bash
# Flood isolation, the Go server against the Node.js reference: does one
# client that sends events as fast as the server reads them change the
# latency of everyone else? siobench's flood scenario (bench/README.md):
# 20 paced clients each emit("echo", …, ack) every 10 ms, measured alone,
# then while one more connection floods the same event with ack requests.
#
#   bench/flood.sh [-r REPS] [-o DIR]
#
# Configurations, interleaved within each repetition, each server pinned
# to CPU 0 and siobench to CPU 1 (as bench/run.sh's 1-core runs), both at
# real-time priority (chrt -f 10, when allowed: root) so that whatever
# else the machine runs does not time them; the flooder, a child process
# of siobench, runs at the normal policy (nice -20) and gets the rest of
# CPU 1. Linux caps real-time tasks at 95 % of each second
# (kernel.sched_rt_runtime_us): a server the flood saturates pauses 50 ms
# in every second, which the flooded p99 includes.
#   go              benchserver, no limit
#   go-limit        benchserver -ratelimit 200:400 (Namespace.SetRateLimits:
#                   200 events/s per socket, bursts of 400; the excess is
#                   answered with an error ack before any handler)
#   go-disconnect   the same limit with Disconnect: the flooder is dropped
#   node            node/server.js, no limit (socket.io has none built in)
#   node-limit      node/server.js with RATE_LIMIT=200:400: the same token
#                   bucket written as a socket.use() middleware
# Results: DIR/raw.jsonl, DIR/flood.md (medians), DIR/run.log. Default DIR
# is results/<date>-flood. About 10 s per configuration and repetition.
set -euo pipefail
cd "$(dirname "$0")"
BENCH=$PWD

REPS=3
OUT="$BENCH/results/$(date -u +%F)-flood"
while [ $# -gt 0 ]; do
  case "$1" in
    -r) REPS=$2; shift 2 ;;
    -o) OUT=$2; shift 2 ;;
    *) echo "usage: $0 [-r REPS] [-o DIR]" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT"
RAW="$OUT/raw.jsonl"
LOG="$OUT/run.log"
: > "$RAW"
BIN=$(mktemp -d)
SERVER_PID=
stop_server() {
  if [ -n "${SERVER_PID:-}" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
}
trap 'stop_server; rm -rf "$BIN"' EXIT

echo "== build" | tee "$LOG"
go build -o "$BIN/" ./cmd/siobench ./cmd/benchserver ./cmd/benchplot
if [ ! -d node/node_modules/socket.io ]; then
  (cd node && npm ci --no-audit --no-fund --loglevel=error)
fi
RT=(chrt -f 10)
if ! chrt -f 10 true 2>/dev/null; then
  RT=()
  echo "flood.sh: chrt -f refused (not root?): running at normal priority, the machine's other work included" | tee -a "$LOG"
fi
echo "machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); go: $(go version | cut -d' ' -f3), node: $(node --version)" | tee -a "$LOG"

PORT=3300
in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
start_server() {
  PORT=$((PORT + 1))
  while in_use "$PORT"; do PORT=$((PORT + 1)); done
  case "$1" in
    go) "${RT[@]}" taskset -c 0 "$BIN/benchserver" -addr "127.0.0.1:$PORT" >>"$LOG" 2>&1 & ;;
    go-limit) "${RT[@]}" taskset -c 0 "$BIN/benchserver" -addr "127.0.0.1:$PORT" -ratelimit 200:400 >>"$LOG" 2>&1 & ;;
    go-disconnect) "${RT[@]}" taskset -c 0 "$BIN/benchserver" -addr "127.0.0.1:$PORT" -ratelimit 200:400:disconnect >>"$LOG" 2>&1 & ;;
    node) (cd node && exec "${RT[@]}" taskset -c 0 node server.js "$PORT") >>"$LOG" 2>&1 & ;;
    node-limit) (cd node && RATE_LIMIT=200:400 exec "${RT[@]}" taskset -c 0 node server.js "$PORT") >>"$LOG" 2>&1 & ;;
  esac
  SERVER_PID=$!
  for _ in $(seq 100); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/socket.io/?EIO=4&transport=polling")" != 000 ]; then
      return 0
    fi
    sleep 0.1
  done
  echo "server $1 did not start" >&2
  exit 1
}

for rep in $(seq "$REPS"); do
  echo "== repetition $rep of $REPS (load $(cut -d' ' -f1 /proc/loadavg))" | tee -a "$LOG"
  for cfg in go go-limit go-disconnect node node-limit; do
    start_server "$cfg"
    "${RT[@]}" taskset -c 1 "$BIN/siobench" -addr "127.0.0.1:$PORT" -pid "$SERVER_PID" -label "$cfg" -out "$RAW" \
      -scenario flood -c 20 -interval 10ms -warmup 1s -duration 3s | grep -v '^{' | tee -a "$LOG"
    stop_server
  done
done
"$BIN/benchplot" -flood -in "$RAW" -out "$OUT" | tee -a "$LOG"
