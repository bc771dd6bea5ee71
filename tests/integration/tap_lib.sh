# Shared helpers for the broker tap tests (sourced by test_tap_*.sh).
# Brokers run on 127.0.0.1 with ports derived from $$ so parallel runs do not collide;
# every process started here is stopped by its PID at exit. A broker that cannot start
# fails the test under CI=true and skips it (exit 77) otherwise.
set -u
ES_BIN=${ES_BIN:?ES_BIN must name the eventscope binary}
ES_BUILD=${ES_BUILD:-$(dirname "$ES_BIN")}
T=$(mktemp -d "${TMPDIR:-/tmp}/es-tap-test.XXXXXX")
PIDS=()
FAILS=0

cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null
    done
    for p in "${PIDS[@]}"; do
        wait "$p" 2>/dev/null
    done
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

# A port for this test: 18xxx/19xxx/2xxxx, from the PID and an offset.
port_for() { echo $(( 18000 + ($$ * 7 + $1) % 12000 )); }

fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }
die() { echo "FAIL: $*" >&2; exit 1; }

# The broker could not start: fail in CI, skip elsewhere.
cannot_start() {
    if [ "${CI:-}" = true ]; then die "$1 (CI: a broker that cannot start is a failure)"; fi
    echo "SKIP: $1" >&2
    exit 77
}

need() { command -v "$1" >/dev/null 2>&1 || cannot_start "$1 not installed"; }

wait_port() { # PORT SECONDS
    local i
    for i in $(seq 1 $(( $2 * 10 ))); do
        (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

wait_closed() { # PORT SECONDS
    local i
    for i in $(seq 1 $(( $2 * 10 ))); do
        (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

sql() { sqlite3 -cmd ".timeout 5000" "$DB" "$@"; }

# wait_sql SQL EXPECTED SECONDS: polls the store until SQL prints EXPECTED.
wait_sql() {
    local i got=""
    for i in $(seq 1 $(( $3 * 10 ))); do
        got=$(sql "$1" 2>/dev/null)
        [ "$got" = "$2" ] && return 0
        sleep 0.1
    done
    echo "  waited for [$1] = [$2], got [$got]" >&2
    return 1
}

# wait_log FILE PATTERN SECONDS
wait_log() {
    local i
    for i in $(seq 1 $(( $3 * 10 ))); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "  no [$2] in $1:" >&2
    sed 's/^/    /' "$1" >&2
    return 1
}

# start_tap LOG ARGS...: eventscope tap in the background; sets TAP_PID.
start_tap() {
    local log=$1
    shift
    "$ES_BIN" -d "$DB" tap "$@" 2>"$log" &
    TAP_PID=$!
    PIDS+=("$TAP_PID")
    wait_log "$log" "tapping" 20 || { fail "tap did not start: $*"; return 1; }
}

# stop_tap: Ctrl-C; expects exit 130 and the summary line.
stop_tap() { # LOG
    local rc
    kill -INT "$TAP_PID"
    wait "$TAP_PID"
    rc=$?
    [ "$rc" = 130 ] || fail "tap exit $rc after Ctrl-C, want 130"
    grep -q "interrupted: .* stored" "$1" || fail "no summary after Ctrl-C in $1"
}

# expect_exit3 DESCRIPTION ARGS...: a one-line error and exit 3.
expect_exit3() {
    local what=$1 rc lines
    shift
    timeout 60 "$ES_BIN" -d "$DB" tap "$@" >"$T/err.out" 2>"$T/err.log"
    rc=$?
    lines=$(wc -l <"$T/err.log")
    if [ "$rc" = 3 ] && [ "$lines" = 1 ]; then
        ok "$what: exit 3, $(cat "$T/err.log")"
    else
        fail "$what: exit $rc with $lines lines: $(cat "$T/err.log")"
    fi
}

# check_once PREFIX N: ids PREFIX-0..N-1 each stored exactly once.
check_once() {
    local got
    got=$(sql "select count(*) || ' ' || count(distinct event_id) from events where event_id like '$1-%'")
    [ "$got" = "$2 $2" ] && ok "$1: $2 events, each once" || fail "$1: want $2 $2 (rows, ids), got $got"
}

finish() {
    [ "$FAILS" = 0 ] || die "$FAILS check(s) failed"
    echo "PASS"
    exit 0
}
