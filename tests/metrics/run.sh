#!/usr/bin/env bash
# /metrics scraped by a Prometheus text-format parser nobody here wrote (prometheus_client's,
# from PyPI) before and after a scripted workload, on the real debug server; the counters must
# move by exactly what the workload did. Usage: bash tests/metrics/run.sh [path/to/convene]
set -euo pipefail
cd "$(dirname "$0")/../.."
binary="${1:-${CARGO_TARGET_DIR:-target}/debug/convene}"
cache="${CONVENE_CACHE_DIR:-$HOME/.cache/convene}"
venv="$cache/metrics-venv"
version="0.26.0"
if ! "$venv/bin/pip" show prometheus_client 2>/dev/null | grep -q "^Version: $version$"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "prometheus_client==$version"
fi
"$venv/bin/python" tests/metrics/scrape.py "$binary"
