#!/usr/bin/env bash
# NATS tap against a real nats-server: headers (binary mode) and structured JSON bodies,
# wildcards, a malformed message as a reject, a server restart mid-tap, exit-3 errors.
. "$(dirname "$0")/tap_lib.sh"
need nats-server
need python3
need sqlite3
P=$(port_for 11)
DB=$T/store.db
PUB="python3 $(dirname "$0")/nats_pub.py 127.0.0.1 $P"
start_broker() {
    nats-server -a 127.0.0.1 -p "$P" >"$T/nats.log" 2>&1 &
    BROKER=$!
    PIDS+=("$BROKER")
    wait_port "$P" 10 || cannot_start "nats-server did not start on $P: $(tail -3 "$T/nats.log")"
}
gen() { # PREFIX N SUBJECT MODE
    local i
    for i in $(seq 0 $(($2 - 1))); do
        case $4 in
        binary) printf '{"subject":"%s","headers":[["ce-specversion","1.0"],["ce-id","%s-%d"],["ce-type","OrderPlaced"],["ce-source","/orders"],["ce-correlationid","corr-%d"],["content-type","application/json"]],"body":"{\\"n\\":%d}"}\n' "$3" "$1" "$i" "$i" "$i" ;;
        structured) printf '{"subject":"%s","headers":[["content-type","application/cloudevents+json"]],"body":"{\\"specversion\\":\\"1.0\\",\\"id\\":\\"%s-%d\\",\\"type\\":\\"OrderPaid\\",\\"source\\":\\"/payments\\",\\"correlationid\\":\\"corr-%d\\",\\"data\\":{\\"n\\":%d}}"}\n' "$3" "$1" "$i" "$i" "$i" ;;
        esac
    done
}
start_broker
start_tap "$T/tap.log" "nats://127.0.0.1:$P/orders.>,payments.*" || die "no tap"
gen b 10 orders.eu.placed binary | $PUB || fail "publish binary"
gen s 5 payments.paid structured | $PUB || fail "publish structured"
printf '%s\n' '{"subject":"orders.bad","headers":[["content-type","application/cloudevents+json"]],"body":"{oops"}' |
    $PUB || fail "publish malformed"
gen n 3 other.subject binary | $PUB || fail "publish unrelated"
wait_sql "select count(*) from events" 15 10 && ok "15 events queryable while tapping" || fail "events"
wait_sql "select count(*) from rejects" 1 5 && ok "malformed message is a reject" || fail "reject"
got=$(sql "select type||'|'||source||'|'||correlation_id||'|'||transport||'|'||channel||'|'||direction||'|'||data from events where event_id='b-4'")
[ "$got" = 'OrderPlaced|/orders|corr-4|nats|orders.eu.placed|deliver|{"n":4}' ] &&
    ok "header attributes" || fail "header attributes: $got"
got=$(sql "select type||'|'||source||'|'||channel||'|'||data from events where event_id='s-1'")
[ "$got" = 'OrderPaid|/payments|payments.paid|{"n":1}' ] && ok "structured body" || fail "structured: $got"
[ "$(sql "select count(*) from events where event_id like 'n-%'")" = 0 ] && ok "unsubscribed subject ignored" ||
    fail "stored a subject not subscribed"

# server restart mid-tap
kill "$BROKER"
wait "$BROKER" 2>/dev/null
wait_log "$T/tap.log" "connection lost" 10 && ok "tap says the server went away" || fail "no notice"
start_broker
wait_log "$T/tap.log" "reconnected" 20 && ok "tap reconnected" || fail "no reconnect notice"
gen r 10 orders.us.placed binary | $PUB || fail "publish after restart"
wait_sql "select count(*) from events" 25 10 || fail "events after restart"
check_once b 10
check_once s 5
check_once r 10

# a second tap process on the same store at once, and a second URL in this one
TAP1=$TAP_PID
start_tap "$T/tap2.log" "nats://127.0.0.1:$P/audit.>" "nats://127.0.0.1:$P/billing.>" || die "tap 2"
TAP2=$TAP_PID
gen x 30 audit.log binary | $PUB &
PUB1=$!
gen y 30 billing.x binary | $PUB &
PUB2=$!
gen z 30 orders.z binary | $PUB
wait "$PUB1" "$PUB2"
wait_sql "select count(*) from events where substr(event_id,1,2) in ('x-','y-','z-')" 90 15 ||
    fail "three taps in two processes"
check_once x 30
check_once y 30
check_once z 30
TAP_PID=$TAP2
stop_tap "$T/tap2.log"
TAP_PID=$TAP1
stop_tap "$T/tap.log"

expect_exit3 "no subject" "nats://127.0.0.1:$P"
expect_exit3 "unknown host" "nats://no-such-host.invalid:$P/a"
expect_exit3 "connection refused" "nats://127.0.0.1:$((P + 1))/a"
expect_exit3 "bad port" "nats://127.0.0.1:99999/a"
finish
