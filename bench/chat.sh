#!/usr/bin/env bash
# The chat application end to end (bench/cmd/chatbench): SQLite, then
# PostgreSQL, back to back, with the same load. Each run builds the chat,
# starts it on a loopback port with a fresh database (a temporary SQLite
# file; a temporary schema in the PostgreSQL database of $CHATBENCH_PG,
# dropped afterwards), and prints a summary and one JSON line.
#
#   bench/chat.sh [-o FILE] [chatbench flags...]
#
# The JSON lines are appended to FILE (default
# bench/results/chat-<date>.jsonl). Extra flags go to both runs, e.g.
# -duration 10s -messages 5000. Each run sends for at most -duration
# (default 20 s) plus set-up (sign-ups: one argon2id hash each).
set -euo pipefail
cd "$(dirname "$0")"
OUT="results/chat-$(date -u +%F).jsonl"
if [ "${1:-}" = -o ]; then OUT=$2; shift 2; fi
PG=${CHATBENCH_PG:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
mkdir -p "$(dirname "$OUT")"
BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
go build -o "$BIN/chatbench" ./cmd/chatbench
(cd .. && go build -o "$BIN/chat" ./cmd/chat)
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
for store in sqlite postgres; do
  echo "== $store"
  "$BIN/chatbench" -bin "$BIN/chat" -store "$store" -pg "$PG" -out "$OUT" "$@"
done
echo "results appended to $OUT"
