#!/usr/bin/env bash
# Runs every test: installs what is missing, builds a normal tree (build/)
# and an AddressSanitizer + UndefinedBehaviorSanitizer tree (build-asan/),
# checks the C files' format (scripts/format-check.sh, .clang-format) and
# that every long static function says what it does
# (scripts/comment-check.sh),
# runs cppcheck over src/ and sim/ (scripts/analyse.sh: a finding fails),
# runs a short libFuzzer session on each fuzz target (the configuration
# loader, the search-page decoder) when clang is there,
# and runs the whole CTest suite in both trees.  The last lines printed are
# CTest's summary for the sanitizer build.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

echo "== format (clang-format)"
./scripts/format-check.sh
echo "== comments (static functions of 40+ lines)"
./scripts/comment-check.sh
echo "== build (normal)"
./scripts/build.sh build
echo "== static analysis (cppcheck)"
./scripts/analyse.sh build
echo "== build (address,undefined sanitizers)"
./scripts/build.sh build-asan -DSANITIZE=address,undefined
if command -v clang >/dev/null 2>&1; then
  echo "== build (libFuzzer targets)"
  CC=clang cmake -S . -B build-fuzz -DFUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build-fuzz --target fuzz_config fuzz_page -j"$(nproc)" \
    >/dev/null
  for f in build-fuzz/tests/fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    name=$(basename "$f")
    corpus=tests/fuzz/corpus/${name#fuzz_}
    work=$(mktemp -d)
    cp -r "$corpus"/. "$work"/ 2>/dev/null || true
    echo "-- $name: 8 s of fuzzing"
    "$f" -max_total_time=8 -timeout=5 -rss_limit_mb=2048 "$work" \
      >"$work.log" 2>&1 || { tail -n 40 "$work.log"; exit 1; }
    grep -E '^Done|#[0-9]+ *DONE' "$work.log" | tail -n 1 || true
    rm -rf "$work" "$work.log"
  done
fi

echo "== tests (normal build)"
(cd build && ctest --output-on-failure -j"$(nproc)")
echo "== tests (sanitizer build)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure -j"$(nproc)")
