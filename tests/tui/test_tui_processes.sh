#!/bin/bash
# Processes view: first screen, navigation, sort, text filter, status/service/findings
# filters, mouse selection, quit.
. "$(dirname "$0")/lib.sh"
make_store
start_tui 100 30
check procs_start
keys Down Down
check procs_nav
keys End
expect "processes 5/5"
keys g
expect "processes 1/5"
# s cycles the sort column: id -> start (asc) -> duration (desc)
keys s s
check procs_sort_duration
keys r
expect "DURATION▲"
keys 6
expect "FIND▼"
expect "sorted by findings, descending"
keys 3
keys / ; type_text "1004"; keys Enter
check procs_filter_text
keys x c
expect "status: completed"
expect "filter: status=completed"
keys f ; type_text "service=inventory findings"; keys Enter
check procs_filter_service
keys x w
expect "only processes with findings"
expect "3 of 5"
keys x
# Mouse (xterm X10 encoding: ESC [ M button x+33 y+33): a click on the fourth process
# row (screen row 5), then the wheel down (3 rows, clamped) and up.
tmx send-keys -l $'\e[M +&'
tmx send-keys -l $'\e[M#+&'
settle
expect "processes 4/5"
# A click on the EVENTS header (0-based row 1, column 38) sorts by it, descending.
tmx send-keys -l $'\e[M G"'
tmx send-keys -l $'\e[M#G"'
settle
expect "EVENTS▼"
expect "sorted by events, descending"
keys 1
tmx send-keys -l $'\e[Ma+&'
settle
expect "processes 5/5"
tmx send-keys -l $'\e[M`+&'
settle
expect "processes 2/5"
quit_and_check_exit 0
finish
