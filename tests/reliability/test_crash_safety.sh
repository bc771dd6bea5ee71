#!/usr/bin/env bash
# Crash safety (issue 7): SIGKILL `ingest` at random points of a 200k-event load, 20 times.
# After every kill the store passes PRAGMA integrity_check and answers queries; re-running
# the same ingest then completes it with no missing and no duplicate observation.
# Also: SIGINT flushes, prints a summary and exits 130.
. "$(dirname "$0")/lib.sh"

n=${CRASH_EVENTS:-200000}
trials=${CRASH_TRIALS:-20}
python3 "$(dirname "$0")/gen_events.py" "$n" 11 >"$work/in.jsonl"
db="$work/crash.db"
RANDOM=4242

for t in $(seq 1 "$trials"); do
    "$ES_BIN" -d "$db" ingest "$work/in.jsonl" >/dev/null 2>"$work/err.$t" &
    pid=$!
    # 20 ms .. 2 s into the load
    sleep "$(printf '0.%03d' $((20 + RANDOM % 980)))"
    [ $((RANDOM % 2)) -eq 0 ] && sleep 1
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if [ -f "$db" ]; then
        expect_eq "trial $t integrity_check" "$(sql "$db" 'PRAGMA integrity_check;')" ok
        if [ "$(sql "$db" "SELECT count(*) FROM sqlite_master WHERE name='events';")" = 0 ]; then
            # killed while creating the store: the schema is all or nothing
            expect_eq "trial $t: half-made schema" "$(sql "$db" 'SELECT count(*) FROM sqlite_master;')" 0
            echo "trial $t: killed before the schema was committed"
            continue
        fi
        rows=$(sql "$db" 'SELECT count(*) FROM events;')
        dups=$(sql "$db" 'SELECT count(*) - count(DISTINCT origin_id || char(0) || location) FROM events;')
        expect_eq "trial $t duplicate locations" "$dups" 0
        echo "trial $t: killed with $rows rows stored"
    fi
done

# SIGINT mid-load: summary on stderr and exit 130.
"$ES_BIN" -d "$work/int.db" ingest "$work/in.jsonl" >/dev/null 2>"$work/int.err" &
pid=$!
sleep 1
kill -INT "$pid"
wait "$pid"
expect_eq "SIGINT exit status" "$?" 130
grep -q "events stored" "$work/int.err" && ok || bad "SIGINT: no summary line: $(cat "$work/int.err")"
expect_eq "after SIGINT integrity_check" "$(sql "$work/int.db" 'PRAGMA integrity_check;')" ok

# Completing the load adds exactly what is missing.
"$ES_BIN" -d "$db" ingest "$work/in.jsonl" >/dev/null 2>"$work/final.err" || bad "final ingest failed: $(cat "$work/final.err")"
expect_eq "rows after completion" "$(sql "$db" 'SELECT count(*) FROM events;')" "$n"
expect_eq "distinct ids after completion" "$(sql "$db" 'SELECT count(DISTINCT event_id) FROM events;')" "$n"
expect_eq "distinct lines after completion" "$(sql "$db" 'SELECT count(DISTINCT location) FROM events;')" "$n"
expect_eq "final integrity_check" "$(sql "$db" 'PRAGMA integrity_check;')" ok
# the indexes of a store whose bulk load was killed are back
idx=$(sql "$db" "SELECT count(*) FROM sqlite_master WHERE type='index' AND tbl_name='events' AND sql IS NOT NULL;")
[ "$idx" -ge 4 ] && ok || bad "indexes after crashed bulk loads: $idx, want >= 4"
# one more run adds nothing
"$ES_BIN" -d "$db" ingest "$work/in.jsonl" >/dev/null 2>"$work/again.err"
grep -q "^0 events stored, $n already present" "$work/again.err" && ok || bad "re-ingest: $(tail -1 "$work/again.err")"
finish
