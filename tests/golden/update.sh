#!/usr/bin/env bash
# Rewrites expected.json (or expected.txt) of the named golden cases from the current
# binary. The diff is reviewed like code.
#   usage: tests/golden/update.sh trace/chain [processes/basic ...]
#   env:   ES_BIN (default build/eventscope)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || { echo "usage: $0 AREA/CASE..." >&2; exit 2; }
for c in "$@"; do
    [ -f "$here/$c/args" ] || { echo "$0: no case $c (no $here/$c/args)" >&2; exit 2; }
    bash "$here/run.sh" --update "$here/$c"
done
