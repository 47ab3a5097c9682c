#!/usr/bin/env bash
# Transport experiments behind the proposals in BENCHMARKS.md: idle memory
# per connection and CPU per broadcast delivery of framing-level servers
# (bareserver variants, nbioserver), same generator and pinning as run.sh.
#
#   bench/experiments.sh [-o DIR] [-n CONNS]
#
# Appends JSON lines to DIR/experiments.jsonl (default
# bench/results/<date>/); about three minutes. ONLY_NBIO=1 runs just the nbio rows.
set -euo pipefail
cd "$(dirname "$0")"
OUT="$PWD/results/$(date -u +%F)"
N=10000
while [ $# -gt 0 ]; do
  case "$1" in
    -o) OUT=$2; shift 2 ;;
    -n) N=$2; shift 2 ;;
    *) echo "usage: $0 [-o DIR] [-n CONNS]" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT"
BIN=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$BIN"' EXIT
go build -o "$BIN/" ./cmd/siobench ./cmd/bareserver ./cmd/nbioserver
PORT=3300

# in_use PORT: something already listens there (e.g. MariaDB on 3306).
in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

run() { # label scenario-args... -- server command...
  local label=$1; shift
  local args=()
  while [ "$1" != -- ]; do args+=("$1"); shift; done
  shift
  PORT=$((PORT + 1))
  while in_use "$PORT"; do PORT=$((PORT + 1)); done
  taskset -c 0 "$@" -addr "127.0.0.1:$PORT" >/dev/null 2>&1 &
  PID=$!
  for _ in $(seq 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/socket.io/")" != 000 ] && break
    sleep 0.1
  done
  sleep 0.5
  if ! kill -0 "$PID" 2>/dev/null; then
    echo "server $label exited on start (port $PORT)" >&2; exit 1
  fi
  taskset -c 1 "$BIN/siobench" -addr "127.0.0.1:$PORT" -pid "$PID" -server-cpus 0 -label "$label" \
    -out "$OUT/experiments.jsonl" "${args[@]}" | grep -v '^{'
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
}

CONNS=(-scenario conns -n "$N" -checkpoints "" -rate 2000 -hold 3s)
BCAST=(-scenario broadcast -receivers 1000 -rates 50 -step 2500ms -max-phase 3s)
if [ "${ONLY_NBIO:-0}" = 0 ]; then
for v in "persistent handler 0" "ondemand handler 0" "persistent goroutine 0" "ondemand goroutine 0" "ondemand goroutine 512"; do
  read -r w r b <<<"$v"
  run "bare-$w-$r-rb$b" "${CONNS[@]}" -- "$BIN/bareserver" -writer "$w" -reader "$r" -readbuf "$b"
done
fi
run nbio "${CONNS[@]}" -- "$BIN/nbioserver"
[ "${ONLY_NBIO:-0}" = 0 ] && run "bare-ondemand-goroutine-rb0" "${BCAST[@]}" -- "$BIN/bareserver" -writer ondemand -reader goroutine
run nbio "${BCAST[@]}" -- "$BIN/nbioserver"
run nbio -scenario echo -c 50 -warmup 1s -duration 4s -- "$BIN/nbioserver"
