#!/usr/bin/env bash
# Fails when a static function of 40 lines or more in src/ or sim/ has no
# comment right above it (docs/style.md: what it does and why).  The test
# command runs it next to the format check.  A function is counted from
# its first line to its closing brace, as clang-format lays it out: the
# declaration at column 0, "{" and "}" alone on their lines.
#
#   scripts/comment-check.sh            every tracked .c file of src/ and sim/
#   scripts/comment-check.sh FILE...    those files
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then
  set -- $(git ls-files 'src/*.c' 'sim/*.c')
fi
for f in "$@"; do
  [ -r "$f" ] || { echo "comment-check: cannot read $f" >&2; exit 1; }
done
python3 - "$@" <<'EOF'
import re
import sys

MIN_LINES = 40
bad = []
functions = 0
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for i, line in enumerate(lines):
        if line != "{":
            continue
        # the declaration: the lines above "{" back to one that starts at
        # column 0 after a blank line, a comment or another definition
        start = i - 1
        while start > 0:
            above = lines[start - 1]
            if (not above.strip() or above.rstrip().endswith(("*/", ";", "}"))
                    or above.startswith(("#", "//"))):
                break
            start -= 1
        if start < 0 or not lines[start].startswith("static "):
            continue
        end = next((j for j in range(i + 1, len(lines)) if lines[j] == "}"),
                   None)
        if end is None:
            print(f"comment-check: {path}:{i + 1}: no closing brace",
                  file=sys.stderr)
            sys.exit(1)
        functions += 1
        length = end - start + 1
        if length < MIN_LINES:
            continue
        above = lines[start - 1].strip() if start > 0 else ""
        if above.endswith("*/") or above.startswith("//"):
            continue
        name = re.search(r"(\w+)\s*\(", " ".join(lines[start:i]))
        bad.append(f"  {path}:{start + 1}: {name.group(1) if name else '?'} "
                   f"({length} lines)")
if functions == 0:
    print("comment-check: no static function found", file=sys.stderr)
    sys.exit(1)
if bad:
    print(f"comment-check: {len(bad)} static function(s) of {MIN_LINES}+ "
          "lines without a comment above:", file=sys.stderr)
    print("\n".join(bad), file=sys.stderr)
    print("say above each what it does and why (docs/style.md)",
          file=sys.stderr)
    sys.exit(1)
print(f"comment-check: every static function of {MIN_LINES}+ lines "
      f"has a comment ({functions} static functions read)")
EOF
