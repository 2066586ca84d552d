#!/usr/bin/env bash
# REST load: POST /api/meetings with 64 connections from a separate wrk process against the
# release server (sync = always), on a fresh data dir. Usage: bash bench/rest.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-20}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet
data=$(mktemp -d -p target bench-rest.XXXX)
port=3999
CONVENE_STORAGE_PATH="$data" CONVENE_SERVER_PORT=$port RUST_LOG=warn ./target/release/convene &
server=$!
trap 'kill -INT $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
key=$(curl -sf -XPOST "http://127.0.0.1:$port/api/auth/register" \
  -d '{"email":"load@example.com","password":"secret123"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["apiKey"])')
echo "== POST /api/meetings, 64 connections, ${duration}s, sync=always"
CONVENE_KEY="$key" wrk -t2 -c64 -d"${duration}s" --latency -s bench/post_meeting.lua \
  "http://127.0.0.1:$port/api/meetings"
echo "== server RSS after the run: $(ps -o rss= -p $server) KiB"
