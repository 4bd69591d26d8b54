#!/usr/bin/env bash
# Measures how the snapshot's wall time depends on --concurrency against
# immich-sim's capacity model (docs/http-and-snapshot.md records a run).
#   scripts/measure-concurrency.sh [BUILD_DIR] [LATENCY_SCALE] [LEVELS...]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
scale=${2:-0.2}
shift $(( $# > 2 ? 2 : $# ))
levels=${*:-1 2 4 6 8 10 12 16 32}
root=$(pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/ia-concurrency.XXXXXX")
# --profile test: the model docs/http-and-snapshot.md's run was measured
# on (no background jobs, no OFFSET or one-thread cost); SIM_PROFILE=real
# measures the realistic default
"$root/$build/sim/immich-sim" --profile "${SIM_PROFILE:-test}" \
  --preset seed --port 0 --latency seed \
  --latency-scale "$scale" --capacity 10 >"$work/sim.out" 2>"$work/sim.err" &
sim=$!
trap 'kill $sim 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do [ -s "$work/sim.out" ] && break; sleep 0.1; done
first=$(head -n 1 "$work/sim.out")
export IMMICH_URL=${first#listening on }
IMMICH_URL=${IMMICH_URL%% *}
export IMMICH_API_KEY=${first##*api-key=}
config=$root/tests/data/config/upstream-template.yaml
printf '%-12s %8s %9s %14s\n' concurrency wall_s requests sim_in_flight
for c in $levels; do
  curl -fsS -X POST "$IMMICH_URL/__sim/reset-stats" >/dev/null
  start=$(date +%s.%N)
  "$root/$build/immich-autotag" plan --quiet --concurrency "$c" \
    --config "$config" >/dev/null
  end=$(date +%s.%N)
  curl -fsS "$IMMICH_URL/__sim/stats" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("%-12s %8.2f %9d %14d" % (sys.argv[1], float(sys.argv[3]) - float(sys.argv[2]),
      d["requests"], d["max_in_flight"]))' "$c" "$start" "$end"
done
