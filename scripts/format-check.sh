#!/usr/bin/env bash
# Fails when a tracked C file does not follow .clang-format (the test
# command runs it).  To fix: clang-format -i FILE (or every file:
#   git ls-files '*.c' '*.h' | xargs clang-format -i).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang-format >/dev/null 2>&1; then
  echo "format-check: clang-format is not installed (scripts/setup.sh)" >&2
  exit 1
fi
files=$(git ls-files '*.c' '*.h')
bad=()
for f in $files; do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    bad+=("$f")
  fi
done
if [ ${#bad[@]} -ne 0 ]; then
  echo "format-check: ${#bad[@]} file(s) do not follow .clang-format:" >&2
  printf '  %s\n' "${bad[@]}" >&2
  echo "fix with: clang-format -i FILE" >&2
  exit 1
fi
echo "format-check: $(echo "$files" | wc -l) files follow .clang-format"
