#!/usr/bin/env bash
# Kafka tap against librdkafka's mock cluster (kafka_mock helper: Kafka protocol on
# loopback, a real librdkafka producer): ce_ headers (binary mode) and structured JSON,
# key/partition/offset/timestamp, a malformed record as a reject, the broker down and up
# mid-tap, resuming from the tap's own group's committed offsets, two taps at once.
. "$(dirname "$0")/tap_lib.sh"
need sqlite3
MOCK=$ES_BUILD/tests/kafka_mock
[ -x "$MOCK" ] || cannot_start "$MOCK not built (librdkafka missing?)"
DB=$T/store.db
mkfifo "$T/mock.in" "$T/mock.out"
"$MOCK" orders,audit 3 <"$T/mock.in" >"$T/mock.out" 2>"$T/mock.err" &
MOCKPID=$!
PIDS+=("$MOCKPID")
exec 7>"$T/mock.in"
exec 8<"$T/mock.out"
read -r -t 20 -u 8 first || cannot_start "kafka mock cluster did not start: $(cat "$T/mock.err")"
BS=${first#BOOTSTRAP }
[ "$BS" != "$first" ] || cannot_start "kafka mock cluster: $first"
mock() { # COMMAND...: one answer line, OK expected
    local answer
    echo "$*" >&7
    read -r -t 30 -u 8 answer || { fail "mock: no answer to $*"; return 1; }
    case $answer in OK*) return 0 ;; *) fail "mock: $* -> $answer"; return 1 ;; esac
}
mock produce orders 10 b binary
mock produce orders 5 s structured
mock produce orders 1 bad bad
start_tap "$T/tap1.log" "kafka://$BS/orders?from=beginning" || die "no tap"
wait_sql "select count(*) from events" 15 20 && ok "15 events queryable while tapping" || fail "events"
wait_sql "select count(*) from rejects" 1 5 && ok "malformed record is a reject" || fail "reject"
got=$(sql "select type||'|'||source||'|'||correlation_id||'|'||partition_key||'|'||transport||'|'||channel||'|'||direction||'|'||data from events where event_id='b-5'")
[ "$got" = 'OrderPlaced|/orders|ord-1|ord-1|kafka|orders|deliver|{"order":"ord-1","n":5}' ] &&
    ok "ce_ header attributes and key" || fail "binary mode: $got"
got=$(sql "select type||'|'||source||'|'||correlation_id||'|'||data from events where event_id='s-3'")
[ "$got" = 'OrderPaid|/payments|ord-3|{"n":3}' ] && ok "structured mode" || fail "structured: $got"
got=$(sql "select count(*) from events where location = channel||'/'||json_extract(attrs,'\$.partition')||'@'||json_extract(attrs,'\$.offset') and json_extract(attrs,'\$.kafka_timestamp') > 0 and json_extract(attrs,'\$.key') = partition_key")
[ "$got" = 15 ] && ok "locations topic/partition@offset, timestamps, keys" || fail "coordinates: $got of 15"
got=$(sql "select reason from rejects")
[ "$got" = cloudevents_structured_not_object ] && ok "reject reason $got" || fail "reject reason: $got"

# the broker goes away mid-tap and comes back
mock down
wait_log "$T/tap1.log" "brokers down" 20 && ok "tap says the broker went away" || fail "no down notice"
mock up
mock produce orders 10 r binary
wait_sql "select count(*) from events where event_id like 'r-%'" 10 30 && ok "records after the broker came back" ||
    fail "after broker up"
stop_tap "$T/tap1.log"

# records produced while no tap runs: the next run resumes from the committed offsets
mock produce orders 7 q structured
start_tap "$T/tap2.log" "kafka://$BS/orders?from=beginning" || die "no tap 2"
TAP1=$TAP_PID
wait_sql "select count(*) from events where event_id like 'q-%'" 7 20 || fail "resume"
# a second tap process on the same store, another topic
start_tap "$T/tap3.log" "kafka://$BS/audit?from=beginning" || die "no tap 3"
TAP2=$TAP_PID
mock produce audit 40 x binary
mock produce orders 40 y binary
wait_sql "select count(*) from events where substr(event_id,1,2) in ('x-','y-')" 80 20 || fail "two taps"
TAP_PID=$TAP2
stop_tap "$T/tap3.log"
TAP_PID=$TAP1
stop_tap "$T/tap2.log"
grep -q "interrupted: 47 stored, 0 already present" "$T/tap2.log" &&
    ok "resumed run stored only the new records" || fail "resume summary: $(tail -1 "$T/tap2.log")"
for p in b:10 s:5 r:10 q:7 x:40 y:40; do check_once "${p%%:*}" "${p##*:}"; done
got=$(sql "select count(*) from events")
[ "$got" = 112 ] && ok "112 events in all" || fail "total $got, want 112"

# --count stops after N records; from=end skips what is there
"$ES_BIN" -d "$T/count.db" tap "kafka://$BS/orders?from=beginning&group=counter" --count 12 2>"$T/count.log"
rc=$?
# (a delivered message is an event or, for the malformed record, a reject)
got=$(sqlite3 "$T/count.db" 'select (select count(*) from events) + (select count(*) from rejects)')
[ "$rc" = 0 ] && [ "$got" = 12 ] && ok "--count 12" || fail "--count: exit $rc, $got messages stored"

expect_exit3 "no topic" "kafka://$BS"
expect_exit3 "unknown host" "kafka://no-such-host.invalid:9092/orders"
expect_exit3 "bad from" "kafka://$BS/orders?from=yesterday-ish"
expect_exit3 "nothing listening" "kafka://127.0.0.1:$(port_for 21)/orders"
exec 7>&-
finish
