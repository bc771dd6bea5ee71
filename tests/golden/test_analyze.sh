#!/usr/bin/env bash
# Golden and exit-code tests of `eventscope analyze` (tests/golden/analyze/<case>/: input.*,
# args, expected.json). Inputs are ingested from inside the case directory so locations read
# "input.jsonl:N" on every machine. `--update` rewrites expected.json (review the diff).
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=${ES_BIN:-$here/../../build/eventscope}
export TZ=UTC NO_COLOR=1 LC_ALL=C.UTF-8
unset EVENTSCOPE_DB
update=0
[ "${1:-}" = "--update" ] && update=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }

for dir in "$here"/analyze/*/; do
    name=$(basename "$dir")
    db=$tmp/$name.db
    (cd "$dir" && "$bin" -d "$db" ingest input.* >"$tmp/ingest.out" 2>&1) ||
        { bad "$name: ingest"; cat "$tmp/ingest.out"; continue; }
    cmd=$(grep -v '^[[:space:]]*\(#\|$\)' "$dir/args" | tail -1)
    eval "words=($cmd)"
    "$bin" -d "$db" "${words[@]}" >"$tmp/out.raw" 2>"$tmp/err"
    python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), indent=2))' \
        <"$tmp/out.raw" >"$tmp/out" || { bad "$name: not JSON"; continue; }
    if [ $update = 1 ]; then cp "$tmp/out" "$dir/expected.json"; echo "updated $name"; continue; fi
    if diff -u "$dir/expected.json" "$tmp/out" >"$tmp/diff"; then ok; else
        bad "$name: output differs"; head -60 "$tmp/diff"; fi
done
[ $update = 1 ] && exit 0

# Exit codes, the text report and the findings table, on the shop case.
db=$tmp/shop.db
"$bin" -d "$db" analyze --fail-on duplicate >/dev/null 2>&1; rc=$?
[ $rc = 1 ] && ok || bad "--fail-on duplicate: exit $rc, want 1"
"$bin" -d "$db" analyze --fail-on delivery,ordering.vclock_inconsistent >/dev/null 2>&1; rc=$?
[ $rc = 0 ] && ok || bad "--fail-on with no matching findings: exit $rc, want 0"
"$bin" -d "$db" analyze --fail-on nosuchkind >/dev/null 2>&1; rc=$?
[ $rc = 2 ] && ok || bad "--fail-on nosuchkind: exit $rc, want 2"
"$bin" -d "$db" analyze --bogus >/dev/null 2>&1; rc=$?
[ $rc = 2 ] && ok || bad "unknown option: exit $rc, want 2"
"$bin" -d "$tmp/none.db" analyze >/dev/null 2>&1; rc=$?
[ $rc = 3 ] && ok || bad "missing store: exit $rc, want 3"
printf 'not a database, just text\n' >"$tmp/foreign.db"
"$bin" -d "$tmp/foreign.db" analyze >/dev/null 2>&1; rc=$?
[ $rc = 3 ] && ok || bad "foreign file: exit $rc, want 3"
"$bin" -d "$db" analyze >"$tmp/text" 2>&1 || bad "text report: exit $?"
grep -q 'inventory behind orders by ~' "$tmp/text" && ok || bad "text report lacks the skew line"
grep -q 'input.jsonl:5' "$tmp/text" && ok || bad "text report lacks the duplicate's location"
n=$(sqlite3 "$db" "SELECT count(*) FROM findings")
"$bin" -d "$db" analyze >/dev/null 2>&1
[ "$(sqlite3 "$db" "SELECT count(*) FROM findings")" = "$n" ] && ok ||
    bad "a second run must replace the findings, not add to them"
echo '{"semantic_window_s": 120, "root_types": ["PaymentAuthorised"]}' >"$tmp/cfg.json"
"$bin" -d "$db" analyze --config "$tmp/cfg.json" --json >"$tmp/cfg.out" 2>&1 || bad "--config: exit $?"
grep -q 'metadata.missing_causation_id' "$tmp/cfg.out" && bad "--config root_types ignored" || ok

echo "analyze golden: $pass passed, $fail failed"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
