#!/usr/bin/env bash
# Every queries/*.sql runs with sqlite3 exactly as its header's "Run with sqlite3:" line
# says, and gives the same rows as `eventscope query NAME` (the embedded copy), on the
# store made from samples/ecommerce.
set -u
: "${ES_BIN:?ES_BIN must name the eventscope binary}"
: "${ES_SRC:?ES_SRC must name the source tree}"
command -v sqlite3 >/dev/null || { echo "sqlite3 not installed: apt-get install sqlite3"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
db=$tmp/eventscope.db
"$ES_BIN" -d "$db" ingest "$ES_SRC/samples/ecommerce" >/dev/null 2>&1 || { echo "ingest failed"; exit 1; }

fail=0 n=0
for f in "$ES_SRC"/queries/*.sql; do
    name=$(basename "$f" .sql)
    run=$(grep -A1 '^-- Run with sqlite3:' "$f" | tail -1 | sed 's/^--[[:space:]]*//')
    case $run in
    sqlite3*) ;;
    *) echo "FAIL $name: no 'Run with sqlite3:' line"; fail=1; continue ;;
    esac
    # The documented command, pointed at this store and this source tree, JSON mode.
    cmd=${run/sqlite3 /sqlite3 -json }
    cmd=${cmd//eventscope.db/\"$db\"}
    cmd=${cmd//queries\//\"$ES_SRC\"/queries/}
    (cd "$tmp" && eval "$cmd") >"$tmp/a.json" 2>"$tmp/a.err" || {
        echo "FAIL $name: '$run' failed:"; cat "$tmp/a.err"; fail=1; continue; }
    # The same parameters given to eventscope query as name=value.
    params=()
    while read -r p v; do params+=("${p#:}=$v"); done < <(
        echo "$run" | grep -o '\.param set :[a-z_]* [^"]*' | sed 's/^\.param set //')
    "$ES_BIN" -d "$db" query "$name" "${params[@]}" --json >"$tmp/b.json" 2>"$tmp/b.err" || {
        echo "FAIL $name: eventscope query failed:"; cat "$tmp/b.err"; fail=1; continue; }
    if ! python3 - "$tmp/a.json" "$tmp/b.json" <<'PY'
import json, sys
def load(p):
    t = open(p).read().strip()
    return json.loads(t) if t else []
a, b = load(sys.argv[1]), load(sys.argv[2])
if a != b:
    print("rows differ: sqlite3 gave %d, eventscope %d" % (len(a), len(b)))
    for x, y in zip(a, b):
        if x != y:
            print(" sqlite3:   ", x); print(" eventscope:", y); break
    sys.exit(1)
PY
    then echo "FAIL $name"; fail=1; continue; fi
    rows=$(python3 -c 'import json,sys; t=open(sys.argv[1]).read().strip(); print(len(json.loads(t)) if t else 0)' "$tmp/a.json")
    echo "ok   $name ($rows rows)"
    n=$((n + 1))
done
[ $n -ge 8 ] || { echo "FAIL: only $n queries checked"; fail=1; }
exit $fail
