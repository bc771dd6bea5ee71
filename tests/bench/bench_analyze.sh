#!/usr/bin/env bash
# The analyzer's benchmark (issue 3, "Scale"); run by tests/bench/run.sh (`make bench`) as
#   bash tests/bench/bench_analyze.sh BUILD_DIR
# Steps:
#   1. build tests/sim/simgen.c against the build's core library and generate simulated
#      stores of 1M and 10M observations (kept in BENCH_DIR and reused by later runs);
#   2. a copy of each whose correlation IDs are replaced by random UUIDs (sim-N-uuid.db): the
#      simulator numbers its processes in arrival order, so walking the correlation index
#      sweeps the table; real IDs are random and scatter each process over the store (the
#      analyzer then reads in one sequential pass with correlation-ID buckets);
#   3. `eventscope analyze` on each under /usr/bin/time -v: wall, CPU, peak RSS;
#   4. the duplicate and orphan checks written as plain SQL, run by sqlite3 on the same store.
# Environment: BENCH_DIR (BUILD_DIR/bench), BENCH_ANALYZE_SIZES ("1000000 10000000").
# Targets: 1M in <= 5 s, 10M in <= 60 s, peak RSS <= 1 GB at 10M (2-core machine).
set -euo pipefail

BUILD=${1:-build}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "$BUILD" && pwd)
WORK=${BENCH_DIR:-$BUILD/bench}
ES_BIN=${ES_BIN:-$BUILD/eventscope}
SIZES=${BENCH_ANALYZE_SIZES:-"1000000 10000000"}
mkdir -p "$WORK"

if [ ! -x /usr/bin/time ]; then
    echo "bench_analyze: /usr/bin/time is missing: apt-get install time" >&2
    exit 3
fi
cc -O2 -g -std=c11 -D_GNU_SOURCE -I"$SRC" -I"$BUILD" -o "$WORK/simgen" "$SRC/tests/sim/simgen.c" \
    "$BUILD/libes_core.a" -lsqlite3 -ljansson -lpthread -lm

# Runs "$@" under /usr/bin/time -v; prints one line: label, wall, user+sys, peak RSS.
timed() {
    local label=$1 t="$WORK/analyze-time.txt"
    shift
    /usr/bin/time -v "$@" >"$WORK/analyze-out.txt" 2>"$t" || {
        echo "bench_analyze: $label failed:" >&2
        tail -5 "$t" >&2
        exit 3
    }
    local wall user sys rss
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$t")
    user=$(sed -n 's/.*User time (seconds): //p' "$t")
    sys=$(sed -n 's/.*System time (seconds): //p' "$t")
    rss=$(( $(sed -n 's/.*Maximum resident set size (kbytes): //p' "$t") / 1024 ))
    printf '%-46s wall %8s  cpu %6.1f s  peak RSS %5s MB\n' "$label" "$wall" \
        "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" "$rss"
}

echo "analyzer benchmark: $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
for n in $SIZES; do
    db="$WORK/sim-$n.db"
    if [ ! -s "$db" ] || [ "$(sqlite3 "$db" 'SELECT count(*) >= '"$n"' FROM events' 2>/dev/null)" != 1 ]; then
        rm -f "$db" "$db-wal" "$db-shm"
        echo "bench_analyze: generating $db (once; kept for later runs)" >&2
        "$WORK/simgen" "$db" "$n" >&2
    fi
    udb="$WORK/sim-$n-uuid.db"
    if [ ! -s "$udb" ] || [ "$(sqlite3 "$udb" "SELECT value FROM meta WHERE key = 'bench_uuid'" 2>/dev/null)" != 1 ]; then
        rm -f "$udb" "$udb-wal" "$udb-shm"
        echo "bench_analyze: generating $udb (once; kept for later runs)" >&2
        cp "$db" "$udb"
        sqlite3 -bail "$udb" >/dev/null <<'EOF'
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -262144;
DROP INDEX IF EXISTS events_correlation;
CREATE TEMP TABLE m(c TEXT PRIMARY KEY, u TEXT) WITHOUT ROWID;
INSERT INTO m SELECT c, lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-'
    || hex(randomblob(2)) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(6)))
    FROM (SELECT DISTINCT correlation_id AS c FROM events WHERE correlation_id IS NOT NULL);
UPDATE events SET correlation_id = (SELECT u FROM m WHERE c = events.correlation_id)
    WHERE correlation_id IS NOT NULL;
CREATE INDEX events_correlation ON events(correlation_id);
INSERT OR REPLACE INTO meta(key, value) VALUES('bench_uuid', '1');
EOF
    fi
    rows=$(sqlite3 "$db" 'SELECT count(*) FROM events')
    timed "analyze $rows observations" "$ES_BIN" -d "$db" analyze
    head -1 "$WORK/analyze-out.txt" | sed 's/^/    /'
    timed "analyze $rows observations, UUID correlation" "$ES_BIN" -d "$udb" analyze
    head -1 "$WORK/analyze-out.txt" | sed 's/^/    /'
    # The same two checks as plain SQL: identities seen more than once (which cannot tell a
    # delivery from a duplicate), and causation IDs naming no event.
    timed "  sqlite3: source+id seen more than once" sqlite3 "$db" \
        "SELECT count(*) FROM (SELECT 1 FROM events WHERE event_id IS NOT NULL
           GROUP BY source, event_id HAVING count(*) > 1)"
    echo "    $(cat "$WORK/analyze-out.txt") identities"
    timed "  sqlite3: orphans (NOT EXISTS on event_id)" sqlite3 "$db" \
        "SELECT count(*) FROM events AS e WHERE e.causation_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM events AS c WHERE c.event_id = e.causation_id)"
    echo "    $(cat "$WORK/analyze-out.txt") orphan observations"
done
