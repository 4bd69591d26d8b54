#!/bin/bash
# check-units.sh UNIT_DIR BINDIR: the shipped systemd units, configured
# with BINDIR as the binary's directory, pass `systemd-analyze verify`
# with no message at all (unknown keys are only warnings there), and hold
# no comment after a value (systemd reads "# ..." after a value as part of
# the value: the bug of the unit the user guide used to show).
set -eu
src=$1 bindir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for f in "$src"/*; do
  name=$(basename "$f" .in)
  sed "s|@IA_BINDIR@|$bindir|g" "$f" >"$work/$name"
done
if grep -nE '^[^#;[:space:]][^=]*=.*[[:space:]][#;]' "$work"/*; then
  echo "FAIL: a comment after a value becomes part of the value" >&2
  exit 1
fi
if grep -n '@[A-Z_]*@' "$work"/*; then
  echo "FAIL: unreplaced placeholder" >&2
  exit 1
fi
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "SKIP: systemd-analyze missing (Debian package systemd)"
  exit 77
fi
cd "$work"
if ! systemd-analyze verify --man=no ./*.service ./*.timer >"$work/out" 2>&1 ||
   [ -s "$work/out" ]; then
  cat "$work/out" >&2
  echo "FAIL: systemd-analyze verify" >&2
  exit 1
fi
echo "systemd units verified:" *.service *.timer
