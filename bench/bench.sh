#!/usr/bin/env bash
# `npm run bench [-- --quick] [-- --only=size,latency]`: raises the open-file limit the fan-out job
# needs (10,000 connections in each of two processes, plus setup) and runs bench/run.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt 12000 ]; then
  echo "bench: the open-file limit is $(ulimit -n); the fan-out job needs about 12,000 (raise the hard limit)" >&2
fi
exec node bench/run.mjs "$@"
