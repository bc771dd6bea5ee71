#!/bin/bash
# One process: timeline (lanes, links, gaps, ruler, horizontal scroll), causal tree
# (collapse, expand), event detail (attributes, sightings, fold), search with n/N.
. "$(dirname "$0")/lib.sh"
make_store
start_tui 100 30
keys Enter
check timeline
keys l
check timeline_scrolled
keys h Down
keys t
check tree
keys Up h
check tree_collapsed
keys l
expect "5 events, 5 shown"
keys Enter
check event
keys / ; type_text "Payload"; keys Enter
expect "Payload"
keys Down Space
check event_folded
keys Escape
expect "Causal tree"
keys Escape
expect "Timeline  ord-1001"
keys / ; type_text "Stock"; keys Enter
expect "timeline 3/5"
keys n
expect "timeline 3/5"
keys Escape
expect "processes 1/5"
quit_and_check_exit 0
finish
