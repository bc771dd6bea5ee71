#!/usr/bin/env bash
# Concurrency (issue 7): two ingests, an MQTT tap, analyze, trace, processes, query and the
# TUI on one store at the same time. No command fails with "database is locked", and readers
# never see half a batch (every process they see is whole: the generator writes each process
# as 5 consecutive lines and batches are committed whole).
. "$(dirname "$0")/lib.sh"

db="$work/c.db"
# The readers below must run while the writers do, however fast the machine: ingest a reads
# a pipe that stays open until the readers have run a few rounds (a file of 100k lines was
# stored before the first reader ran on a fast machine).
na=400000 nb=150000
python3 "$(dirname "$0")/gen_events.py" $na 21 >"$work/a.jsonl"
python3 "$(dirname "$0")/gen_events.py" $nb 22 | sed 's/"ord-/"alt-/g' >"$work/b.jsonl"
mkfifo "$work/a.pipe"
"$ES_BIN" -d "$db" ingest - <"$work/a.pipe" 2>"$work/a.err" &
pa=$!
# the feeder alone holds the pipe's write end (an fd of this shell would be inherited by
# mosquitto and the tmux server, and ingest a would never see the end)
{ cat "$work/a.jsonl"; while [ ! -e "$work/a.done" ]; do sleep 0.1; done; } >"$work/a.pipe" &
feeder=$!
cleanup_hooks+=("kill $feeder 2>/dev/null")
sleep 0.3
"$ES_BIN" -d "$db" ingest "$work/b.jsonl" 2>"$work/b.err" &
pb=$!

# An MQTT tap on a private mosquitto, when this build has the tap.
pm= pt=
if "$ES_BIN" tap --help 2>&1 | grep -q 'mqtt://'; then
    port=$((19000 + RANDOM % 500))
    printf 'listener %d 127.0.0.1\nallow_anonymous true\n' "$port" >"$work/m.conf"
    mosquitto -c "$work/m.conf" >"$work/m.log" 2>&1 &
    pm=$!
    cleanup_hooks+=("kill $pm 2>/dev/null")
    sleep 0.5
    "$ES_BIN" -d "$db" tap "mqtt://127.0.0.1:$port/conc/#" --duration 8 >/dev/null 2>"$work/tap.err" &
    pt=$!
    sleep 0.5
    for i in $(seq 1 50); do
        mosquitto_pub -h 127.0.0.1 -p "$port" -t conc/x -q 1 \
            -m "{\"id\":\"m$i\",\"type\":\"Pinged\",\"source\":\"mq\",\"correlationid\":\"mq-1\"}"
    done
fi

# The TUI, in a real terminal (tmux on a private socket), browsing while the writers run.
tsock="es-conc-$$-$RANDOM"
tmx() { tmux -L "$tsock" "$@"; }
tui=0
if command -v tmux >/dev/null; then
    cleanup_hooks+=("tmux -L $tsock kill-server 2>/dev/null")
    tmx -f /dev/null new-session -d -x 100 -y 30 \
        "'$ES_BIN' -d '$db' tui 2>'$work/tui.err'; echo EXIT=\$? >'$work/tui.exit'; sleep 30"
    tui=1
else
    bad "tmux is not installed: the TUI part of this test cannot run"
fi
tui_browse() { # a few views, then back to processes; the screen must not show an error
    local k
    for k in j Enter t Escape F Escape p G g; do
        tmx send-keys "$k" 2>/dev/null
        sleep 0.05
    done
    tmx capture-pane -p >"$work/tui.screen" 2>/dev/null
    [ -n "${ES_TEST_VERBOSE:-}" ] && cat "$work/tui.screen"
    if grep -qi 'locked\|busy\|cannot\|sqlite' "$work/tui.screen"; then
        bad "TUI screen shows an error: $(grep -i 'locked\|busy\|cannot\|sqlite' "$work/tui.screen" | head -1)"
    fi
}

# Readers while the writers run.
readers=0
while kill -0 "$pa" 2>/dev/null || kill -0 "$pb" 2>/dev/null; do
    for cmd in "analyze" "processes --limit 5" "trace ord-0000001 --json" "query types"; do
        # shellcheck disable=SC2086
        if ! "$ES_BIN" -d "$db" $cmd >"$work/r.out" 2>"$work/r.err"; then
            # analyze exits 0 with findings unless --fail-on; anything else is a failure
            bad "reader '$cmd' failed: $(tail -1 "$work/r.err")"
        fi
        grep -qi 'locked\|busy' "$work/r.err" && bad "reader '$cmd': $(grep -i 'locked\|busy' "$work/r.err" | head -1)"
        readers=$((readers + 1))
    done
    [ "$tui" = 1 ] && tui_browse
    # whole batches only: no process with a number of events other than 5
    part=$(sql "$db" "SELECT count(*) FROM (SELECT correlation_id, count(*) n FROM events WHERE correlation_id LIKE 'ord-%' GROUP BY 1 HAVING n % 5 != 0);" 2>&1)
    [ "$part" = 0 ] || { grep -q locked <<<"$part" && bad "sqlite3 reader: $part"; }
    # enough rounds: let ingest a reach its end
    [ "$readers" -ge 8 ] && touch "$work/a.done"
done
touch "$work/a.done"
wait "$feeder"
wait "$pa"; expect_eq "ingest a exit" "$?" 0
wait "$pb"; expect_eq "ingest b exit" "$?" 0
[ "$readers" -ge 4 ] && ok || bad "only $readers reader runs happened during the load"
grep -qi locked "$work/a.err" "$work/b.err" && bad "an ingest hit a lock: $(grep -i locked "$work/a.err" "$work/b.err" | head -1)"
if [ -n "$pt" ]; then
    wait "$pt"
    # The tap waits for the write lock while the bulk loads commit, so it may not have
    # drained the broker within --duration: its session is persistent, so a second run
    # of the same tap must receive the rest. Nothing may be lost, nothing stored twice.
    "$ES_BIN" -d "$db" tap "mqtt://127.0.0.1:$port/conc/#" --duration 4 >/dev/null 2>>"$work/tap.err"
    expect_eq "tapped messages" "$(sql "$db" "SELECT count(*) FROM events WHERE transport='mqtt';")" 50
    [ "$fail" -eq 0 ] || cat "$work/tap.err" >&2
fi
if [ "$tui" = 1 ]; then
    tui_browse
    tmx send-keys q
    for _ in $(seq 1 50); do [ -s "$work/tui.exit" ] && break; sleep 0.1; done
    expect_eq "TUI exit after browsing during the load" "$(cat "$work/tui.exit" 2>/dev/null)" EXIT=0
    grep -qi 'locked\|busy' "$work/tui.err" && bad "TUI: $(grep -i 'locked\|busy' "$work/tui.err" | head -1)"
fi
expect_eq "rows" "$(sql "$db" 'SELECT count(*) FROM events;')" "$((na + nb + ${pt:+50}+0))"
expect_eq "integrity_check" "$(sql "$db" 'PRAGMA integrity_check;')" ok
finish
