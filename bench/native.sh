#!/usr/bin/env bash
# Native REST load (issue 3): GET /api/meetings for an account with 50 meetings and
# POST /api/meetings, 64 connections each; then argon2 logins at 20 connections while GETs run,
# to show logins (hashed on the blocking pool) do not stall other requests.
# Release server, sync = always, rate limits off, fresh data dir. Usage: bash bench/native.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-20}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet
target="${CARGO_TARGET_DIR:-target}"
sign_up() {
  curl -sf -XPOST "$base/api/auth/register" -d "{\"email\":\"$1\",\"password\":\"secret123\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["apiKey"])'
}
data=$(mktemp -d)
port=3998
CONVENE_STORAGE_PATH="$data" CONVENE_SERVER_PORT=$port CONVENE_RATE_LIMITS_ENABLED=false \
  RUST_LOG=warn "$target/release/convene" &
server=$!
trap 'kill -INT $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$port"
key=$(sign_up load@example.com)
# The POST run writes into its own account, so the GET account keeps exactly 50 meetings.
post_key=$(sign_up writer@example.com)
for n in $(seq 50); do
  curl -sf -XPOST "$base/api/meetings" -H "x-api-key: $key" -d "{\"title\":\"Meeting $n\"}" >/dev/null
done
export CONVENE_KEY="$key"
echo "== GET /api/meetings (50 meetings), 64 connections, ${duration}s"
wrk -t2 -c64 -d"${duration}s" --latency -s bench/get_meetings.lua "$base/api/meetings"
echo "== POST /api/meetings, 64 connections, ${duration}s, sync=always (its own account)"
CONVENE_KEY="$post_key" wrk -t2 -c64 -d"${duration}s" --latency -s bench/post_meeting.lua "$base/api/meetings"
echo "== GET /api/meetings, 8 connections, alone"
wrk -t1 -c8 -d10s --latency -s bench/get_meetings.lua "$base/api/meetings"
echo "== POST /api/auth/login, 20 connections, with GET /api/meetings at 8 connections beside it"
wrk -t1 -c20 -d10s --latency -s bench/login.lua "$base/api/auth/login" > /tmp/convene-login.txt &
logins=$!
wrk -t1 -c8 -d10s --latency -s bench/get_meetings.lua "$base/api/meetings"
wait $logins
echo "-- the logins:"
cat /tmp/convene-login.txt
echo "== server RSS after the runs: $(ps -o rss= -p $server) KiB"
