#!/usr/bin/env bash
# Light-load CPU against the event-driven floor, and latency across rates
# (issue 21): the Go library (cmd/benchserver), the nbio framing-level
# server (cmd/nbioserver: pre-encoded frames written from an epoll poller,
# no Socket.IO layer) and the Node.js reference, each broadcasting to
# RECEIVERS plain-WebSocket receivers at each rate of RATES, a fresh server
# per run, interleaved per repetition, server on CPU 0 and siobench on
# CPU 1 (as run.sh).
#
#   bench/sweep.sh [-r REPS] [-o DIR]
#
# Results: DIR/raw.jsonl (one line per server and repetition, every rate
# inside), DIR/run.log (with the load average before each run) and
# DIR/summary.md (cmd/sweepsummary: median CPU µs per delivery and p99 per
# rate and server, Go/nbio and Go/Node). Default DIR
# bench/results/<date>-sweep; about 6 minutes with 3 repetitions.
set -euo pipefail
cd "$(dirname "$0")"
BENCH=$PWD
REPS=3
OUT="$BENCH/results/$(date -u +%F)-sweep"
while [ $# -gt 0 ]; do
  case "$1" in
    -r) REPS=$2; shift 2 ;;
    -o) OUT=$2; shift 2 ;;
    *) echo "usage: $0 [-r REPS] [-o DIR]" >&2; exit 2 ;;
  esac
done
RECEIVERS=${RECEIVERS:-1000}
RATES=${RATES:-10,20,40,100,200,400}
STEP=${STEP:-3s}
mkdir -p "$OUT"
RAW="$OUT/raw.jsonl"
LOG="$OUT/run.log"
: >"$RAW"
: >"$LOG"
BIN=$(mktemp -d)
SERVER_PID=
stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
}
trap 'stop_server; rm -rf "$BIN"' EXIT
go build -o "$BIN/" ./cmd/siobench ./cmd/benchserver ./cmd/nbioserver ./cmd/sweepsummary
[ -d node/node_modules ] || (cd node && npm ci --no-audit --no-fund --loglevel=error)
echo "go: $(go version | cut -d' ' -f3-), node: $(node --version); receivers $RECEIVERS, rates $RATES, step $STEP, $REPS repetitions" | tee -a "$LOG"

PORT=3500
in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
start_server() { # KIND
  PORT=$((PORT + 1))
  while in_use "$PORT"; do PORT=$((PORT + 1)); done
  case "$1" in
    go) taskset -c 0 "$BIN/benchserver" -addr "127.0.0.1:$PORT" >>"$LOG" 2>&1 & ;;
    nbio) taskset -c 0 "$BIN/nbioserver" -addr "127.0.0.1:$PORT" >>"$LOG" 2>&1 & ;;
    node) (cd node && exec taskset -c 0 node server.js "$PORT") >>"$LOG" 2>&1 & ;;
  esac
  SERVER_PID=$!
  for _ in $(seq 100); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/socket.io/")" != 000 ]; then
      sleep 0.5
      kill -0 "$SERVER_PID" 2>/dev/null || { echo "server $1 exited on start" >&2; exit 1; }
      return 0
    fi
    sleep 0.1
  done
  echo "server $1 did not start" >&2
  exit 1
}

for rep in $(seq "$REPS"); do
  for kind in go nbio node; do
    echo "== $kind, repetition $rep; load average $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$LOG"
    start_server "$kind"
    taskset -c 1 "$BIN/siobench" -addr "127.0.0.1:$PORT" -pid "$SERVER_PID" -server-cpus 0 -label "$kind" \
      -scenario broadcast -receivers "$RECEIVERS" -warmup 500ms -max-phase 0 -rates "$RATES" -step "$STEP" \
      -drain 2s -max-p99 10s -out "$RAW" | grep -v '^{' | tee -a "$LOG"
    stop_server
  done
done
"$BIN/sweepsummary" -in "$RAW" -out "$OUT/summary.md" | tee -a "$LOG"
