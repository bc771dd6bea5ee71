#!/usr/bin/env bash
# AMQP 0-9-1 tap against a private RabbitMQ node (its own node name, ports, epmd, data
# and log folders under a temp dir): headers (binary mode) and structured JSON, the
# redelivered flag, a malformed message as a reject, a broker restart mid-tap losing
# nothing (the tap's durable x-expires queue waits for it), the firehose tracer, two taps
# at once, and exit-3 errors.
. "$(dirname "$0")/tap_lib.sh"
need sqlite3
need amqp-publish
RMQ=/usr/lib/rabbitmq/bin
[ -x "$RMQ/rabbitmq-server" ] || cannot_start "rabbitmq-server not installed"
command -v epmd >/dev/null || [ -x /usr/lib/erlang/bin/epmd ] || cannot_start "epmd not found"
EPMD=$(command -v epmd || echo /usr/lib/erlang/bin/epmd)
P=$(port_for 31)
DB=$T/store.db
R=$T/rmq
mkdir -p "$R"
echo "[]." >"$R/enabled_plugins"
printf 'listeners.tcp.default = 127.0.0.1:%s\nloopback_users = none\n' "$P" >"$R/rabbitmq.conf"
export HOME=$R RABBITMQ_NODENAME=estap$P@localhost RABBITMQ_NODE_PORT=$P \
    RABBITMQ_DIST_PORT=$((P + 1)) RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    ERL_EPMD_PORT=$((P + 2)) RABBITMQ_MNESIA_BASE=$R/mnesia RABBITMQ_LOG_BASE=$R/log \
    RABBITMQ_CONFIG_FILE=$R/rabbitmq RABBITMQ_ENABLED_PLUGINS_FILE=$R/enabled_plugins \
    RABBITMQ_PID_FILE=$R/pid RABBITMQ_PLUGINS_EXPAND_DIR=$R/plugins-expand \
    RABBITMQ_ADVANCED_CONFIG_FILE=$R/advanced.config
"$EPMD" -port "$((P + 2))" >/dev/null 2>&1 &
PIDS+=($!)
start_broker() {
    "$RMQ/rabbitmq-server" >"$R/out.log" 2>&1 &
    BROKER=$!
    PIDS+=("$BROKER")
    wait_port "$P" 180 || cannot_start "rabbitmq-server did not start on $P: $(tail -5 "$R/out.log")"
}
stop_broker() {
    kill "$BROKER"
    wait "$BROKER" 2>/dev/null
    wait_closed "$P" 60 || fail "rabbitmq still listening"
}
start_broker
U=amqp://guest:guest@127.0.0.1:$P
pub_binary() { # PREFIX N ROUTING_KEY
    local i
    for i in $(seq 0 $(($2 - 1))); do
        amqp-publish -u "$U" -e amq.topic -r "$3" -p -C application/json \
            -H "cloudEvents_specversion: 1.0" -H "cloudEvents_id: $1-$i" \
            -H "cloudEvents_type: OrderPlaced" -H "cloudEvents_source: /orders" \
            -H "cloudEvents_correlationid: corr-$i" -b "{\"n\":$i}" || fail "amqp-publish $1-$i"
    done
}
pub_structured() { # PREFIX N ROUTING_KEY
    local i
    for i in $(seq 0 $(($2 - 1))); do
        amqp-publish -u "$U" -e amq.topic -r "$3" -p -C application/cloudevents+json \
            -b "{\"specversion\":\"1.0\",\"id\":\"$1-$i\",\"type\":\"OrderPaid\",\"source\":\"/payments\",\"correlationid\":\"corr-$i\",\"data\":{\"n\":$i}}" ||
            fail "amqp-publish $1-$i"
    done
}

start_tap "$T/tap1.log" "$U/?exchange=amq.topic&binding=orders.%23,payments.*" || die "no tap"
pub_binary b 10 orders.eu.placed
pub_structured s 5 payments.paid
amqp-publish -u "$U" -e amq.topic -r orders.bad -C application/cloudevents+json -b '{"id":' ||
    fail "publish malformed"
amqp-publish -u "$U" -e amq.topic -r unrelated.key -b '{"id":"n-0"}' || fail "publish unrelated"
wait_sql "select count(*) from events" 15 15 && ok "15 events queryable while tapping" || fail "events"
wait_sql "select count(*) from rejects" 1 5 && ok "malformed message is a reject" || fail "reject"
got=$(sql "select type||'|'||source||'|'||correlation_id||'|'||transport||'|'||channel||'|'||direction||'|'||json_extract(attrs,'\$.redelivered')||'|'||json_extract(attrs,'\$.routing_key')||'|'||data from events where event_id='b-7'")
[ "$got" = 'OrderPlaced|/orders|corr-7|amqp|amq.topic|deliver|0|orders.eu.placed|{"n":7}' ] &&
    ok "header attributes, redelivered flag" || fail "binary mode: $got"
got=$(sql "select type||'|'||source||'|'||json_extract(attrs,'\$.routing_key')||'|'||data from events where event_id='s-4'")
[ "$got" = 'OrderPaid|/payments|payments.paid|{"n":4}' ] && ok "structured mode" || fail "structured: $got"
[ "$(sql "select count(*) from events where event_id='n-0'")" = 0 ] && ok "unbound routing key ignored" ||
    fail "stored an unbound routing key"

# broker restart mid-tap: let the acknowledgements go out, then stop the broker
sleep 1
stop_broker
wait_log "$T/tap1.log" "connection lost" 15 && ok "tap says the broker went away" || fail "no notice"
start_broker
# routed to the tap's durable queue even if the tap has not reconnected yet
pub_binary r 5 orders.us.placed
wait_log "$T/tap1.log" "reconnected" 60 && ok "tap reconnected" || fail "no reconnect notice"
pub_binary r2 5 orders.us.placed
wait_sql "select count(*) from events where event_id like 'r%'" 10 30 || fail "after restart"
check_once b 10
check_once s 5
check_once r 5
check_once r2 5

# two taps at once: a second process on the same store, on another exchange
TAP1=$TAP_PID
start_tap "$T/tap2.log" "$U/%2F?exchange=amq.direct&binding=audit" || die "no tap 2"
TAP2=$TAP_PID
for i in $(seq 0 19); do
    amqp-publish -u "$U" -e amq.direct -r audit -H "cloudEvents_id: x-$i" -H "cloudEvents_type: Audited" -b '{}' &
    PUB=$!
    amqp-publish -u "$U" -e amq.topic -r orders.more -H "cloudEvents_id: y-$i" -H "cloudEvents_type: More" -b '{}'
    wait "$PUB"
done
wait_sql "select count(*) from events where substr(event_id,1,2) in ('x-','y-')" 40 15 || fail "two taps"
check_once x 20
check_once y 20
TAP_PID=$TAP2
stop_tap "$T/tap2.log"
TAP_PID=$TAP1
stop_tap "$T/tap1.log"

# firehose: every publish, also to exchanges nobody tapped
if "$RMQ/rabbitmqctl" -q trace_on >"$T/trace.log" 2>&1; then
    DB=$T/firehose.db
    start_tap "$T/tap3.log" "$U/?firehose=1" || die "no firehose tap"
    for i in 0 1 2; do
        amqp-publish -u "$U" -e amq.fanout -r any -H "cloudEvents_id: f-$i" -H "cloudEvents_type: Traced" -b '{}'
    done
    wait_sql "select count(*) from events where event_id like 'f-%' and direction='publish' and channel='amq.fanout'" 3 15 &&
        ok "firehose sees every publish" || fail "firehose: $(sql 'select event_id,direction,channel from events')"
    stop_tap "$T/tap3.log"
    DB=$T/store.db
else
    fail "rabbitmqctl trace_on: $(cat "$T/trace.log")"
fi

expect_exit3 "refused credentials" "amqp://guest:wrong@127.0.0.1:$P/?exchange=amq.topic"
expect_exit3 "unknown exchange" "$U/?exchange=no.such.exchange"
expect_exit3 "unknown vhost" "$U/nosuchvhost?exchange=amq.topic"
expect_exit3 "no exchange" "$U/"
expect_exit3 "unknown host" "amqp://no-such-host.invalid:$P/?exchange=amq.topic"
stop_broker
finish
