#!/usr/bin/env bash
# Makes the real captures in tests/captures/: real clients talking to real local servers on
# 127.0.0.1, recorded with tcpdump on lo. Needs root (tcpdump), curl, python3, mosquitto,
# mosquitto-clients, nats-server, rabbitmq-server + amqp-tools, librdkafka-dev.
# Every server runs on a private port (184xx) and is stopped by its PID.
#   usage: tests/captures/make_captures.sh [http|http_encoded|mqtt|nats|amqp|kafka]...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/es-captures.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

# start_tcpdump FILE FILTER: records on lo until stop_tcpdump
start_tcpdump() {
    tcpdump -i lo --immediate-mode -U -s 0 -w "$1" "$2" 2>"$tmp/tcpdump.err" &
    tcpdump_pid=$!
    for _ in $(seq 50); do grep -q "listening on" "$tmp/tcpdump.err" 2>/dev/null && break; sleep 0.1; done
    sleep 0.3
}
stop_tcpdump() {
    sleep 1.5
    kill -INT "$tcpdump_pid"
    wait "$tcpdump_pid" || true
    grep -E "captured|dropped" "$tmp/tcpdump.err" >&2 || true
}
wait_port() {
    for _ in $(seq "${2:-100}"); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.2
    done
    echo "port $1 never opened" >&2
    return 1
}

make_http() {
    local port=18481
    python3 "$here/http_receiver.py" $port & local srv=$!; pids+=($srv)
    wait_port $port
    start_tcpdump "$here/http.pcap" "tcp port $port"
    local u=http://127.0.0.1:$port
    # One connection (curl --next keeps it alive): binary, structured, batch, chunked, reply.
    curl -sS -o /dev/null "$u/orders" -H 'ce-specversion: 1.0' -H 'ce-id: http-1' \
        -H 'ce-type: OrderPlaced' -H 'ce-source: /shop' -H 'ce-correlationid: corr-http-1' \
        -H 'ce-time: 2026-11-23T22:00:00Z' -H 'ce-subject: order%20o-1' \
        -H 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' \
        -H 'Content-Type: application/json' -d '{"orderId":"o-1","total":12.5}' \
        --next -sS -o /dev/null "$u/payments" -H 'Content-Type: application/cloudevents+json' \
        -d '{"specversion":"1.0","id":"http-2","type":"PaymentAuthorised","source":"/payments","correlationid":"corr-http-1","causationid":"http-1","time":"2026-11-23T22:00:01Z","data":{"amount":12.5}}' \
        --next -sS -o /dev/null "$u/batch" -H 'Content-Type: application/cloudevents-batch+json' \
        -d '[{"specversion":"1.0","id":"http-3","type":"StockReserved","source":"/stock","correlationid":"corr-http-1","causationid":"http-1"},{"specversion":"1.0","id":"http-4","type":"InvoiceCreated","source":"/billing","correlationid":"corr-http-1","causationid":"http-2"}]' \
        --next -sS -o /dev/null "$u/chunked" -H 'Transfer-Encoding: chunked' \
        -H 'ce-specversion: 1.0' -H 'ce-id: http-5' -H 'ce-type: OrderShipped' \
        -H 'ce-source: /warehouse' -H 'ce-correlationid: corr-http-1' -H 'ce-causationid: http-3' \
        -H 'Content-Type: application/json' -d '{"orderId":"o-1","carrier":"dhl"}' \
        --next -sS -o /dev/null "$u/events/reply" -H 'Content-Type: application/json' \
        -d '{"id":"http-6","type":"OrderConfirmed","source":"/shop","correlationId":"corr-http-1","causationId":"http-1"}' \
        --next -sS -o /dev/null "$u/health"
    stop_tcpdump
    kill $srv
}

# Compressed bodies (Content-Encoding), one keep-alive connection: gzip (binary mode),
# deflate as zlib and as raw deflate, zstd, gzip under chunked transfer coding, a gzip
# response; then two bodies eventscope must reject, not drop: br and a cut gzip stream.
make_http_encoded() {
    local port=18486 d=$tmp/enc
    python3 "$here/http_receiver.py" $port & local srv=$!; pids+=($srv)
    wait_port $port
    mkdir -p "$d"
    python3 - "$d" <<'PY'
import gzip, json, sys, zlib
d = sys.argv[1]
def ce(i, typ, src, cause=None):
    e = {"specversion": "1.0", "id": "enc-%d" % i, "type": typ, "source": src,
         "correlationid": "corr-enc-1", "time": "2026-11-23T23:00:0%dZ" % i, "data": {"n": i}}
    if cause:
        e["causationid"] = cause
    return json.dumps(e).encode()
open(d + "/1.gz", "wb").write(gzip.compress(b'{"orderId":"o-enc","total":7.5}', mtime=0))
open(d + "/2.zlib", "wb").write(zlib.compress(ce(2, "PaymentAuthorised", "/payments", "enc-1")))
raw = zlib.compressobj(wbits=-15)
open(d + "/3.raw", "wb").write(raw.compress(ce(3, "StockReserved", "/stock", "enc-1")) + raw.flush())
open(d + "/4.json", "wb").write(b'{"orderId":"o-enc","carrier":"ups"}')
open(d + "/5.gz", "wb").write(gzip.compress(ce(5, "InvoiceIssued", "/billing", "enc-2"), mtime=0))
open(d + "/6.br", "wb").write(b"\x1b\x2a\x00\xf8\x85\x94\x14\x0c\x00\x00not-really-brotli")
open(d + "/7.gz", "wb").write(gzip.compress(ce(7, "OrderCancelled", "/shop"), mtime=0)[:30])
PY
    zstd -q -19 "$d/4.json" -o "$d/4.zst"
    start_tcpdump "$here/http_encoded.pcap" "tcp port $port"
    local u=http://127.0.0.1:$port
    curl -sS -o /dev/null "$u/orders" -H 'ce-specversion: 1.0' -H 'ce-id: enc-1' \
        -H 'ce-type: OrderPlaced' -H 'ce-source: /shop' -H 'ce-correlationid: corr-enc-1' \
        -H 'Content-Type: application/json' -H 'Content-Encoding: gzip' --data-binary @"$d/1.gz" \
        --next -sS -o /dev/null "$u/payments" -H 'Content-Type: application/cloudevents+json' \
        -H 'Content-Encoding: deflate' --data-binary @"$d/2.zlib" \
        --next -sS -o /dev/null "$u/stock" -H 'Content-Type: application/cloudevents+json' \
        -H 'Content-Encoding: deflate' --data-binary @"$d/3.raw" \
        --next -sS -o /dev/null "$u/shipping" -H 'ce-specversion: 1.0' -H 'ce-id: enc-4' \
        -H 'ce-type: OrderShipped' -H 'ce-source: /warehouse' -H 'ce-correlationid: corr-enc-1' \
        -H 'ce-causationid: enc-3' -H 'Content-Type: application/json' \
        -H 'Content-Encoding: zstd' --data-binary @"$d/4.zst" \
        --next -sS -o /dev/null "$u/billing" -H 'Content-Type: application/cloudevents+json' \
        -H 'Content-Encoding: gzip' -H 'Transfer-Encoding: chunked' --data-binary @"$d/5.gz" \
        --next -sS -o /dev/null "$u/events/reply-gzip" -H 'Content-Type: application/json' \
        -d '{"id":"enc-6","type":"OrderConfirmed","source":"/shop","correlationId":"corr-enc-1"}' \
        --next -sS -o /dev/null "$u/br" -H 'Content-Type: application/cloudevents+json' \
        -H 'Content-Encoding: br' --data-binary @"$d/6.br" \
        --next -sS -o /dev/null "$u/cut" -H 'Content-Type: application/cloudevents+json' \
        -H 'Content-Encoding: gzip' --data-binary @"$d/7.gz"
    stop_tcpdump
    kill $srv
}

make_mqtt() {
    local port=18483
    printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' $port >"$tmp/mosq.conf"
    mosquitto -c "$tmp/mosq.conf" 2>/dev/null & local srv=$!; pids+=($srv)
    wait_port $port
    start_tcpdump "$here/mqtt.pcap" "tcp port $port"
    mosquitto_sub -V 5 -h 127.0.0.1 -p $port -t 'shop/#' -q 1 -C 3 -W 20 >/dev/null & local sub=$!
    sleep 0.5
    mosquitto_pub -V 5 -h 127.0.0.1 -p $port -t shop/orders -q 1 \
        -D publish user-property ce-specversion 1.0 -D publish user-property ce-id mqtt-1 \
        -D publish user-property ce-type OrderPlaced -D publish user-property ce-source /shop \
        -D publish user-property ce-correlationid corr-mqtt-1 \
        -D publish content-type application/json -m '{"orderId":"o-9","total":7}'
    mosquitto_pub -V mqttv311 -h 127.0.0.1 -p $port -t shop/legacy -q 0 \
        -m '{"id":"mqtt-2","type":"OrderShipped","source":"/warehouse","correlationId":"corr-mqtt-1","causationId":"mqtt-1"}'
    mosquitto_pub -V 5 -h 127.0.0.1 -p $port -t shop/payments -q 2 \
        -D publish user-property id mqtt-3 -D publish user-property type PaymentAuthorised \
        -D publish user-property source /payments -D publish correlation-data corr-mqtt-1 \
        -m '{"amount":7}'
    wait $sub || true
    stop_tcpdump
    kill $srv
}

make_nats() {
    local port=18484
    nats-server -a 127.0.0.1 -p $port >/dev/null 2>&1 & local srv=$!; pids+=($srv)
    wait_port $port
    start_tcpdump "$here/nats.pcap" "tcp port $port"
    python3 "$here/nats_client.py" $port
    stop_tcpdump
    kill $srv
}

make_amqp() {
    local port=18485
    if ! command -v rabbitmq-server >/dev/null; then echo "rabbitmq-server missing: amqp skipped" >&2; return 0; fi
    mkdir -p "$tmp/rmq/mnesia" "$tmp/rmq/log"
    # Debian's /usr/sbin wrapper switches to the rabbitmq user; run the real script as us.
    local rmq=/usr/lib/rabbitmq/bin/rabbitmq-server
    [ -x "$rmq" ] || rmq=rabbitmq-server
    echo '[].' >"$tmp/rmq/enabled_plugins"
    HOME="$tmp/rmq" RABBITMQ_NODE_PORT=$port RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
        RABBITMQ_NODENAME=espcap@localhost RABBITMQ_DIST_PORT=18486 \
        RABBITMQ_MNESIA_BASE="$tmp/rmq/mnesia" RABBITMQ_LOG_BASE="$tmp/rmq/log" \
        RABBITMQ_ENABLED_PLUGINS_FILE="$tmp/rmq/enabled_plugins" \
        RABBITMQ_FEATURE_FLAGS_FILE="$tmp/rmq/feature_flags" \
        RABBITMQ_CONFIG_FILE="$tmp/rmq/none" "$rmq" >"$tmp/rmq.out" 2>&1 & local srv=$!
    pids+=($srv)
    wait_port $port 300 || { tail -20 "$tmp/rmq.out" >&2; return 1; }
    sleep 2
    local url=amqp://guest:guest@127.0.0.1:$port
    amqp-declare-queue -u $url -q orders >/dev/null
    start_tcpdump "$here/amqp.pcap" "tcp port $port"
    amqp-publish -u $url -r orders -C application/json \
        -H 'cloudEvents_specversion: 1.0' -H 'cloudEvents_id: amqp-1' \
        -H 'cloudEvents_type: OrderPlaced' -H 'cloudEvents_source: /shop' \
        -H 'cloudEvents_correlationid: corr-amqp-1' -b '{"orderId":"o-5","total":20}'
    amqp-publish -u $url -r orders -C application/json -p \
        -H 'ce-id: amqp-2' -H 'ce-type: PaymentAuthorised' -H 'ce-source: /payments' \
        -H 'ce-correlationid: corr-amqp-1' -H 'ce-causationid: amqp-1' -b '{"amount":20}'
    # A body larger than frame_max (131072): several body frames.
    python3 -c 'import json; print(json.dumps({"id":"amqp-3","type":"CatalogImported","source":"/catalog","correlationId":"corr-amqp-1","items":["x"*64]*2100}))' |
        amqp-publish -u $url -r orders -C application/json
    amqp-consume -u $url -q orders -c 3 cat >/dev/null
    stop_tcpdump
    kill $srv
    wait $srv 2>/dev/null || true
}

make_kafka() {
    cc -O1 -o "$tmp/kafka_mock" "$here/kafka_mock.c" $(pkg-config --cflags --libs rdkafka)
    mkfifo "$tmp/go"
    "$tmp/kafka_mock" <"$tmp/go" >"$tmp/kafka.bs" & local prog=$!; pids+=($prog)
    exec 4>"$tmp/go"
    for _ in $(seq 50); do [ -s "$tmp/kafka.bs" ] && break; sleep 0.1; done
    local bs; bs=$(cat "$tmp/kafka.bs"); local port=${bs##*:}
    start_tcpdump "$here/kafka.pcap" "tcp port $port"
    echo go >&4
    exec 4>&-
    wait $prog
    stop_tcpdump
    echo "$port" >"$here/kafka.port"
}

want=("$@")
[ ${#want[@]} -eq 0 ] && want=(http http_encoded mqtt nats amqp kafka)
for w in "${want[@]}"; do
    echo "== $w" >&2
    "make_$w"
done
ls -l "$here"/*.pcap >&2
