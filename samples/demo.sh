#!/usr/bin/env bash
# The `make demo` walk-through: a fresh store from samples/ecommerce, the audit when the
# analyzer is built, the list of processes and the story of one order.
#   usage: bash samples/demo.sh BUILD/eventscope DB
set -u
if [ $# -ne 2 ]; then
    echo "usage: bash samples/demo.sh BUILD/eventscope DB" >&2
    exit 2
fi
bin=$1 db=$2
here=$(cd "$(dirname "$0")" && pwd)
order=ord-1042   # a payment retried with a new id, an OrderConfirmed logged twice

step() { printf '\n\033[1m$ eventscope %s\033[0m\n' "$*" | { [ -t 1 ] && cat || sed 's/\x1b\[[0-9;]*m//g'; }; }

rm -f "$db" "$db-wal" "$db-shm"
mkdir -p "$(dirname "$db")"

step "-d $db ingest samples/ecommerce"
"$bin" -d "$db" ingest "$here/ecommerce" || { echo "demo: ingest failed" >&2; exit 1; }

step "analyze"
"$bin" -d "$db" analyze >"$db.analyze.out" 2>"$db.analyze.err"
rc=$?
if [ $rc -eq 2 ] && grep -q "not built yet" "$db.analyze.err"; then
    echo "(analyze is not built yet in this tree: skipped)"
elif [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
    cat "$db.analyze.err" >&2
    echo "demo: analyze failed (exit $rc)" >&2
else
    head -40 "$db.analyze.out"
    n=$(wc -l <"$db.analyze.out")
    [ "$n" -gt 40 ] && echo "... ($((n - 40)) more lines: eventscope -d $db analyze)"
fi
rm -f "$db.analyze.out" "$db.analyze.err"

step "processes | head -15"
"$bin" -d "$db" processes | head -15

step "trace $order --tree"
"$bin" -d "$db" trace "$order" --tree

step "trace $order --timeline"
"$bin" -d "$db" trace "$order" --timeline

step "query hop-latency"
"$bin" -d "$db" query hop-latency

cat <<MSG

Next: eventscope -d $db tui         browse it all
      eventscope -d $db trace ord-1077  an order whose OrderConfirmed never reached the logs
      eventscope -d $db query --list    more questions, answered in SQL (queries/*.sql)
MSG
