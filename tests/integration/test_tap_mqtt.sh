#!/usr/bin/env bash
# MQTT tap against a real mosquitto: MQTT 5 user properties (binary mode) and structured
# JSON, a malformed message as a reject, a broker restart mid-tap losing nothing, two taps
# on one store at once, and the exit-3 errors.
. "$(dirname "$0")/tap_lib.sh"
need mosquitto
need mosquitto_pub
need sqlite3
P=$(port_for 1)
PA=$((P + 1))
DB=$T/store.db
mkdir -p "$T/mq"
mosquitto_passwd -b -c "$T/mq/passwd" tapuser s3cret >/dev/null 2>&1 || cannot_start "mosquitto_passwd failed"
# mosquitto started as root drops to its own user: let it read and write here
chmod 755 "$T"
chmod 777 "$T/mq"
chmod 644 "$T/mq/passwd"
cat >"$T/mq/m.conf" <<CONF
per_listener_settings true
persistence true
persistence_location $T/mq/
listener $P 127.0.0.1
allow_anonymous true
listener $PA 127.0.0.1
allow_anonymous false
password_file $T/mq/passwd
CONF
start_broker() {
    mosquitto -c "$T/mq/m.conf" >"$T/mq/log" 2>&1 &
    BROKER=$!
    PIDS+=("$BROKER")
    wait_port "$P" 10 || cannot_start "mosquitto did not start on $P: $(tail -3 "$T/mq/log")"
}
start_broker

pub_binary() { # PREFIX N TOPIC
    local i
    for i in $(seq 0 $(($2 - 1))); do
        mosquitto_pub -V 5 -h 127.0.0.1 -p "$P" -q 1 -t "$3" \
            -D publish user-property ce_specversion 1.0 \
            -D publish user-property ce_id "$1-$i" \
            -D publish user-property ce_type OrderPlaced \
            -D publish user-property ce_source /orders \
            -D publish user-property ce_correlationid "corr-$i" \
            -D publish content-type application/json \
            -m "{\"n\":$i}" || fail "mosquitto_pub $1-$i"
    done
}
pub_structured() { # PREFIX N TOPIC
    local i
    for i in $(seq 0 $(($2 - 1))); do
        mosquitto_pub -V 5 -h 127.0.0.1 -p "$P" -q 1 -t "$3" \
            -D publish content-type application/cloudevents+json \
            -m "{\"specversion\":\"1.0\",\"id\":\"$1-$i\",\"type\":\"OrderPaid\",\"source\":\"/payments\",\"correlationid\":\"corr-$i\",\"causationid\":\"b-$i\",\"data\":{\"n\":$i}}" ||
            fail "mosquitto_pub $1-$i"
    done
}

# --- binary + structured + malformed ------------------------------------------------------
start_tap "$T/tap1.log" "mqtt://127.0.0.1:$P/orders/#,payments/+" || die "no tap"
pub_binary b 10 orders/placed
pub_structured s 5 payments/paid
mosquitto_pub -V 5 -h 127.0.0.1 -p "$P" -q 1 -t orders/broken \
    -D publish content-type application/cloudevents+json -m '{"specversion":"1.0",' ||
    fail "publish malformed"
# queryable while the tap runs (commits every 200 ms)
wait_sql "select count(*) from events" 15 10 && ok "15 events queryable while tapping" ||
    fail "events not queryable while tapping"
wait_sql "select count(*) from rejects" 1 5 && ok "malformed message is a reject" ||
    fail "no reject for the malformed message"
got=$(sql "select type||'|'||source||'|'||correlation_id||'|'||transport||'|'||channel||'|'||direction||'|'||json_extract(attrs,'\$.qos')||'|'||data from events where event_id='b-3'")
[ "$got" = 'OrderPlaced|/orders|corr-3|mqtt|orders/placed|deliver|1|{"n":3}' ] &&
    ok "binary-mode attributes" || fail "binary-mode attributes: $got"
got=$(sql "select type||'|'||source||'|'||causation_id||'|'||channel||'|'||data from events where event_id='s-2'")
[ "$got" = 'OrderPaid|/payments|b-2|payments/paid|{"n":2}' ] && ok "structured-mode attributes" ||
    fail "structured-mode attributes: $got"
got=$(sql "select reason from rejects")
[ "$got" = cloudevents_structured_not_object ] && ok "reject reason $got" || fail "reject reason: $got"
sql "select location from events where event_id='b-0'" | grep -Eq '^orders/placed#[0-9]+@[0-9]+$' &&
    ok "location topic#n@start" || fail "location: $(sql "select location from events where event_id='b-0'")"

# --- broker restart mid-tap -----------------------------------------------------------------
kill "$BROKER"
wait "$BROKER" 2>/dev/null
wait_log "$T/tap1.log" "connection lost" 10 && ok "tap says the broker went away" || fail "no notice"
start_broker
# published as soon as the broker is back: the persistent session keeps them for the tap
pub_binary r 5 orders/placed
wait_log "$T/tap1.log" "reconnected" 20 && ok "tap reconnected" || fail "no reconnect notice"
pub_binary r2 5 orders/placed
wait_sql "select count(*) from events" 25 15 || fail "events after restart"
check_once b 10
check_once s 5
check_once r 5
check_once r2 5

# --- two taps on one store at once (one more process) ----------------------------------------
TAP1=$TAP_PID
start_tap "$T/tap2.log" "mqtt://127.0.0.1:$P/audit/#" || die "no second tap"
TAP2=$TAP_PID
pub_binary x 20 audit/log &
PUB1=$!
pub_binary y 20 orders/more
wait "$PUB1"
wait_sql "select count(*) from events where event_id like 'x-%' or event_id like 'y-%'" 40 15 ||
    fail "two taps at once"
check_once x 20
check_once y 20
TAP_PID=$TAP2
stop_tap "$T/tap2.log"
TAP_PID=$TAP1
stop_tap "$T/tap1.log"
got=$(sql "select count(*) from origins where kind='tap'")
[ "$got" = 2 ] && ok "one origin per tap URL" || fail "origins: $got"
grep -q "s3cret" "$T/tap1.log" && fail "password leaked to stderr"

# --- errors: one line, exit 3 -----------------------------------------------------------------
expect_exit3 "no topic filter" "mqtt://127.0.0.1:$P"
expect_exit3 "unknown host" "mqtt://no-such-host.invalid:$P/a"
expect_exit3 "refused credentials" "mqtt://tapuser:wrong@127.0.0.1:$PA/a"
expect_exit3 "connection refused" "mqtt://127.0.0.1:$((P + 2))/a"
# credentials from the environment (right password): connects, then --count ends it
EVENTSCOPE_TAP_PASSWORD=s3cret "$ES_BIN" -d "$DB" tap "mqtt://tapuser@127.0.0.1:$PA/env/#" \
    --duration 3 2>"$T/env.log" &
ENVTAP=$!
PIDS+=("$ENVTAP")
wait_log "$T/env.log" tapping 10 || fail "env password"
mosquitto_pub -V 5 -h 127.0.0.1 -p "$PA" -u tapuser -P s3cret -q 1 -t env/x \
    -D publish user-property ce_id e-0 -D publish user-property ce_type T -m '{}'
wait "$ENVTAP"
rc=$?
[ "$rc" = 0 ] && ok "--duration ends with exit 0" || fail "--duration exit $rc"
check_once e 1
finish
