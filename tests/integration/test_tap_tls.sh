#!/usr/bin/env bash
# TLS and credentials of the broker taps (issue 5) against real servers on 127.0.0.1.
#
# A throwaway CA (openssl, in the temp dir) signs a server certificate for 127.0.0.1
# (subjectAltName IP:127.0.0.1, DNS:localhost; its CN is not an address, so only the IP
# entry can match) and a client certificate; a second CA signs a "rogue" client
# certificate and serves as the wrong --ca.
#
#   mosquitto     one TLS listener requiring a client certificate (require_certificate),
#                 one TLS listener with a password_file; both also on 127.0.0.2
#   nats-server   tls { cert_file key_file ca_file verify: true } plus a user/password
#   rabbitmq      a private node with only an SSL listener (verify_peer,
#                 fail_if_no_peer_cert), also on 127.0.0.2; amqp-publish --ssl publishes
#                 to "localhost" (librabbitmq matches DNS names only); the tap connects
#                 both by address (IP entry, checked through OpenSSL) and by name
#   Kafka         NOT tested over TLS: librdkafka's mock cluster (rdkafka_mock.h), the only
#                 Kafka that runs here (Debian ships no Kafka broker), has no TLS listener.
#                 Tested: a TLS tap (--ca) against the mock's plaintext port fails in one
#                 line, exit 3, without hanging.
#
# For each broker: the tap with --ca (and --cert/--key) stores every published CloudEvent
# exactly once with its attributes; the password comes from the URL, from ${VAR} and from
# EVENTSCOPE_TAP_PASSWORD and never reaches stderr or the store; a wrong CA, a missing or
# rogue client certificate, refused credentials, a certificate for another address and a
# plaintext URL against a TLS-only port are each one clear line and exit 3, quickly.
# Every server is started here and stopped by its PID. A server that cannot start fails
# this test (it never skips).
. "$(dirname "$0")/tap_lib.sh"
cannot_start() { die "$1"; }
for c in openssl sqlite3 mosquitto mosquitto_pub mosquitto_passwd nats-server python3 \
    amqp-publish; do
    command -v "$c" >/dev/null 2>&1 || die "$c not installed (make deps)"
done
HERE=$(cd "$(dirname "$0")" && pwd)
RMQ=/usr/lib/rabbitmq/bin
[ -x "$RMQ/rabbitmq-server" ] || die "rabbitmq-server not installed (make deps)"
EPMD=$(command -v epmd || echo /usr/lib/erlang/bin/epmd)
[ -x "$EPMD" ] || die "epmd not found"
DB=$T/store.db
C=$T/pki
PW=s3cret-$$ # a password unique to this run, to look for leaks
mkdir -p "$C"
# the servers drop privileges (mosquitto runs as its own user): let them read here
chmod 755 "$T" "$C"

# --- certificates ----------------------------------------------------------------------------
ossl() { openssl "$@" >>"$C/openssl.log" 2>&1 || die "openssl $1 failed: $(tail -3 "$C/openssl.log")"; }
ext() { printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nsubjectAltName=%s\nextendedKeyUsage=%s\n' "$1" "$2" >"$C/ext"; }
mkca() { # NAME CN
    ossl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$2" -keyout "$C/$1.key" -out "$C/$1.pem"
}
mkcert() { # NAME CN CA SAN EKU
    ossl req -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$C/$1.key" -out "$C/$1.csr"
    ext "$4" "$5"
    ossl x509 -req -days 2 -in "$C/$1.csr" -CA "$C/$3.pem" -CAkey "$C/$3.key" -CAcreateserial \
        -extfile "$C/ext" -out "$C/$1.pem"
}
mkca ca "eventscope test CA $$"
mkca other "some other CA $$"
mkcert server "eventscope test broker" ca "IP:127.0.0.1,DNS:localhost" serverAuth
mkcert client tapclient ca "DNS:tapclient" clientAuth
mkcert rogue tapclient other "DNS:tapclient" clientAuth
openssl verify -CAfile "$C/ca.pem" "$C/server.pem" "$C/client.pem" >/dev/null 2>&1 ||
    die "the test certificates do not verify"
printf 'not a certificate\n' >"$C/junk.pem"
ossl pkey -in "$C/client.key" -aes256 -passout pass:pw -out "$C/encrypted.key"
chmod 644 "$C"/*
CA=(--ca "$C/ca.pem")
MTLS=(--ca "$C/ca.pem" --cert "$C/client.pem" --key "$C/client.key")

# --- helpers ---------------------------------------------------------------------------------
# expect3 WHAT PATTERN TAP-ARGS...: exit 3, one line on stderr matching PATTERN (grep -E),
# within 20 s although --duration would keep a tap that connected running for 30 s.
expect3() {
    local what=$1 pat=$2 rc lines t0 el
    shift 2
    t0=$(date +%s)
    timeout 90 "$ES_BIN" -d "$DB" tap "$@" --duration 30 >"$T/err.out" 2>"$T/err.log"
    rc=$?
    el=$(($(date +%s) - t0))
    lines=$(wc -l <"$T/err.log")
    if [ "$rc" = 3 ] && [ "$lines" = 1 ] && grep -Eq -- "$pat" "$T/err.log" && [ "$el" -lt 20 ]; then
        ok "$what: exit 3 in ${el}s: $(cat "$T/err.log")"
    else
        fail "$what: exit $rc, $lines line(s) in ${el}s, want exit 3 and one line matching [$pat]: $(cat "$T/err.log")"
    fi
    cat "$T/err.log" >>"$T/all-errors.log"
}
# attrs ID: the stored attributes of one event, |-separated
attrs() {
    sql "select type||'|'||source||'|'||coalesce(correlation_id,'')||'|'||transport||'|'||channel||'|'||direction||'|'||coalesce(data,'') from events where event_id='$1'"
}
check_attrs() { # ID EXPECTED
    local got
    got=$(attrs "$1")
    [ "$got" = "$2" ] && ok "$1: attributes $got" || fail "$1: attributes [$got], want [$2]"
}

# --- RabbitMQ first: it takes a while to boot, so it starts while MQTT and NATS run -----------
PR=$(port_for 61)
R=$T/rmq
mkdir -p "$R"
echo "[]." >"$R/enabled_plugins"
cat >"$R/rabbitmq.conf" <<CONF
listeners.tcp = none
listeners.ssl.1 = 127.0.0.1:$PR
listeners.ssl.2 = 127.0.0.2:$PR
ssl_options.cacertfile = $C/ca.pem
ssl_options.certfile = $C/server.pem
ssl_options.keyfile = $C/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = true
loopback_users = none
CONF
(
    export HOME=$R RABBITMQ_NODENAME=estls$PR@localhost RABBITMQ_DIST_PORT=$((PR + 1)) \
        ERL_EPMD_PORT=$((PR + 2)) RABBITMQ_MNESIA_BASE=$R/mnesia RABBITMQ_LOG_BASE=$R/log \
        RABBITMQ_CONFIG_FILE=$R/rabbitmq RABBITMQ_ENABLED_PLUGINS_FILE=$R/enabled_plugins \
        RABBITMQ_PID_FILE=$R/pid RABBITMQ_PLUGINS_EXPAND_DIR=$R/plugins-expand \
        RABBITMQ_ADVANCED_CONFIG_FILE=$R/advanced.config
    exec "$EPMD" -port "$((PR + 2))"
) >/dev/null 2>&1 &
PIDS+=($!)
(
    export HOME=$R RABBITMQ_NODENAME=estls$PR@localhost RABBITMQ_DIST_PORT=$((PR + 1)) \
        ERL_EPMD_PORT=$((PR + 2)) RABBITMQ_MNESIA_BASE=$R/mnesia RABBITMQ_LOG_BASE=$R/log \
        RABBITMQ_CONFIG_FILE=$R/rabbitmq RABBITMQ_ENABLED_PLUGINS_FILE=$R/enabled_plugins \
        RABBITMQ_PID_FILE=$R/pid RABBITMQ_PLUGINS_EXPAND_DIR=$R/plugins-expand \
        RABBITMQ_ADVANCED_CONFIG_FILE=$R/advanced.config
    exec "$RMQ/rabbitmq-server"
) >"$R/out.log" 2>&1 &
RABBIT=$!
PIDS+=("$RABBIT")

# --- MQTT: mosquitto ---------------------------------------------------------------------------
PM=$(port_for 51)      # TLS, client certificate required
PP=$((PM + 1))         # TLS, password_file
M=$T/mq
mkdir -p "$M"
chmod 777 "$M"
mosquitto_passwd -b -c "$M/passwd" tapuser "$PW" >/dev/null 2>&1 || die "mosquitto_passwd failed"
chmod 644 "$M/passwd"
tlsconf() {
    printf 'cafile %s\ncertfile %s\nkeyfile %s\n' "$C/ca.pem" "$C/server.pem" "$C/server.key"
}
{
    echo "per_listener_settings true"
    for a in 127.0.0.1 127.0.0.2; do
        echo "listener $PM $a"
        tlsconf
        echo "require_certificate true"
        echo "allow_anonymous true"
        echo "listener $PP $a"
        tlsconf
        echo "allow_anonymous false"
        echo "password_file $M/passwd"
    done
} >"$M/m.conf"
mosquitto -c "$M/m.conf" >"$M/log" 2>&1 &
MOSQ=$!
PIDS+=("$MOSQ")
wait_port "$PM" 10 && wait_port "$PP" 10 || die "mosquitto did not start on $PM/$PP: $(tail -3 "$M/log")"

mq_pub() { # PORT TOPIC ID MODE AUTH...
    local port=$1 topic=$2 id=$3 mode=$4
    shift 4
    if [ "$mode" = binary ]; then
        mosquitto_pub -V 5 -h 127.0.0.1 -p "$port" -q 1 -t "$topic" "$@" \
            -D publish user-property ce_specversion 1.0 -D publish user-property ce_id "$id" \
            -D publish user-property ce_type OrderPlaced -D publish user-property ce_source /orders \
            -D publish user-property ce_correlationid "corr-$id" \
            -D publish content-type application/json -m "{\"id\":\"$id\"}"
    else
        mosquitto_pub -V 5 -h 127.0.0.1 -p "$port" -q 1 -t "$topic" "$@" \
            -D publish content-type application/cloudevents+json \
            -m "{\"specversion\":\"1.0\",\"id\":\"$id\",\"type\":\"OrderPaid\",\"source\":\"/payments\",\"correlationid\":\"corr-$id\",\"data\":{\"id\":\"$id\"}}"
    fi || fail "mosquitto_pub $id"
}
MQ_MTLS=(--cafile "$C/ca.pem" --cert "$C/client.pem" --key "$C/client.key")
MQ_PASS=(--cafile "$C/ca.pem" -u tapuser -P "$PW")

# mutual TLS: --ca --cert --key
start_tap "$T/mq1.log" "mqtts://127.0.0.1:$PM/tls/#" "${MTLS[@]}" || die "no MQTT TLS tap"
for i in 0 1 2 3 4; do mq_pub "$PM" tls/orders "mb-$i" binary "${MQ_MTLS[@]}"; done
for i in 0 1 2; do mq_pub "$PM" tls/payments "ms-$i" structured "${MQ_MTLS[@]}"; done
wait_sql "select count(*) from events where event_id like 'm%'" 8 15 || fail "MQTT over TLS"
stop_tap "$T/mq1.log"
check_once mb 5
check_once ms 3
check_attrs mb-3 'OrderPlaced|/orders|corr-mb-3|mqtt|tls/orders|deliver|{"id":"mb-3"}'
check_attrs ms-1 'OrderPaid|/payments|corr-ms-1|mqtt|tls/payments|deliver|{"id":"ms-1"}'

# TLS + password: in the URL, as ${VAR}, from EVENTSCOPE_TAP_PASSWORD; one process, 3 URLs
export ES_TLS_TEST_PW=$PW
export EVENTSCOPE_TAP_PASSWORD=$PW
start_tap "$T/mq2.log" "mqtts://tapuser:$PW@127.0.0.1:$PP/pw/url" \
    "mqtts://tapuser:\${ES_TLS_TEST_PW}@127.0.0.1:$PP/pw/env" \
    "mqtts://tapuser@127.0.0.1:$PP/pw/dflt" "${CA[@]}" || die "no MQTT password taps"
unset EVENTSCOPE_TAP_PASSWORD
for i in 0 1 2; do
    mq_pub "$PP" pw/url "mu-$i" binary "${MQ_PASS[@]}"
    mq_pub "$PP" pw/env "me-$i" structured "${MQ_PASS[@]}"
    mq_pub "$PP" pw/dflt "md-$i" binary "${MQ_PASS[@]}"
done
wait_sql "select count(*) from events where substr(event_id,1,3) in ('mu-','me-','md-')" 9 15 ||
    fail "MQTT with passwords"
stop_tap "$T/mq2.log"
check_once mu 3
check_once me 3
check_once md 3
check_attrs me-2 'OrderPaid|/payments|corr-me-2|mqtt|pw/env|deliver|{"id":"me-2"}'
got=$(sql "select count(distinct e.origin_id) from events e join origins o on o.id = e.origin_id where substr(e.event_id,1,3) in ('mu-','me-','md-') and o.uri like 'mqtts://tapuser@127.0.0.1:$PP/pw/%'")
[ "$got" = 3 ] && ok "each password URL is its own origin, recorded without the password" ||
    fail "origins of the password URLs: $got"

PLAIN_MQTT_URL="mqtt://127.0.0.1:$PM/x"
expect3 "MQTT wrong CA" "certificate verify failed.*--ca" \
    "mqtts://127.0.0.1:$PM/x" --ca "$C/other.pem" --cert "$C/client.pem" --key "$C/client.key"
expect3 "MQTT no client certificate" "client certificate.*--cert" "mqtts://127.0.0.1:$PM/x" "${CA[@]}"
expect3 "MQTT client certificate of another CA" "accept this client certificate" \
    "mqtts://127.0.0.1:$PM/x" --ca "$C/ca.pem" --cert "$C/rogue.pem" --key "$C/rogue.key"
expect3 "MQTT certificate for another address" "certificate verify failed" \
    "mqtts://127.0.0.2:$PM/x" "${MTLS[@]}"
expect3 "MQTT wrong password" "refused.*[Nn]ot authori[sz]ed" "mqtts://tapuser:wrong@127.0.0.1:$PP/x" "${CA[@]}"
expect3 "MQTT user without password" "refused.*[Nn]ot authori[sz]ed" "mqtts://tapuser@127.0.0.1:$PP/x" "${CA[@]}"
expect3 "MQTT \${VAR} not set" 'ES_TLS_UNSET.*not set' \
    "mqtts://tapuser:\${ES_TLS_UNSET}@127.0.0.1:$PP/x" "${CA[@]}"
expect3 "MQTT plaintext URL, TLS-only port" "closed the connection.*TLS" "$PLAIN_MQTT_URL"
expect3 "MQTT missing --ca file" "cannot read --ca .*No such file" "mqtts://127.0.0.1:$PM/x" --ca "$C/none.pem"
expect3 "MQTT --key not PEM" "--key .* not a PEM file" \
    "mqtts://127.0.0.1:$PM/x" --ca "$C/ca.pem" --cert "$C/client.pem" --key "$C/junk.pem"
# libmosquitto would ask for the pass phrase on the terminal: refused before that (</dev/null)
expect3 "MQTT encrypted --key" "--key .* is encrypted" \
    "mqtts://127.0.0.1:$PM/x" --ca "$C/ca.pem" --cert "$C/client.pem" --key "$C/encrypted.key" </dev/null

# the broker restarts mid-tap: the tap reconnects over TLS and goes on
start_tap "$T/mq3.log" "mqtts://127.0.0.1:$PM/again/#" "${MTLS[@]}" || die "no MQTT TLS tap"
mq_pub "$PM" again/x mr-0 binary "${MQ_MTLS[@]}"
wait_sql "select count(*) from events where event_id = 'mr-0'" 1 10 || fail "MQTT before the restart"
kill "$MOSQ"
wait "$MOSQ" 2>/dev/null
wait_log "$T/mq3.log" "connection lost" 10 && ok "MQTT tap says the broker went away" || fail "no notice"
mosquitto -c "$M/m.conf" >"$M/log2" 2>&1 &
MOSQ=$!
PIDS+=("$MOSQ")
wait_port "$PM" 10 || die "mosquitto did not restart: $(tail -3 "$M/log2")"
wait_log "$T/mq3.log" "reconnected" 20 && ok "MQTT tap reconnected over TLS" || fail "no reconnect notice"
mq_pub "$PM" again/x mr-1 binary "${MQ_MTLS[@]}"
mq_pub "$PM" again/x mr-2 binary "${MQ_MTLS[@]}"
wait_sql "select count(*) from events where event_id like 'mr-%'" 3 15 || fail "MQTT after the restart"
stop_tap "$T/mq3.log"
check_once mr 3

# --- NATS: nats-server ---------------------------------------------------------------------------
PN=$(port_for 55)
cat >"$T/nats.conf" <<CONF
listen: "127.0.0.1:$PN"
tls {
  cert_file: "$C/server.pem"
  key_file: "$C/server.key"
  ca_file: "$C/ca.pem"
  verify: true
  timeout: 5
}
authorization {
  user: tapuser
  password: "$PW"
}
CONF
nats-server -c "$T/nats.conf" >"$T/nats.log" 2>&1 &
NATS=$!
PIDS+=("$NATS")
wait_port "$PN" 10 || die "nats-server did not start on $PN: $(tail -3 "$T/nats.log")"
grep -q "TLS required" "$T/nats.log" || fail "nats-server did not say TLS is required"
npub() { python3 "$HERE/nats_tls_pub.py" 127.0.0.1 "$PN" "$C/ca.pem" "$C/client.pem" "$C/client.key" tapuser "$PW"; }
ngen() { # PREFIX N SUBJECT
    local i
    for i in $(seq 0 $(($2 - 1))); do
        printf '{"subject":"%s","headers":[["ce-specversion","1.0"],["ce-id","%s-%d"],["ce-type","OrderPlaced"],["ce-source","/orders"],["ce-correlationid","corr-%s-%d"],["content-type","application/json"]],"body":"{\\"id\\":\\"%s-%d\\"}"}\n' \
            "$3" "$1" "$i" "$1" "$i" "$1" "$i"
    done
}
start_tap "$T/nats1.log" "nats://tapuser:$PW@127.0.0.1:$PN/tls.>" \
    "nats://tapuser:\${ES_TLS_TEST_PW}@127.0.0.1:$PN/env.*" "${MTLS[@]}" || die "no NATS TLS tap"
ngen nb 6 tls.orders.placed | npub || fail "publish to NATS over TLS"
ngen ne 4 env.orders | npub || fail "publish to NATS over TLS"
wait_sql "select count(*) from events where substr(event_id,1,3) in ('nb-','ne-')" 10 15 ||
    fail "NATS over TLS"
# the server restarts mid-tap: libnats reconnects (and redoes TLS) by itself
kill "$NATS"
wait "$NATS" 2>/dev/null
wait_log "$T/nats1.log" "connection lost" 10 && ok "NATS tap says the server went away" || fail "no notice"
nats-server -c "$T/nats.conf" >"$T/nats2.log" 2>&1 &
NATS=$!
PIDS+=("$NATS")
wait_port "$PN" 10 || die "nats-server did not restart: $(tail -3 "$T/nats2.log")"
# two connections (two URLs), each reconnects on its own: the one publishing to waits for its own
wait_log "$T/nats1.log" 'tls\.>: reconnected' 20 && wait_log "$T/nats1.log" 'env\.\*: reconnected' 20 &&
    ok "NATS tap reconnected over TLS" || fail "no reconnect notice"
ngen nr 4 tls.orders.again | npub || fail "publish to NATS after the restart"
wait_sql "select count(*) from events where event_id like 'nr-%'" 4 15 || fail "NATS after the restart"
stop_tap "$T/nats1.log"
check_once nr 4
check_once nb 6
check_once ne 4
check_attrs nb-5 'OrderPlaced|/orders|corr-nb-5|nats|tls.orders.placed|deliver|{"id":"nb-5"}'
check_attrs ne-0 'OrderPlaced|/orders|corr-ne-0|nats|env.orders|deliver|{"id":"ne-0"}'

expect3 "NATS wrong CA" "(verif|issuer).*--ca" \
    "nats://tapuser:$PW@127.0.0.1:$PN/x" --ca "$C/other.pem" --cert "$C/client.pem" --key "$C/client.key"
expect3 "NATS no client certificate" "client certificate.*--cert" "nats://tapuser:$PW@127.0.0.1:$PN/x" "${CA[@]}"
expect3 "NATS client certificate of another CA" "accept this client certificate" \
    "nats://tapuser:$PW@127.0.0.1:$PN/x" --ca "$C/ca.pem" --cert "$C/rogue.pem" --key "$C/rogue.key"
expect3 "NATS wrong password" "Authorization" "nats://tapuser:wrong@127.0.0.1:$PN/x" "${MTLS[@]}"
expect3 "NATS no credentials" "Authorization" "nats://127.0.0.1:$PN/x" "${MTLS[@]}"
expect3 "NATS plaintext URL, TLS-only server" "requires TLS" "nats://tapuser:$PW@127.0.0.1:$PN/x"

# --- AMQP: rabbitmq-server -------------------------------------------------------------------------
wait_port "$PR" 240 || die "rabbitmq-server (TLS listener) did not start on $PR: $(tail -5 "$R/out.log")"
# amqp-publish checks the host name against DNS entries only: publish to "localhost"
apub() { # ROUTING_KEY ID [EXCHANGE]
    amqp-publish --ssl --cacert "$C/ca.pem" --cert "$C/client.pem" --key "$C/client.key" \
        -u "amqps://guest:guest@localhost:$PR" -e "${3:-amq.topic}" -r "$1" -C application/json \
        -H "cloudEvents_specversion: 1.0" -H "cloudEvents_id: $2" -H "cloudEvents_type: OrderPlaced" \
        -H "cloudEvents_source: /orders" -H "cloudEvents_correlationid: corr-$2" -b "{\"id\":\"$2\"}" ||
        fail "amqp-publish --ssl $2"
}
export ES_TLS_GUEST_PW=guest
start_tap "$T/amqp1.log" "amqps://guest:guest@127.0.0.1:$PR/%2F?exchange=amq.topic&binding=tls.%23" \
    "amqps://guest:\${ES_TLS_GUEST_PW}@127.0.0.1:$PR/%2F?exchange=amq.direct&binding=env" \
    "amqps://guest:guest@localhost:$PR/%2F?exchange=amq.fanout" \
    "${MTLS[@]}" || die "no AMQP TLS tap"
for i in 0 1 2 3 4; do apub tls.orders "ab-$i"; done
for i in 0 1 2; do apub env "ae-$i" amq.direct; done
for i in 0 1; do apub any "al-$i" amq.fanout; done
wait_sql "select count(*) from events where substr(event_id,1,3) in ('ab-','ae-','al-')" 10 20 ||
    fail "AMQP over TLS"
stop_tap "$T/amqp1.log"
check_once ab 5
check_once ae 3
check_once al 2 # the host name form: librabbitmq's own check of the DNS entry
check_attrs ab-4 'OrderPlaced|/orders|corr-ab-4|amqp|amq.topic|deliver|{"id":"ab-4"}'
check_attrs ae-1 'OrderPlaced|/orders|corr-ae-1|amqp|amq.direct|deliver|{"id":"ae-1"}'
AQ="/%2F?exchange=amq.topic&expires=60"
expect3 "AMQP wrong CA" "verification failed.*--ca" \
    "amqps://guest:guest@127.0.0.1:$PR$AQ" --ca "$C/other.pem" --cert "$C/client.pem" --key "$C/client.key"
expect3 "AMQP certificate for another address" "verification failed" "amqps://guest:guest@127.0.0.2:$PR$AQ" "${MTLS[@]}"
expect3 "AMQP no client certificate" "client certificate.*--cert" "amqps://guest:guest@127.0.0.1:$PR$AQ" "${CA[@]}"
expect3 "AMQP client certificate of another CA" "accept this client certificate" \
    "amqps://guest:guest@127.0.0.1:$PR$AQ" --ca "$C/ca.pem" --cert "$C/rogue.pem" --key "$C/rogue.key"
expect3 "AMQP wrong password" "ACCESS_REFUSED" "amqps://guest:wrong@127.0.0.1:$PR$AQ" "${MTLS[@]}"
expect3 "AMQP plaintext URL, TLS-only port" "closed the connection.*amqps://" "amqp://guest:guest@127.0.0.1:$PR$AQ"

# --- Kafka: the mock cluster has no TLS; a TLS tap against its plaintext port ----------------------
MOCK=$ES_BUILD/tests/kafka_mock
if [ -x "$MOCK" ]; then
    mkfifo "$T/mock.in" "$T/mock.out"
    "$MOCK" orders 1 <"$T/mock.in" >"$T/mock.out" 2>"$T/mock.err" &
    PIDS+=($!)
    exec 7>"$T/mock.in"
    exec 8<"$T/mock.out"
    read -r -t 20 -u 8 first || die "kafka mock cluster did not start: $(cat "$T/mock.err")"
    BS=${first#BOOTSTRAP }
    expect3 "Kafka TLS against a plaintext port" "cannot reach Kafka.*TLS is on" "kafka://$BS/orders" "${MTLS[@]}"
    exec 7>&-
else
    die "$MOCK not built (librdkafka missing?)"
fi

# --- no password anywhere it should not be ---------------------------------------------------------
if grep -rl -- "$PW" "$T"/*.log "$T"/err.* 2>/dev/null | grep -q .; then
    fail "the password reached stderr: $(grep -rl -- "$PW" "$T"/*.log "$T"/err.*)"
else
    ok "no password on stderr"
fi
got=$(sqlite3 "$DB" .dump | grep -c -- "$PW")
[ "$got" = 0 ] && ok "no password in the store" || fail "the password is in the store ($got lines)"
finish
