#!/bin/bash
# Query prompt: a named query from queries/, raw SQL, a refused write, Enter on a row.
. "$(dirname "$0")/lib.sh"
make_store
start_tui 100 30
keys :
type_text "types"
keys Enter
check query_named
keys :
type_text "SELECT correlation_id, count(*) AS n FROM events WHERE correlation_id IS NOT NULL GROUP BY 1 ORDER BY n DESC, 1"
keys Enter
check query_sql
keys Enter
expect "Timeline  ord-1001"
keys :
type_text "DELETE FROM events"
keys Enter
expect "only read-only statements run here"
n=$(sqlite3 "$WORK/store.db" "SELECT count(*) FROM events")
[ "$n" = 17 ] && echo "ok   store untouched" || { echo "FAIL store has $n events"; FAILED=1; }
keys :
type_text "SELEKT nonsense"
keys Enter
expect "query: near"
quit_and_check_exit 0
finish
