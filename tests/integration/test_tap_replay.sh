#!/usr/bin/env bash
# Replays of the usual CLI tools' output as taps from stdin: `kcat -C -J` (generated here
# with the real kcat against the kafka_mock cluster) and `mosquitto_sub -F %j` (against a
# real mosquitto); every event once with its attributes, bad lines as rejects, the same
# locations as the live Kafka tap.
. "$(dirname "$0")/tap_lib.sh"
need sqlite3
need kcat
need mosquitto
need mosquitto_sub
MOCK=$ES_BUILD/tests/kafka_mock
[ -x "$MOCK" ] || cannot_start "$MOCK not built (librdkafka missing?)"
DB=$T/store.db

# --- kcat -C -J ---------------------------------------------------------------------------
mkfifo "$T/mock.in" "$T/mock.out"
"$MOCK" orders 2 <"$T/mock.in" >"$T/mock.out" 2>"$T/mock.err" &
PIDS+=($!)
exec 7>"$T/mock.in"
exec 8<"$T/mock.out"
read -r -t 20 -u 8 first || cannot_start "kafka mock cluster did not start"
BS=${first#BOOTSTRAP }
echo "produce orders 6 k binary" >&7
read -r -t 30 -u 8 a && echo "$a" | grep -q OK || fail "produce binary: $a"
echo "produce orders 4 ks structured" >&7
read -r -t 30 -u 8 a && echo "$a" | grep -q OK || fail "produce structured: $a"
timeout 30 kcat -C -J -b "$BS" -t orders -e -q >"$T/kcat.jsonl" 2>"$T/kcat.err" || fail "kcat: $(cat "$T/kcat.err")"
[ "$(wc -l <"$T/kcat.jsonl")" = 10 ] && ok "kcat wrote 10 lines" || fail "kcat lines: $(wc -l <"$T/kcat.jsonl")"
# two bad lines among them
{ cat "$T/kcat.jsonl"; echo '{"topic":"orders","partition":0}'; echo 'not json at all'; } >"$T/kcat2.jsonl"
"$ES_BIN" -d "$DB" tap --format kcat - <"$T/kcat2.jsonl" 2>"$T/replay1.log"
rc=$?
[ "$rc" = 0 ] && ok "kcat replay exit 0" || fail "kcat replay exit $rc: $(cat "$T/replay1.log")"
check_once k 6
check_once ks 4
got=$(sql "select count(*) from rejects")
[ "$got" = 2 ] && ok "2 bad lines are rejects" || fail "rejects: $got"
got=$(sql "select group_concat(reason, ',') from (select reason from rejects order by reason)")
[ "$got" = "kcat_missing_field,replay_bad_json" ] && ok "reject reasons" || fail "reject reasons: $got"
got=$(sql "select type||'|'||source||'|'||correlation_id||'|'||partition_key||'|'||transport||'|'||channel||'|'||direction from events where event_id='k-2'")
[ "$got" = 'OrderPlaced|/orders|ord-2|ord-2|kafka|orders|deliver' ] && ok "kcat attributes" || fail "kcat attributes: $got"
got=$(sql "select count(*) from events where location = channel||'/'||json_extract(attrs,'\$.partition')||'@'||json_extract(attrs,'\$.offset') and observed_us > 0")
[ "$got" = 10 ] && ok "kcat locations topic/partition@offset" || fail "kcat locations: $got"
# the same records through the live tap have the same locations
"$ES_BIN" -d "$T/live.db" tap "kafka://$BS/orders?from=beginning" --count 10 2>"$T/live.log" ||
    fail "live tap: $(cat "$T/live.log")"
a=$(sqlite3 "$DB" "select location||' '||event_id from events order by 1")
b=$(sqlite3 "$T/live.db" "select location||' '||event_id from events order by 1")
[ "$a" = "$b" ] && ok "replay and live tap agree on locations" || fail "replay vs live: $a // $b"
# replaying again adds nothing
"$ES_BIN" -d "$DB" tap --format kcat - <"$T/kcat.jsonl" 2>"$T/replay2.log"
grep -q "0 stored, 10 already present" "$T/replay2.log" && ok "replay is idempotent" ||
    fail "second replay: $(tail -1 "$T/replay2.log")"
exec 7>&-

# --- mosquitto_sub -F %j --------------------------------------------------------------------
P=$(port_for 41)
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$P" >"$T/m.conf"
mosquitto -c "$T/m.conf" >"$T/mq.log" 2>&1 &
PIDS+=($!)
wait_port "$P" 10 || cannot_start "mosquitto did not start"
mosquitto_sub -V 5 -h 127.0.0.1 -p "$P" -q 1 -t 'shop/#' -F %j -C 6 -W 30 >"$T/mq.jsonl" 2>"$T/sub.err" &
SUB=$!
PIDS+=("$SUB")
sleep 0.5
for i in 0 1 2 3; do
    mosquitto_pub -V 5 -h 127.0.0.1 -p "$P" -q 1 -t shop/orders -D publish user-property ce_id "m-$i" \
        -D publish user-property ce_type OrderPlaced -D publish user-property ce_source /shop \
        -D publish user-property ce_correlationid "c-$i" -D publish content-type application/json -m "{\"n\":$i}"
done
mosquitto_pub -V 5 -h 127.0.0.1 -p "$P" -q 1 -t shop/pay -D publish content-type application/cloudevents+json \
    -m '{"specversion":"1.0","id":"ms-0","type":"Paid","source":"/pay","data":{"ok":true}}'
mosquitto_pub -V 5 -h 127.0.0.1 -p "$P" -q 1 -t shop/pay -D publish content-type application/cloudevents+json -m '{"id":'
wait "$SUB" || fail "mosquitto_sub: $(cat "$T/sub.err")"
DB=$T/mq.db
"$ES_BIN" -d "$DB" tap --format mosquitto-json - <"$T/mq.jsonl" 2>"$T/replay3.log" ||
    fail "mosquitto-json replay: $(cat "$T/replay3.log")"
check_once m 4
check_once ms 1
got=$(sql "select reason from rejects")
[ "$got" = cloudevents_structured_not_object ] && ok "malformed message is a reject" || fail "rejects: $got"
got=$(sql "select type||'|'||source||'|'||correlation_id||'|'||transport||'|'||channel||'|'||json_extract(attrs,'\$.qos')||'|'||data||'|'||location from events where event_id='m-1'")
[ "$got" = 'OrderPlaced|/shop|c-1|mqtt|shop/orders|1|{"n":1}|stdin:2' ] && ok "mosquitto-json attributes" ||
    fail "mosquitto-json attributes: $got"
[ "$(sql "select count(*) from events where observed_us > 1600000000000000")" = 5 ] &&
    ok "tst read as the observation time" || fail "observed_us from tst"
# usage errors
"$ES_BIN" -d "$DB" tap - </dev/null 2>/dev/null
[ $? = 2 ] && ok "- without --format is a usage error" || fail "- without --format"
"$ES_BIN" -d "$DB" tap --format nope - </dev/null 2>/dev/null
[ $? = 2 ] && ok "unknown --format is a usage error" || fail "unknown --format"
finish
