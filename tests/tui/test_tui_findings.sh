#!/bin/bash
# Findings view grouped by kind, Enter jumps to the process and the event; Tab cycles views;
# the event detail of hostile text shows control characters escaped.
. "$(dirname "$0")/lib.sh"
make_store
start_tui 100 30
keys F
check findings
keys Space
expect "▸ causality.orphan (1)"
expect "findings 1/5"
keys Space
keys Down Enter
check findings_jump
keys Escape
expect "Findings  3 in 3 kinds"
keys Home Down Down Down Enter
expect "Timeline  ord-1005"
expect "timeline 2/4"
keys Enter
check event_escaped
keys Tab
expect "Findings  3 in 3 kinds"
keys Tab
expect "Processes"
quit_and_check_exit 0
finish
