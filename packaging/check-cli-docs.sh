#!/bin/sh
# check-cli-docs.sh CLI_GEN DOCS/CLI.MD: the option table of docs/cli.md
# (between its "options:begin" and "options:end" markers) is what cli-gen
# derives from the option table.  To update it: CLI_GEN markdown.
set -eu
gen=$1 doc=$2
want=$(mktemp) have=$(mktemp)
trap 'rm -f "$want" "$have"' EXIT
"$gen" markdown >"$want"
sed -n '/<!-- options:begin/,/<!-- options:end/p' "$doc" | sed '1d;$d' >"$have"
if [ ! -s "$have" ]; then
  echo "$doc: no options:begin/options:end markers" >&2
  exit 1
fi
if ! diff -u "$have" "$want"; then
  echo "$doc: the option table differs from the parser's; replace it with" \
       "the output of '$gen markdown'" >&2
  exit 1
fi
echo "docs/cli.md option table: $(wc -l <"$want") lines, as generated"
