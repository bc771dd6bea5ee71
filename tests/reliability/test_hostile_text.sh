#!/usr/bin/env bash
# Hostile text (issue 7): control characters, terminal escape sequences and invalid UTF-8
# inside event fields never reach the terminal raw (every text output escapes them), and
# every --json output stays valid JSON.
. "$(dirname "$0")/lib.sh"

db="$work/h.db"
python3 - "$work/in.jsonl" <<'PY'
import sys
esc = "\x1b[2J\x1b]0;pwned\x07"
lines = [
    '{"id":"h1","type":"Order%sPlaced","source":"orders\\r\\nFAKE LINE","time":"2026-03-16T09:00:00Z","correlationid":"c-\\u001b[31mred","data":{"note":"%s"}}' % ("\\u001b[2J", "\\u001b]0;title\\u0007"),
    '{"id":"h2","type":"PaymentAuthorised","source":"pay\\u0007ments","time":"2026-03-16T09:00:01Z","correlationid":"c-\\u001b[31mred","causationid":"h1"}',
]
with open(sys.argv[1], "wb") as f:
    for l in lines:
        f.write(l.encode() + b"\n")
    # raw invalid UTF-8 and a raw ESC byte inside a JSON string
    f.write(b'{"id":"h3\xff\xfe","type":"Bad\\u001b[1mBytes\xc0\xaf","source":"s","time":"2026-03-16T09:00:02Z","correlationid":"c-\\u001b[31mred","causationid":"h2"}\n')
    # a raw ESC inside a JSON string is not JSON: a reject, reported escaped
    f.write(b'{"id":"h4","type":"Raw\x1b[1mEsc","correlationid":"c-\\u001b[31mred"}\n')
PY
"$ES_BIN" -d "$db" ingest "$work/in.jsonl" 2>"$work/ingest.err"
corr=$(printf 'c-\033[31mred')
"$ES_BIN" -d "$db" analyze >"$work/analyze.txt" 2>>"$work/ingest.err"
"$ES_BIN" -d "$db" analyze --json >"$work/analyze.json" 2>/dev/null
"$ES_BIN" -d "$db" trace "$corr" --tree >"$work/tree.txt" 2>&1
"$ES_BIN" -d "$db" trace "$corr" --timeline >"$work/timeline.txt" 2>&1
"$ES_BIN" -d "$db" trace "$corr" --json >"$work/trace.json" 2>/dev/null
"$ES_BIN" -d "$db" processes >"$work/processes.txt" 2>&1
"$ES_BIN" -d "$db" processes --json >"$work/processes.json" 2>/dev/null
"$ES_BIN" -d "$db" query rejects >"$work/rejects.txt" 2>&1
"$ES_BIN" -d "$db" query types --json >"$work/types.json" 2>/dev/null

for f in ingest.err analyze.txt tree.txt timeline.txt processes.txt rejects.txt; do
    if LC_ALL=C grep -q $'[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]' "$work/$f"; then
        bad "$f carries raw control bytes: $(LC_ALL=C grep -n $'[\x01-\x08\x0b-\x1f\x7f]' "$work/$f" | head -2 | od -c | head -3)"
    else
        ok
    fi
done
grep -q 'Order\\x1b\[2JPlaced\|Order\\u001b\[2JPlaced\|Order\\e\[2JPlaced' "$work/tree.txt" && ok || bad "tree does not show the escape visibly: $(head -3 "$work/tree.txt")"
for f in analyze.json trace.json processes.json types.json; do
    if python3 -c 'import json,sys; json.load(open(sys.argv[1], encoding="utf-8"))' "$work/$f" 2>"$work/py.err"; then
        ok
    else
        bad "$f is not valid UTF-8 JSON: $(cat "$work/py.err" | tail -1)"
    fi
done
# the invalid UTF-8 record is kept, repaired and marked; the raw ESC one is a reject
expect_eq "repaired record" "$(sql "$db" "SELECT count(*) FROM events WHERE json_extract(attrs, '$.es_invalid_utf8') = 1;")" 1
expect_eq "raw control character rejected" "$(sql "$db" 'SELECT count(*) FROM rejects;')" 1
# the trace holds all three events
expect_eq "events in trace --json" "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["events"]))' "$work/trace.json")" 3
finish
