#!/usr/bin/env bash
# The main command of the README: builds the tool, then
#  - with IMMICH_URL and IMMICH_API_KEY set: `immich-autotag run` against
#    that server (extra arguments are passed on, e.g. --config FILE);
#  - otherwise: starts the bundled simulated Immich (immich-sim, preset
#    "small", or IMMICH_SIM_PRESET=seed) on 127.0.0.1 with a free port,
#    writes a demo configuration
#    from `immich-autotag config template`, runs the tool against it,
#    shows the summary and where the reports are, and stops the simulator.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

./scripts/setup.sh
./scripts/build.sh build

tool=$root/build/immich-autotag
sim=$root/build/sim/immich-sim

if [ -n "${IMMICH_URL:-}" ] && [ -n "${IMMICH_API_KEY:-}" ]; then
  exec "$tool" run "$@"
fi

if [ ! -x "$sim" ]; then
  echo "run.sh: $sim was not built; set IMMICH_URL and IMMICH_API_KEY to" \
       "run against a real server" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/immich-autotag-demo.XXXXXX")
sim_pid=
cleanup() {
  if [ -n "$sim_pid" ]; then
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT INT TERM

# The simulator prints where it listens (and its API key) on its first
# line, then serves until killed.
"$sim" --preset "${IMMICH_SIM_PRESET:-small}" --seed 1 --bind 127.0.0.1 --port 0 \
  >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
for _ in $(seq 1 100); do
  [ -s "$work/sim.out" ] && break
  sleep 0.1
done
first=$(head -n 1 "$work/sim.out" || true)
url=$(printf '%s\n' "$first" | grep -oE 'http://127\.0\.0\.1:[0-9]+' | head -n 1 || true)
key=$(printf '%s\n' "$first" | sed -n 's/.* api-key=\([^ ]*\).*/\1/p')
if [ -z "$url" ] || [ -z "$key" ]; then
  echo "run.sh: could not read the simulator's address and key from:" >&2
  echo "  $first" >&2
  cat "$work/sim.err" >&2 || true
  exit 1
fi
echo "run.sh: simulated Immich (generated library) at $url"

# The demo configuration: the upstream template with the simulator as
# server (the environment below wins anyway).
port=${url##*:}
"$tool" config template |
  sed -e "s|\"<YOUR_HOST_OR_IP_HERE>\"|\"127.0.0.1\"|" \
      -e "s|^\(  port:\).*|\1 $port|" \
      -e "s|\"<YOUR_API_KEY_HERE>\"|\"$key\"|" >"$work/config.yaml"
chmod 600 "$work/config.yaml"

set +e
IMMICH_URL=$url IMMICH_API_KEY=$key \
  "$tool" run --config "$work/config.yaml" --log-dir "$work/logs_local" "$@" \
  | tee "$work/run.out"
status=${PIPESTATUS[0]}
set -e

rundir=$(tail -n 1 "$work/run.out")
echo
echo "run.sh: exit code $status"
if [ -d "$rundir" ]; then
  echo "run.sh: reports in $rundir:"
  ls -1 "$rundir" | sed 's/^/  /'
fi
echo "run.sh: demo configuration in $work/config.yaml"
exit "$status"
