#!/usr/bin/env bash
# Golden test runner: each case directory holds input files (input.jsonl, input.log, ...),
# an `args` file and the expected output (expected.json, or expected.txt for text).
#
#   args: one command per line, words split as the shell does ('#' lines are comments).
#         Every line but the last prepares the store: eventscope commands, or
#         `sql STATEMENT` run with sqlite3 (e.g. to plant findings rows). The last line's
#         stdout is the output under test. The inputs are ingested first, in name order.
#
# usage: tests/golden/run.sh [CASE_DIR...]      (default: every case of trace/, processes/)
#        tests/golden/run.sh --update CASE_DIR  (rewrite expected.*; review the diff)
# env:   ES_BIN (default build/eventscope)
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=${ES_BIN:-$here/../../build/eventscope}
export TZ=UTC NO_COLOR=1 LC_ALL=C.UTF-8
unset EVENTSCOPE_DB
update=0
if [ "${1:-}" = "--update" ]; then update=1; shift; fi

# Areas this runner owns; others (pcap/) come with their own runner.
areas=(trace processes query)
if [ $# -eq 0 ]; then
    mapfile -t cases < <(for a in "${areas[@]}"; do [ -d "$here/$a" ] &&
        find "$here/$a" -mindepth 2 -name args -printf '%h\n'; done | sort)
else
    cases=("$@")
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Pretty-prints JSON with keys in their original order, so expected files diff well.
normalize_json() {
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps(d, indent=2, ensure_ascii=False))'
}

pass=0 fail=0
for dir in "${cases[@]}"; do
    dir=$(cd "$dir" && pwd)
    name=${dir#"$here"/}
    db=$tmp/$(echo "$name" | tr / _).db
    rm -f "$db" "$db-wal" "$db-shm"
    inputs=()
    for f in "$dir"/input.*; do [ -e "$f" ] && inputs+=("$f"); done
    if [ ${#inputs[@]} -gt 0 ] && ! "$bin" -d "$db" ingest "${inputs[@]}" >"$tmp/ingest.out" 2>&1; then
        echo "FAIL $name: ingest failed"; cat "$tmp/ingest.out"; fail=$((fail + 1)); continue
    fi
    mapfile -t lines < <(grep -v '^[[:space:]]*\(#\|$\)' "$dir/args")
    ok=1
    for ((i = 0; i < ${#lines[@]} - 1; i++)); do
        if [[ ${lines[$i]} == "sql "* ]]; then
            sqlite3 "$db" "${lines[$i]#sql }" >"$tmp/setup.out" 2>&1 || ok=0
        else
            eval "words=(${lines[$i]})"
            "$bin" -d "$db" "${words[@]}" >"$tmp/setup.out" 2>&1 || ok=0
        fi
        if [ $ok = 0 ]; then
            echo "FAIL $name: setup '${lines[$i]}' failed"; cat "$tmp/setup.out"; break
        fi
    done
    [ $ok = 1 ] || { fail=$((fail + 1)); continue; }
    eval "words=(${lines[${#lines[@]} - 1]})"
    "$bin" -d "$db" "${words[@]}" >"$tmp/out.raw" 2>"$tmp/err.out"
    rc=$?
    if [ -e "$dir/expected.txt" ] || { [ $update = 1 ] && [[ " ${words[*]} " != *" --json "* ]]; }; then
        expected=$dir/expected.txt
        cp "$tmp/out.raw" "$tmp/out"
    else
        expected=$dir/expected.json
        if ! normalize_json <"$tmp/out.raw" >"$tmp/out" 2>"$tmp/json.err"; then
            echo "FAIL $name: output is not JSON (exit $rc)"; head -c 2000 "$tmp/out.raw"
            cat "$tmp/err.out"; fail=$((fail + 1)); continue
        fi
    fi
    if [ $update = 1 ]; then
        cp "$tmp/out" "$expected"
        echo "updated $name/$(basename "$expected") (exit $rc)"
        continue
    fi
    if [ $rc -ne 0 ]; then
        echo "FAIL $name: exit $rc"; cat "$tmp/err.out"; fail=$((fail + 1)); continue
    fi
    if diff -u "$expected" "$tmp/out" >"$tmp/diff"; then
        pass=$((pass + 1))
    else
        echo "FAIL $name: output differs from $(basename "$expected")"; head -80 "$tmp/diff"
        fail=$((fail + 1))
    fi
done
[ $update = 1 ] && exit $((fail > 0))
echo "golden: $pass passed, $fail failed"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
