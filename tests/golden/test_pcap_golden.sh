#!/usr/bin/env bash
# Golden cases of the capture collector: tests/golden/pcap/<case>/ holds input.pcap (or
# input.pcapng), args (the eventscope command line; {input} is the capture, {src} the
# source tree, for the larger captures kept once in tests/captures/) and
# expected.json (events and rejects, dumped by pcap_dump.py). UPDATE=1 rewrites
# expected.json; review that diff like code. Optional argument: one case name.
# Every case runs twice, decoded on the reading thread (--threads 1) and by three worker
# threads (--threads 3) in rounds of 5 packets (EVENTSCOPE_ROUND_PACKETS, so that output
# is merged across many rounds): both must give the same store, in the same order.
set -u
bin=${ES_BIN:?ES_BIN must name the eventscope binary}
src=${ES_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d "$( [ -d /dev/shm ] && echo /dev/shm || echo /tmp)/es-golden-pcap.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export TZ=UTC
py=/usr/bin/python3
[ -x "$py" ] || py=python3
pass=0 fail=0
for dir in "$src"/tests/golden/pcap/*/; do
    name=$(basename "$dir")
    [ $# -gt 0 ] && [ "$name" != "$1" ] && continue
    input=$(ls "$dir"input.* 2>/dev/null | head -1)
    args=$(cat "$dir/args")
    args=${args//\{input\}/$input}
    args=${args//\{src\}/$src}
    for threads in 1 3; do
        rm -f "$tmp"/db*
        # shellcheck disable=SC2086
        EVENTSCOPE_ROUND_PACKETS=5 "$bin" -d "$tmp/db" $args --threads $threads >"$tmp/out" 2>"$tmp/err"
        rc=$?
        if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
            echo "FAIL $name (--threads $threads): exit $rc"; cat "$tmp/err"; fail=$((fail + 1)); continue
        fi
        "$py" "$src/tests/golden/pcap_dump.py" "$tmp/db" >"$tmp/got.json"
        if [ "${UPDATE:-0}" = 1 ]; then
            [ $threads = 1 ] && cp "$tmp/got.json" "$dir/expected.json" && echo "updated $name"
            continue
        fi
        if diff -u "$dir/expected.json" "$tmp/got.json" >"$tmp/diff"; then
            pass=$((pass + 1))
        else
            echo "FAIL $name (--threads $threads):"; head -60 "$tmp/diff"; fail=$((fail + 1))
        fi
    done
done
echo "pcap golden: $pass passed, $fail failed"
[ $fail -eq 0 ]
