#!/usr/bin/env bash
# The benchmark (issue #7): builds a Release tree and runs every
# measurement in one invocation; writes bench/results/latest.json and
# regenerates docs/performance.md.  Long (the baseline sample alone takes a
# few minutes at the seed latency): not part of the test command, whose
# e2e.bench_smoke test runs the small version.
#   scripts/bench.sh [bench.py run options, e.g. --only cold,warm]
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# frame pointers: perf can walk the stacks of the profile
./scripts/build.sh build-bench -DCMAKE_C_FLAGS=-fno-omit-frame-pointer >/dev/null
mkdir -p bench/results
exec python3 bench/bench.py run --build build-bench \
  --out bench/results/latest.json --markdown docs/performance.md \
  --notes bench/notes.md "$@"
