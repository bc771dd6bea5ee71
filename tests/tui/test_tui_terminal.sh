#!/bin/bash
# Terminal handling: resize to 80x24 and below the minimum and back, the help screen
# generated from the key table, --ascii drawing, live refresh while an ingest writes,
# and the terminal restored on SIGINT (Ctrl-C).
. "$(dirname "$0")/lib.sh"
make_store
start_tui 100 30
tmx resize-window -x 80 -y 24
settle
check procs_80x24
keys ?
check help_80x24
keys Escape
tmx resize-window -x 30 -y 6
settle
expect "terminal too small"
tmx resize-window -x 80 -y 24
settle
expect "processes 1/5"
# Live: a second file ingested while the TUI runs shows up without a key press.
cat > "$WORK/more.jsonl" <<'JSONL'
{"id":"e1006-1","type":"OrderPlaced","source":"orders","time":"2026-03-15T12:01:00Z","correlationid":"ord-1006"}
JSONL
(cd "$WORK" && "$ES_BIN" -d store.db ingest more.jsonl >/dev/null 2>&1)
wait_for "ord-1006"
expect "6 of 6"
quit_and_check_exit 130 C-c
tmx kill-server
SOCK="$SOCK-b" # a fresh server: the old one may still be exiting
rm -f "$WORK/exit"
start_tui 80 24 --ascii --no-color
keys Enter
check timeline_ascii
quit_and_check_exit 0
finish
