#!/usr/bin/env bash
# Cross-node broadcast through Redis: a cluster of 2 Go nodes
# (cmd/benchserver -redis, the library's redisadapter) against a cluster of
# 2 Node nodes (node/server.js with REDIS_URL, @socket.io/redis-adapter),
# the same Redis, the same load, in one run.
#
#   bench/cluster.sh [-o FILE] [-r REPS] [-redis URL] [siobench flags...]
#
# For each cluster: fresh nodes on loopback ports, each with its own
# adapter key; siobench's broadcast scenario with its receivers spread
# round-robin over both nodes and the publisher on the first, so every
# message is emitted locally on node 1 and reaches node 2's receivers
# through Redis. Default load: 500 receivers, a 2 s warm-up, a 3 s
# window-limited flood (the deliveries/s each cluster sustains), then
# 10 s at 20 and 10 s at 100 messages/s (10,000 and 50,000 deliveries/s
# offered); about 40 s per cluster. Extra flags go to both runs (e.g.
# -receivers 1000 -rates 50). Server CPU is the sum of both nodes'
# (/proc/PID/stat), Redis's is reported apart when its process is on this
# machine. JSON lines are appended to FILE (default
# bench/results/cluster-<date>.jsonl); Go ÷ Node ratios printed after each
# repetition (-r, default 1: the Go cluster, then the Node cluster).
# Needs Go, Node.js 20+ with npm, curl, and Redis (default
# redis://127.0.0.1:6379).
set -euo pipefail
cd "$(dirname "$0")"
OUT="results/cluster-$(date -u +%F).jsonl"
REDIS=redis://127.0.0.1:6379
REPS=1
while [ $# -gt 0 ]; do
  case "$1" in
    -o) OUT=$2; shift 2 ;;
    -redis) REDIS=$2; shift 2 ;;
    -r) REPS=$2; shift 2 ;;
    *) break ;;
  esac
done
case "$REDIS" in
  redis://127.0.0.1:* | redis://localhost:* | redis://\[::1\]:*) ;;
  *) echo "Redis must be on loopback: $REDIS" >&2; exit 2 ;;
esac
mkdir -p "$(dirname "$OUT")"
BIN=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$BIN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

go build -o "$BIN/" ./cmd/siobench ./cmd/benchserver
if [ ! -d node/node_modules/@socket.io/redis-adapter ]; then
  (cd node && npm ci --no-audit --no-fund --loglevel=error)
fi
rhostport=${REDIS#redis://}
rhostport=${rhostport%%/*}
REDIS_PID=
if command -v redis-cli >/dev/null; then
  REDIS_PID=$(redis-cli -h "${rhostport%:*}" -p "${rhostport##*:}" info server 2>/dev/null | sed -n 's/^process_id:\([0-9]*\).*/\1/p')
  [ -n "$REDIS_PID" ] && [ ! -r "/proc/$REDIS_PID/stat" ] && REDIS_PID=
fi
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r)"
echo "go: $(go version | cut -d' ' -f3), node: $(node --version), socket.io: $(node -p 'require("./node/node_modules/socket.io/package.json").version'), @socket.io/redis-adapter: $(node -p 'require("./node/node_modules/@socket.io/redis-adapter/package.json").version'), redis (npm): $(node -p 'require("./node/node_modules/redis/package.json").version')"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=3300
NODE_PIDS=()
ADDRS=()
# start_node KIND KEY: one cluster node on a free port.
start_node() {
  local kind=$1 key=$2 pid
  PORT=$((PORT + 1))
  while in_use "$PORT"; do PORT=$((PORT + 1)); done
  case "$kind" in
    go) "$BIN/benchserver" -addr "127.0.0.1:$PORT" -redis "$REDIS" -redis-key "$key" & ;;
    node) (cd node && REDIS_URL=$REDIS REDIS_KEY=$key exec node server.js "$PORT") & ;;
  esac
  pid=$!
  PIDS+=("$pid")
  for _ in $(seq 100); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/socket.io/?EIO=4&transport=polling")" != 000 ]; then
      NODE_PIDS+=("$pid")
      ADDRS+=("127.0.0.1:$PORT")
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { echo "$kind node exited on start" >&2; exit 1; }
    sleep 0.1
  done
  echo "$kind node did not start" >&2
  exit 1
}

# ratios: Go ÷ Node from the last two lines of OUT (one repetition).
ratios() {
  tail -n 2 "$OUT" | node -e '
const [g, n] = require("fs").readFileSync(0, "utf8").trim().split("\n").map(JSON.parse);
const r = (a, b) => (b ? (a / b).toFixed(2) : "-");
const row = (name, a, b) => console.log(
  `${name.padEnd(10)} deliveries/s ${a.deliveries_per_s.toFixed(0)} / ${b.deliveries_per_s.toFixed(0)} = ${r(a.deliveries_per_s, b.deliveries_per_s)}` +
  `   p50 ${a.latency.p50_ms.toFixed(2)} / ${b.latency.p50_ms.toFixed(2)} ms = ${r(a.latency.p50_ms, b.latency.p50_ms)}` +
  `   p99 ${a.latency.p99_ms.toFixed(2)} / ${b.latency.p99_ms.toFixed(2)} ms = ${r(a.latency.p99_ms, b.latency.p99_ms)}` +
  `   server µs/delivery ${a.server_cpu_us_per_delivery.toFixed(2)} / ${b.server_cpu_us_per_delivery.toFixed(2)} = ${r(a.server_cpu_us_per_delivery, b.server_cpu_us_per_delivery)}` +
  `   lost ${a.lost}/${b.lost}`);
console.log(`Go ÷ Node (${g.label} / ${n.label}; failures ${g.failures}/${n.failures}):`);
if (g.max && n.max) row("max", g.max, n.max);
for (const s of g.steps) {
  const t = n.steps.find((x) => x.rate === s.rate);
  if (t) row(`${s.rate}/s`, s, t);
}
'
}

for rep in $(seq "$REPS"); do
  echo "== repetition $rep of $REPS"
  for kind in go node; do
    echo "== $kind cluster: 2 nodes, key siobench-cluster-$$-$kind"
    NODE_PIDS=(); ADDRS=()
    start_node "$kind" "siobench-cluster-$$-$kind"
    start_node "$kind" "siobench-cluster-$$-$kind"
    sleep 1 # both adapters subscribed
    "$BIN/siobench" -scenario broadcast -label "$kind-cluster2" \
      -addr "$(IFS=,; echo "${ADDRS[*]}")" -pid "$(IFS=,; echo "${NODE_PIDS[*]}")" \
      ${REDIS_PID:+-redis-pid "$REDIS_PID"} \
      -receivers 500 -warmup 2s -max-phase 3s -rates 20,100 -step 10s -drain 3s \
      -out "$OUT" "$@" | grep -v '^{'
    for p in "${NODE_PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    PIDS=()
  done
  ratios
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "results appended to $OUT"
