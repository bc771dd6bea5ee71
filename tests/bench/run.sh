#!/usr/bin/env bash
# The store's write-path benchmark (issue 2, "Performance"); `make bench` runs it as
#   bash tests/bench/run.sh BUILD_DIR
# It is never a ctest test. Steps:
#   1. generate N CloudEvents JSON lines (gen_events.c: ~575 B, UUIDv4 ids, ~5 events per
#      correlation id, causation chains);
#   a. ingest them into a fresh store: `eventscope ingest` when the command is built, and
#      always through ingest_driver.c (the same jansson + envelope + sink path, no CLI);
#   b./c. the Python json+sqlite3 scripts, indexes up front / created after the load;
#   d. ceiling.c: a plain C program inserting the already-parsed rows, same indexes;
#   e. appending 100k events to a store holding 10M (BENCH_BIG=0 skips; the 10M store is
#      kept in the work directory and reused; each run appends a new origin);
#   then every tests/bench/bench_*.sh (other parts' benchmarks) with BUILD_DIR.
# Peak memory comes from /usr/bin/time -v. Environment: BENCH_N (1000000), BENCH_BIG (1),
# BENCH_BIG_N (10000000), BENCH_DIR (BUILD_DIR/bench), BENCH_RECORD=1 appends the summary
# to tests/bench/RESULTS.md.
set -euo pipefail

BUILD=${1:-build}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "$BUILD" && pwd)
HERE="$SRC/tests/bench"
N=${BENCH_N:-1000000}
BIG=${BENCH_BIG:-1}
BIG_N=${BENCH_BIG_N:-10000000}
WORK=${BENCH_DIR:-$BUILD/bench}
ES_BIN=${ES_BIN:-$BUILD/eventscope}
mkdir -p "$WORK"
SUMMARY="$WORK/summary.txt"
: >"$SUMMARY"

if [ ! -x /usr/bin/time ]; then
    echo "bench: /usr/bin/time is missing: apt-get install time" >&2
    exit 3
fi

say() { echo "$*" | tee -a "$SUMMARY"; }

# --- build the helpers against the build's libraries ---------------------------------
CFLAGS="-O2 -g -std=c11 -D_GNU_SOURCE -I$SRC -I$BUILD"
LIBS="$BUILD/libes_core.a -lsqlite3 -ljansson -lpthread -lm"
cc $CFLAGS -o "$WORK/gen_events" "$HERE/gen_events.c"
cc $CFLAGS -o "$WORK/ingest_driver" "$HERE/ingest_driver.c" "$SRC/collector/sink.c" "$SRC/collector/redact.c" $LIBS
cc $CFLAGS -o "$WORK/ceiling" "$HERE/ceiling.c" $LIBS

# Runs a command under /usr/bin/time -v; sets RATE (from "rate R" in its output) and RSS_MB.
measure() {
    local label=$1 out
    shift
    out=$( { /usr/bin/time -v "$@" 2>"$WORK/time.txt"; } ) || {
        echo "bench: $label failed:" >&2
        cat "$WORK/time.txt" >&2
        exit 3
    }
    RATE=$(echo "$out" | sed -n 's/.* rate \([0-9]*\).*/\1/p' | tail -1)
    RSS_MB=$(( $(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.txt") / 1024 ))
    WALL=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/time.txt")
    CPU=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.1f", s }' "$WORK/time.txt")
    say "$(printf '%-44s %8s ev/s  peak RSS %4s MB  wall %s  cpu %s s' "$label" "$RATE" "$RSS_MB" "$WALL" "$CPU")"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# --- 1. input -------------------------------------------------------------------------
IN="$WORK/events-$N.jsonl"
if [ ! -s "$IN" ]; then
    echo "bench: generating $N events into $IN"
    "$WORK/gen_events" "$N" 1 >"$IN"
fi
say "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%dT%H:%MZ)"
say "input: $N CloudEvents lines, $(( $(stat -c %s "$IN") / N )) B average ($IN)"
say "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine slows every line alike)"

# --- a. our ingest ----------------------------------------------------------------------
ours=0
if "$ES_BIN" ingest --help >/dev/null 2>&1; then
    rm -f "$WORK/cli.db" "$WORK/cli.db-wal" "$WORK/cli.db-shm"
    start=$(date +%s.%N)
    /usr/bin/time -v "$ES_BIN" -d "$WORK/cli.db" ingest "$IN" >/dev/null 2>"$WORK/time.txt" || {
        echo "bench: eventscope ingest failed" >&2; tail -5 "$WORK/time.txt" >&2; exit 3; }
    end=$(date +%s.%N)
    RATE=$(awk -v n="$N" -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", n / (b - a) }')
    RSS_MB=$(( $(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.txt") / 1024 ))
    CPU=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.1f", s }' "$WORK/time.txt")
    say "$(printf '%-44s %8s ev/s  peak RSS %4s MB  cpu %s s' "a. eventscope ingest (end to end)" "$RATE" "$RSS_MB" "$CPU")"
    ours=$RATE
fi
rm -f "$WORK/drv.db" "$WORK/drv.db-wal" "$WORK/drv.db-shm"
measure "a. ingest_driver (jansson+envelope+sink)" "$WORK/ingest_driver" "$WORK/drv.db" "$IN"
drv=$RATE
[ "$ours" = 0 ] && ours=$drv
# The result must be indexed and queryable.
q=$(sqlite3 "$WORK/drv.db" "SELECT count(*) FROM events; SELECT count(*) FROM sqlite_schema WHERE name LIKE 'events\_%' ESCAPE '\\';" | tr '\n' ' ')
say "   store after the load: rows, indexes = $q"
plan=$(sqlite3 "$WORK/drv.db" "EXPLAIN QUERY PLAN SELECT * FROM events WHERE correlation_id = 'x'")
echo "$plan" | grep -q "USING INDEX events_correlation" || { echo "bench: no index used: $plan" >&2; exit 3; }

# --- b./c. Python ---------------------------------------------------------------------
rm -f "$WORK"/py1.db* "$WORK"/py2.db*
measure "b. python json+sqlite3, indexes up front" python3 "$HERE/py_indexes_upfront.py" "$WORK/py1.db" "$IN"
py_up=$RATE
measure "c. python json+sqlite3, indexes after" python3 "$HERE/py_indexes_after.py" "$WORK/py2.db" "$IN"
py_after=$RATE

# --- d. C ceiling -----------------------------------------------------------------------
rm -f "$WORK"/ceil.db*
measure "d. C ceiling (parsed rows, indexes after)" "$WORK/ceiling" "$WORK/ceil.db" "$IN" after
ceil=$RATE
# d2. the same parsed rows through our writer (store_add_event + bulk end): the writer's own
# cost, without the parse that the end-to-end figure carries.
rm -f "$WORK"/ceil.db*
measure "d2. our writer alone (same parsed rows)" "$WORK/ceiling" "$WORK/ceil.db" "$IN" store
writer=$RATE
rm -f "$WORK"/py1.db* "$WORK"/py2.db* "$WORK"/ceil.db*

say "ratios: ours/python-upfront $(ratio "$ours" "$py_up") (target >= 6)," \
    "ours/python-after $(ratio "$ours" "$py_after") (target >= 2)," \
    "ours/C-ceiling $(ratio "$ours" "$ceil") (target >= 0.8); ours = $ours ev/s (target >= 120000)"
say "writer alone / C ceiling: $(ratio "$writer" "$ceil") (the store's write path against plain C)"

# --- e. append 100k to a 10M store -------------------------------------------------------
if [ "$BIG" != 0 ]; then
    BIGDB="$WORK/store-$BIG_N.db"
    if [ ! -s "$BIGDB" ] || [ "$(sqlite3 "$BIGDB" 'SELECT count(*) >= '"$BIG_N"' FROM events' 2>/dev/null)" != 1 ]; then
        rm -f "$BIGDB" "$BIGDB-wal" "$BIGDB-shm"
        echo "bench: building a $BIG_N-event store in $BIGDB (once; kept for later runs)"
        start=$(date +%s)
        "$WORK/gen_events" "$BIG_N" 2 | "$WORK/ingest_driver" "$BIGDB" - >/dev/null
        say "   built the $BIG_N-event store in $(( $(date +%s) - start )) s"
    fi
    APP="$WORK/append-$(date +%s).jsonl"
    "$WORK/gen_events" 100000 "$(date +%s)" >"$APP"
    rows=$(sqlite3 "$BIGDB" 'SELECT count(*) FROM events')
    measure "e. append 100k to a store of $rows" "$WORK/ingest_driver" "$BIGDB" "$APP"
    say "   (target >= 50000 ev/s: $(ratio "$RATE" 50000) of it; indexes kept: $(sqlite3 "$BIGDB" "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'events\_%' ESCAPE '\\'"))"
    "$WORK/gen_events" 100000 "$(( $(date +%s) + 1 ))" >"$APP"
    measure "e2. the writer alone, same append" "$WORK/ceiling" "$BIGDB" "$APP" store
    # taps (bench_tap.sh) go into this store too: issue 5 asks for the rate into 10M
    export BENCH_TAP_STORE=${BENCH_TAP_STORE:-$BIGDB}
    rm -f "$APP"
fi

# --- other parts' benchmarks -------------------------------------------------------------
for b in "$HERE"/bench_*.sh; do
    [ -e "$b" ] || continue
    echo "bench: $(basename "$b")"
    bash "$b" "$BUILD" | tee -a "$SUMMARY"
done

say "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "${BENCH_RECORD:-0}" = 1 ]; then
    { echo; echo "### Run of $(date -u +%Y-%m-%d) (\`make bench\`)"; echo; echo '```'; cat "$SUMMARY"; echo '```'; } >>"$HERE/RESULTS.md"
fi
echo "bench: summary in $SUMMARY"
