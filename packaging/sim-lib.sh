# sim-lib.sh: sourced by the packaging checks.
#
# scratch_dir: sets work to a new scratch directory and, with the
# simulator start_sim started there (if any), removes it when the script
# exits.
scratch_dir() {
  work=$(mktemp -d)
  sim_pid=
  trap scratch_cleanup EXIT
}
scratch_cleanup() {
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" || true
  rm -rf "$work"
}

# start_sim BIN DIR starts immich-sim BIN on 127.0.0.1 (any free port, no
# latency), waits for its first line, and sets sim_pid and sim_url and
# writes the API key to DIR/key (mode 0600).  scratch_cleanup (or the
# caller) kills $sim_pid.
start_sim() {
  local bin=$1 dir=$2 line
  "$bin" --port 0 --latency off >"$dir/sim.out" 2>&1 &
  sim_pid=$!
  for _ in $(seq 300); do
    grep -q '^listening on ' "$dir/sim.out" && break
    sleep 0.1
  done
  line=$(head -n 1 "$dir/sim.out")
  sim_url=$(echo "$line" |
            sed -n 's|^listening on \(http://127\.0\.0\.1:[0-9]*\) .*|\1|p')
  if [ -z "$sim_url" ]; then
    echo "immich-sim did not start: $line" >&2
    return 1
  fi
  (umask 077 && echo "$line" | sed 's|.*api-key=||' >"$dir/key")
}
