#!/usr/bin/env bash
# Deployment paths (issue 21): the Go library (cmd/benchserver) against the
# Node.js reference (node/server.js) on the paths users deploy besides
# plain-TCP WebSocket, same scenarios, same run, interleaved per path:
#
#   plain        ws:// (the reference point of run.sh, at these sizes)
#   tls          wss://               (self-signed certificate made here)
#   polling      http:// long-polling clients that never upgrade
#   polling-front  the same, the Go server reading polling with its own
#                HTTP front (Server.Serve, benchserver -front) instead of
#                net/http; Node as for polling
#   tls-polling  https:// long-polling
#   tls-front, tls-polling-front  tls and tls-polling with the Go server's
#                HTTP front over TLS (Server.ServeTLS, benchserver -front)
#   deflate      ws:// with permessage-deflate offered as browsers do
#                (echo/broadcast payload DEFLATE_PAYLOAD bytes, default
#                2048, above both servers' 1024-byte compression threshold)
#
#   bench/paths.sh [-paths plain,tls,tls-front,polling,polling-front,tls-polling,tls-polling-front,deflate] [-o DIR] [-profile]
#   bench/paths.sh -capacity FDS [-paths ...] [-o DIR]
#
# Each path × server: conns (N idle clients: KiB per client), echo (CPU µs
# per ack), broadcast (window-limited flood: deliveries/s per receiver; then
# light rates: CPU µs per delivery). Every scenario starts a fresh server on
# CPU 0, siobench on CPU 1. -profile adds, per path, a Go-only pass: heap
# profile with N idle clients held, CPU profile at the light broadcast rate
# (DIR/profiles/<path>.*). Results: DIR/raw.jsonl, DIR/summary.md (Go/Node
# ratios against issue 21's targets, by cmd/pathsummary), DIR/run.log with
# the load average before each scenario. Default DIR:
# bench/results/<date>-paths. About 6 minutes (8 with -profile).
set -euo pipefail
cd "$(dirname "$0")"
BENCH=$PWD

PATHS=plain,tls,tls-front,polling,polling-front,tls-polling,tls-polling-front,deflate
OUT="$BENCH/results/$(date -u +%F)-paths"
PROFILE=0
CAPACITY=0
while [ $# -gt 0 ]; do
  case "$1" in
    -paths) PATHS=$2; shift 2 ;;
    -o) OUT=$2; shift 2 ;;
    -profile) PROFILE=1; shift ;;
    -capacity) CAPACITY=$2; shift 2 ;;
    *) echo "usage: $0 [-paths LIST] [-o DIR] [-profile] [-capacity FDS]" >&2; exit 2 ;;
  esac
done

# Sizes (environment overrides). A polling client holds two descriptors
# (its pending GET and its POST connection) in each process.
CONNS=${CONNS:-2000}
RECEIVERS=${RECEIVERS:-500}
ECHO_C=${ECHO_C:-50}
LIGHT_RATES=${LIGHT_RATES:-10,20}
STEP=${STEP:-2s}
DEFLATE_PAYLOAD=${DEFLATE_PAYLOAD:-2048}
# -capacity FDS: only the idle-connection scenario, each server holding
# FDS descriptors of clients (a polling client holds two: FDS/2 clients),
# opened at CONNS_RATE per second (default 2000) and held for
# CAPACITY_HOLD (default 10s; past the 25 s ping interval it measures
# the heartbeats' CPU): the failures during the ramp and the hold, and
# the memory per client.
CONNS_RATE=${CONNS_RATE:-2000}
CAPACITY_HOLD=${CAPACITY_HOLD:-10s}
limit=$(ulimit -n)
if [ "$CAPACITY" -gt 0 ]; then
  if [ "$limit" -lt $((CAPACITY + 100)) ]; then
    echo "open-file limit $limit is below $((CAPACITY + 100)): raise it (ulimit -n) or lower -capacity" >&2
    exit 1
  fi
  [ "$OUT" != "$BENCH/results/$(date -u +%F)-paths" ] || OUT="$BENCH/results/$(date -u +%F)-capacity"
elif [ "$limit" -lt $((2 * CONNS + 200)) ]; then
  echo "open-file limit $limit is below $((2 * CONNS + 200)): raise it (ulimit -n) or lower CONNS" >&2
  exit 1
fi
command -v openssl >/dev/null || { echo "openssl is needed for the self-signed certificate" >&2; exit 1; }

mkdir -p "$OUT"
RAW="$OUT/raw.jsonl"
LOG="$OUT/run.log"
: > "$RAW"
TMP=$(mktemp -d)
SERVER_PID=
stop_server() {
  if [ -n "${SERVER_PID:-}" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
}
trap 'stop_server; rm -rf "$TMP"' EXIT

echo "== build" | tee "$LOG"
go build -o "$TMP/" ./cmd/siobench ./cmd/benchserver ./cmd/pathsummary
if [ ! -d node/node_modules/socket.io ]; then
  (cd node && npm ci --no-audit --no-fund --loglevel=error)
fi
# A throw-away certificate for 127.0.0.1 (ECDSA P-256, what a current
# deployment would get from an ACME CA).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
{
  echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r)"
  echo "go: $(go version | cut -d' ' -f3-), node: $(node --version), socket.io: $(node -p 'require("./node/node_modules/socket.io/package.json").version'), ws: $(node -p 'require("./node/node_modules/ws/package.json").version'), $(openssl version)"
  [ "$CAPACITY" = 0 ] || echo "capacity: $CAPACITY client descriptors per server at $CONNS_RATE/s, held $CAPACITY_HOLD"
  echo "sizes: conns $CONNS, receivers $RECEIVERS, echo clients $ECHO_C, light rates $LIGHT_RATES, deflate payload $DEFLATE_PAYLOAD"
} | tee -a "$LOG"

PORT=3300
in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# path_flags PATH: sets GO_ARGS, NODE_ENV, GEN_ARGS, SCHEME, PAYLOAD.
path_flags() {
  GO_ARGS=(); NODE_ENV=(); GEN_ARGS=(); SCHEME=http; PAYLOAD=64
  case "$1" in
    plain) ;;
    tls) GO_ARGS=(-tls-cert "$TMP/cert.pem" -tls-key "$TMP/key.pem")
         NODE_ENV=(TLS_CERT="$TMP/cert.pem" TLS_KEY="$TMP/key.pem"); GEN_ARGS=(-tls); SCHEME=https ;;
    polling) GEN_ARGS=(-transport polling) ;;
    polling-front) GO_ARGS=(-front); GEN_ARGS=(-transport polling) ;;
    tls-polling) GO_ARGS=(-tls-cert "$TMP/cert.pem" -tls-key "$TMP/key.pem")
         NODE_ENV=(TLS_CERT="$TMP/cert.pem" TLS_KEY="$TMP/key.pem"); GEN_ARGS=(-tls -transport polling); SCHEME=https ;;
    tls-front) GO_ARGS=(-front -tls-cert "$TMP/cert.pem" -tls-key "$TMP/key.pem")
         NODE_ENV=(TLS_CERT="$TMP/cert.pem" TLS_KEY="$TMP/key.pem"); GEN_ARGS=(-tls); SCHEME=https ;;
    tls-polling-front) GO_ARGS=(-front -tls-cert "$TMP/cert.pem" -tls-key "$TMP/key.pem")
         NODE_ENV=(TLS_CERT="$TMP/cert.pem" TLS_KEY="$TMP/key.pem"); GEN_ARGS=(-tls -transport polling); SCHEME=https ;;
    deflate) GO_ARGS=(-deflate); NODE_ENV=(PERMESSAGE_DEFLATE=1); GEN_ARGS=(-deflate); PAYLOAD=$DEFLATE_PAYLOAD ;;
    *) echo "unknown path $1" >&2; exit 2 ;;
  esac
}

start_server() { # KIND
  PORT=$((PORT + 1))
  while in_use "$PORT" || in_use "$((PORT + 1000))"; do PORT=$((PORT + 1)); done
  case "$1" in
    go) taskset -c 0 "$TMP/benchserver" -addr "127.0.0.1:$PORT" -debug "127.0.0.1:$((PORT + 1000))" "${GO_ARGS[@]}" >>"$LOG" 2>&1 & ;;
    node) (cd node && exec env "${NODE_ENV[@]}" taskset -c 0 node server.js "$PORT") >>"$LOG" 2>&1 & ;;
  esac
  SERVER_PID=$!
  for _ in $(seq 100); do
    if [ "$(curl -sk -o /dev/null -w '%{http_code}' "$SCHEME://127.0.0.1:$PORT/socket.io/?EIO=4&transport=polling")" != 000 ]; then
      sleep 0.5
      kill -0 "$SERVER_PID" 2>/dev/null || { echo "server $1 exited on start" >&2; exit 1; }
      return 0
    fi
    sleep 0.1
  done
  echo "server $1 did not start" >&2
  exit 1
}

gen() { # LABEL ARGS...: siobench against the running server
  local label=$1; shift
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$LOG"
  taskset -c 1 "$TMP/siobench" -addr "127.0.0.1:$PORT" -pid "$SERVER_PID" -server-cpus 0 -label "$label" \
    "${GEN_ARGS[@]}" -out "$RAW" "$@" | grep -v '^{' | sed "s/\$/  [load $(cut -d' ' -f1 /proc/loadavg)]/" | tee -a "$LOG"
}

scenario() { # KIND PATH SCENARIO-ARGS...: one scenario against a fresh server
  local kind=$1 path=$2; shift 2
  start_server "$kind"
  gen "$kind-$path" "$@"
  stop_server
}

start=$(date +%s)
IFS=, read -r -a path_list <<<"$PATHS"
for path in "${path_list[@]}"; do
  path_flags "$path"
  echo "== $path ($(( $(date +%s) - start ))s)" | tee -a "$LOG"
  if [ "$CAPACITY" -gt 0 ]; then
    n=$CAPACITY
    case "$path" in *polling|*polling-front) n=$((CAPACITY / 2)) ;; esac
    for kind in go node; do
      scenario "$kind" "$path" -scenario conns -n "$n" -checkpoints $((n / 2)) -rate "$CONNS_RATE" -hold "$CAPACITY_HOLD" -dial-timeout 30s
    done
    continue
  fi
  for kind in go node; do
    scenario "$kind" "$path" -scenario conns -n "$CONNS" -checkpoints $((CONNS / 2)) -rate 1000 -hold 3s
    scenario "$kind" "$path" -scenario echo -c "$ECHO_C" -warmup 1s -duration 3s -payload "$PAYLOAD"
    scenario "$kind" "$path" -scenario broadcast -receivers "$RECEIVERS" -payload "$PAYLOAD" -warmup 500ms \
      -max-phase 2s -rates "$LIGHT_RATES" -step "$STEP" -drain 3s -max-p99 10s
  done
  if [ "$PROFILE" = 1 ]; then
    P="$OUT/profiles"; mkdir -p "$P"
    start_server go
    dbg="127.0.0.1:$((PORT + 1000))"
    gen "go-$path-profile" -scenario conns -n "$CONNS" -checkpoints "" -rate 1000 -hold 10s >/dev/null &
    g=$!
    sleep $(( CONNS / 1000 + 5 ))
    curl -s "http://$dbg/debug/memstats?gc=1" > "$P/$path.idle.memstats.json"
    curl -s "http://$dbg/debug/pprof/heap" > "$P/$path.idle.heap.pb.gz"
    grep -E 'VmRSS' "/proc/$SERVER_PID/status" > "$P/$path.idle.rss.txt"
    wait "$g"; stop_server
    start_server go
    dbg="127.0.0.1:$((PORT + 1000))"
    light=${LIGHT_RATES##*,}
    gen "go-$path-profile" -scenario broadcast -receivers "$RECEIVERS" -payload "$PAYLOAD" -warmup 500ms -max-phase 0 \
      -rates "$light" -step 12s -drain 2s -max-p99 10s >/dev/null &
    g=$!
    sleep 5
    curl -s "http://$dbg/debug/pprof/profile?seconds=6" > "$P/$path.broadcast.cpu.pb.gz"
    wait "$g"; stop_server
    go tool pprof -sample_index=inuse_space -top -nodecount=25 "$P/$path.idle.heap.pb.gz" > "$P/$path.idle.heap.top.txt" 2>/dev/null || true
    go tool pprof -top -nodecount=40 "$P/$path.broadcast.cpu.pb.gz" > "$P/$path.broadcast.cpu.top.txt" 2>/dev/null || true
    go tool pprof -top -cum -nodecount=40 "$P/$path.broadcast.cpu.pb.gz" > "$P/$path.broadcast.cpu.cum.txt" 2>/dev/null || true
  fi
done
echo "== done in $(( $(date +%s) - start ))s; load average $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$LOG"
if [ "$CAPACITY" -gt 0 ]; then
  # Only idle connections were measured: the held figures are the summary.
  grep -E '^conns .* held ' "$LOG" | tee "$OUT/summary.md"
else
  "$TMP/pathsummary" -in "$RAW" -out "$OUT/summary.md" -light "${LIGHT_RATES##*,}" | tee -a "$LOG"
fi
