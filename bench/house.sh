#!/usr/bin/env bash
# Before/after figures for a change of structure (issue 14): GET /api/meetings (50 meetings) and
# POST /api/meetings at 64 connections with wrk, then chat fan-out (20 meetings × 50 on /ws) at
# two offered rates with examples/realtime_load. The server runs on core 0, the load generator
# on core 1 (taskset), each on a fresh data directory, sync = always.
# Usage: bash bench/house.sh [release dir, default $CARGO_TARGET_DIR/release] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
release="${1:-${CARGO_TARGET_DIR:-target}/release}"
duration="${2:-10}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
port=3997
base="http://127.0.0.1:$port"
start_server() {
  data=$(mktemp -d)
  CONVENE_STORAGE_PATH="$data" CONVENE_SERVER_PORT=$port CONVENE_RATE_LIMITS_ENABLED=false \
    CONVENE_REALTIME_EVENTS_PER_SECOND=100000 CONVENE_REALTIME_EVENT_BURST=100000 \
    CONVENE_LIMITS_MAX_PARTICIPANTS=1000 RUST_LOG=warn taskset -c 0 "$release/convene" &
  server=$!
  for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
}
stop_server() { kill -INT $server; wait $server 2>/dev/null || true; rm -rf "$data"; }
sign_up() {
  curl -sf -XPOST "$base/api/auth/register" -d "{\"email\":\"$1\",\"password\":\"secret123\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["apiKey"])'
}
start_server
key=$(sign_up load@example.com)
post_key=$(sign_up writer@example.com)
for n in $(seq 50); do
  curl -sf -XPOST "$base/api/meetings" -H "x-api-key: $key" -d "{\"title\":\"Meeting $n\"}" >/dev/null
done
echo "== GET /api/meetings (50 meetings), 64 connections, ${duration}s"
CONVENE_KEY="$key" taskset -c 1 wrk -t1 -c64 -d"${duration}s" --latency -s bench/get_meetings.lua "$base/api/meetings"
echo "== POST /api/meetings, 64 connections, ${duration}s, sync=always"
CONVENE_KEY="$post_key" taskset -c 1 wrk -t1 -c64 -d"${duration}s" --latency -s bench/post_meeting.lua "$base/api/meetings"
stop_server
for rate in 10000 50000 100000; do
  start_server
  echo "== chat fan-out, 20 meetings × 50 on /ws, $rate deliveries/s offered"
  taskset -c 1 "$release/examples/realtime_load" fanout "$base" 20 50 "$rate" 6 chat
  stop_server
done
