#!/bin/bash
# check-completion.sh COMPLETION: the generated bash completion offers the
# subcommands, the options, and values where the option has a fixed set.
set -eu
comp=$1
bc=/usr/share/bash-completion/bash_completion
if [ ! -r "$bc" ]; then
  echo "SKIP: $bc missing (Debian package bash-completion)"
  exit 77
fi
# shellcheck disable=SC1090
source "$bc"
source "$comp"
fails=0
# complete WORDS... : COMPREPLY for the last word
complete_words() {
  COMP_WORDS=("$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMP_LINE="${COMP_WORDS[*]}"
  COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  _immich_autotag immich-autotag "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]:-}"
  [ ${#COMPREPLY[@]} -eq 0 ] || printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '
}
expect() { # expect WANT WORDS...
  local want=$1 got
  shift
  got=$(complete_words "$@")
  if [ "$got" != "$want" ]; then
    echo "FAIL: '$*' completed to '$got', not '$want'"
    fails=$((fails + 1))
  fi
}
expect "check config " immich-autotag c
expect "plan " immich-autotag p
expect "apply check config explain history plan report run undo " immich-autotag ""
expect "--concurrency --config --connect-timeout " immich-autotag --con
expect "--api-key-file --api-trace " immich-autotag run --api
expect "json text " immich-autotag --log-format ""
expect "2 3 auto " immich-autotag plan --dialect ""
expect "template " immich-autotag config t
expect "" immich-autotag --concurrency ""
[ "$fails" -eq 0 ] || exit 1
echo "bash completion: 9 cases"
