#!/usr/bin/env bash
# Static analysis: cppcheck over src/ and sim/ with exactly the include
# paths and definitions the build uses (DIR/compile_commands.json; each
# library's own include directory).  Exit 1 on any finding.
#
#   scripts/analyse.sh [DIR]        DIR: a configured build tree (build)
#
# Checks: cppcheck's errors, warnings, portability and performance.  Its
# "style" class is not enabled (mostly variableScope: C89-style
# declarations at the top of a block are this code's style).  __GNUC__ is
# defined as for the compiler, so that cppcheck sees BUG() is noreturn
# (core/common.h).  A false positive is suppressed on its line, with why:
#
#     /* mem is &a only with mn == 1: index 0 (cppcheck cannot tell) */
#     /* cppcheck-suppress objectIndex */
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
if [ ! -f "$dir/compile_commands.json" ]; then
  echo "analyse: no $dir/compile_commands.json: run scripts/build.sh $dir" >&2
  exit 2
fi
cppcheck --project="$dir/compile_commands.json" \
  --file-filter='src/*' --file-filter='sim/*' \
  -D__GNUC__ --std=c11 --enable=warning,portability,performance \
  --inline-suppr --error-exitcode=1 --quiet -j"$(nproc)"
echo "analyse: cppcheck found nothing in src/ and sim/"
