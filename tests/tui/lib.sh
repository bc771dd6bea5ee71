# Shared by tests/tui/test_tui_*.sh: runs the real eventscope tui inside a detached tmux
# on a private socket, sends keys, captures the screen and compares it with
# tests/tui/screens/NAME.screen. ES_TUI_UPDATE=1 (tests/tui/update.sh) rewrites the
# screens instead; review that diff like code.
set -euo pipefail
: "${ES_BIN:?ES_BIN must name the eventscope binary}" "${ES_SRC:?ES_SRC must name the source tree}"
command -v tmux >/dev/null || { echo "tmux is not installed (apt-get install tmux)"; exit 1; }
command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed (apt-get install sqlite3)"; exit 1; }

TUI_SRC=$ES_SRC/tests/tui
WORK=$(mktemp -d /tmp/es-tui.XXXXXX)
SOCK="es-tui-$$-$RANDOM"
FAILED=0
export TZ=UTC LANG=C.UTF-8 LC_ALL=C.UTF-8 NO_COLOR=1

tmx() { tmux -L "$SOCK" "$@"; }
cleanup() {
    tmx kill-server 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# The store: the fixture ingested from a relative path (locations read fixture.jsonl:N),
# plus a few findings rows.
make_store() {
    cp "$TUI_SRC/fixture.jsonl" "$WORK/fixture.jsonl"
    (cd "$WORK" && "$ES_BIN" -d store.db ingest fixture.jsonl >/dev/null 2>&1)
    sqlite3 "$WORK/store.db" < "$TUI_SRC/findings.sql"
}

# start_tui [W H] [tui options...]: starts the TUI and waits for its first screen.
start_tui() {
    local w=$1 h=$2
    shift 2
    tmx -f /dev/null new-session -d -x "$w" -y "$h" \
        "trap '' INT; cd '$WORK' && '$ES_BIN' -d store.db tui $*; echo EXIT=\$? > '$WORK/exit'; sleep 60"
    tmx set-option -g status off >/dev/null
    wait_for "Processes" 
}

screen() { tmx capture-pane -p | sed "s#$WORK#WORK#g"; }

# Waits until the screen contains text (and then holds still), at most 10 s.
wait_for() {
    local i
    for i in $(seq 1 100); do
        if screen | grep -qF -- "$1"; then
            settle
            return 0
        fi
        sleep 0.1
    done
    echo "timed out waiting for '$1'; screen:"
    screen
    return 1
}

# Waits until two captures 150 ms apart are equal (the TUI is done drawing).
settle() {
    local a b i
    a=$(screen)
    for i in $(seq 1 40); do
        sleep 0.15
        b=$(screen)
        [ "$a" = "$b" ] && return 0
        a=$b
    done
}

# keys KEY...: tmux key names (Enter, Escape, Down, PageDown, BSpace, Space, C-c...).
keys() {
    tmx send-keys "$@"
    settle
}

# type TEXT: literal text for a prompt.
type_text() {
    tmx send-keys -l -- "$1"
    settle
}

# check NAME: compares the screen with screens/NAME.screen.
check() {
    local name=$1 got="$WORK/$1.screen" want="$TUI_SRC/screens/$1.screen"
    screen > "$got"
    if [ "${ES_TUI_UPDATE:-0}" = 1 ]; then
        cp "$got" "$want"
        echo "updated screens/$name.screen"
        return 0
    fi
    if [ ! -f "$want" ]; then
        echo "FAIL $name: no screens/$name.screen (run tests/tui/update.sh)"
        FAILED=1
        return 0
    fi
    if diff -u "$want" "$got"; then
        echo "ok   $name"
    else
        echo "FAIL $name: screen differs (above: - expected, + got)"
        FAILED=1
    fi
}

# expect TEXT: the screen contains TEXT.
expect() {
    if screen | grep -qF -- "$1"; then
        echo "ok   screen has '$1'"
    else
        echo "FAIL screen lacks '$1':"
        screen
        FAILED=1
    fi
}

# quit_and_check_exit CODE [KEY]: quits with q (or KEY) and checks the exit status.
quit_and_check_exit() {
    local want=$1 key=${2:-q} i
    tmx send-keys "$key"
    for i in $(seq 1 50); do
        [ -s "$WORK/exit" ] && break
        sleep 0.1
    done
    if grep -qx "EXIT=$want" "$WORK/exit" 2>/dev/null; then
        echo "ok   exit status $want"
    else
        echo "FAIL exit: wanted EXIT=$want, got '$(cat "$WORK/exit" 2>/dev/null)'"
        FAILED=1
    fi
}

finish() {
    if [ "$FAILED" != 0 ]; then
        echo "FAILED"
        exit 1
    fi
    echo "PASSED"
}
