#!/usr/bin/env bash
# Crash safety (issue 7): SIGKILL `ingest` at random points of a 200k-event load, 20 times
# (a first load, then the load resuming after that crash, ten times over).
# After every kill the store passes PRAGMA integrity_check and answers queries; re-running
# the same ingest then completes it with no missing and no duplicate observation.
# Also: SIGINT flushes, prints a summary and exits 130.
. "$(dirname "$0")/lib.sh"

n=${CRASH_EVENTS:-200000}
trials=${CRASH_TRIALS:-20}
python3 "$(dirname "$0")/gen_events.py" "$n" 11 >"$work/in.jsonl"
db="$work/crash.db"
RANDOM=4242

# How long one whole load takes here: the kills land anywhere inside it, on slow and on fast
# machines alike (a fixed 20 ms..2 s missed the load entirely where it takes 0.8 s).
t0=$(date +%s%N)
"$ES_BIN" -d "$work/calib.db" ingest "$work/in.jsonl" >/dev/null 2>&1 || bad "calibration load failed"
load_ms=$((($(date +%s%N) - t0) / 1000000))
echo "one load: $load_ms ms"

for t in $(seq 1 "$trials"); do
    # odd trials kill a first load, even ones the load that resumes after that crash
    [ $((t % 2)) = 1 ] && rm -f "$db" "$db-wal" "$db-shm"
    "$ES_BIN" -d "$db" ingest "$work/in.jsonl" >/dev/null 2>"$work/err.$t" &
    pid=$!
    # 10 ms .. 95% into a whole load
    ms=$((10 + (RANDOM * 32768 + RANDOM) % (load_ms * 95 / 100 + 1)))
    sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
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

# SIGINT mid-load: summary on stderr and exit 130. The input is a pipe held open, so the
# load is still running when the signal comes however fast the machine is.
mkfifo "$work/pipe"
"$ES_BIN" -d "$work/int.db" ingest - <"$work/pipe" >/dev/null 2>"$work/int.err" &
pid=$!
exec 3>"$work/pipe"
cat "$work/in.jsonl" >&3
sleep 0.5
kill -INT "$pid"
wait "$pid"
expect_eq "SIGINT exit status" "$?" 130
exec 3>&-
stored=$(sed -n 's/.*interrupted: \([0-9]*\) events stored.*/\1/p' "$work/int.err")
[ -n "$stored" ] && ok || bad "SIGINT: no summary line: $(cat "$work/int.err")"
expect_eq "after SIGINT integrity_check" "$(sql "$work/int.db" 'PRAGMA integrity_check;')" ok
expect_eq "after SIGINT: the summary's count is in the store" "$(sql "$work/int.db" 'SELECT count(*) FROM events;')" "$stored"

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
