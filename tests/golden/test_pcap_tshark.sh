#!/usr/bin/env bash
# Cross-checks the capture collector against tshark (skipped when tshark is absent): on the
# real captures, the number of distinct frames that produced events of one kind must equal
# the number of matching messages tshark's own dissectors find.
set -u
bin=${ES_BIN:?ES_BIN must name the eventscope binary}
src=${ES_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
if ! command -v tshark >/dev/null; then
    echo "tshark not installed: cross-check skipped"
    exit 0
fi
tmp=$(mktemp -d "$( [ -d /dev/shm ] && echo /dev/shm || echo /tmp)/es-tshark.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail=0
# check NAME PCAP "TSHARK ARGS" "SQL WHERE"
check() {
    local name=$1 pcap=$2 targs=$3 where=$4 want got
    rm -f "$tmp"/db*
    "$bin" -d "$tmp/db" capture -q -r "$pcap" 2>/dev/null
    # shellcheck disable=SC2086
    want=$(tshark -n -r "$pcap" $targs -T fields -e frame.number 2>/dev/null | sort -u | wc -l)
    # the first frame of each event's location ("frames 64-68#2" -> 64)
    got=$(sqlite3 "$tmp/db" "SELECT count(DISTINCT substr(x, 1, min(instr(x || '#', '#'), instr(x || '-', '-')) - 1))
                             FROM (SELECT replace(replace(location, 'frames ', ''), 'frame ', '') AS x
                                   FROM events WHERE $where)")
    if [ "$want" = "$got" ] && [ "$want" -gt 0 ]; then
        echo "ok   $name: $got"
    else
        echo "FAIL $name: tshark $want, eventscope $got"
        fail=1
    fi
}
c=$src/tests/captures
check "http POST requests" "$c/http.pcap" "-d tcp.port==18481,http -Y http.request.method==\"POST\"" \
    "transport='http' AND direction='publish'"
check "http POST requests, compressed bodies (br and a cut gzip body are rejects)" \
    "$c/http_encoded.pcap" \
    "-d tcp.port==18486,http -Y http.request.method==\"POST\"&&http.request.uri!=\"/br\"&&http.request.uri!=\"/cut\"" \
    "transport='http' AND direction='publish'"
check "mqtt PUBLISH" "$c/mqtt.pcap" "-d tcp.port==18483,mqtt -Y mqtt.msgtype==3" \
    "transport='mqtt'"
check "amqp basic.publish/deliver" "$c/amqp.pcap" \
    "-d tcp.port==18485,amqp -Y amqp.method.class==60&&(amqp.method.method==40||amqp.method.method==60)" \
    "transport='amqp'"
check "http POST requests inside VXLAN, Geneve, GRE and ERSPAN (crafted)" \
    "$src/tests/golden/pcap/link_tunnels/input.pcap" "-Y http.request.method==\"POST\"" \
    "transport='http' AND direction='publish'"
exit $fail
