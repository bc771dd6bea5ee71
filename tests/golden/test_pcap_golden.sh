#!/usr/bin/env bash
# Golden cases of the capture collector: tests/golden/pcap/<case>/ holds input.pcap (or
# input.pcapng), args (the eventscope command line; {input} is the capture, {src} the
# source tree, for the larger captures kept once in tests/captures/) and
# expected.json (events and rejects, dumped by pcap_dump.py). UPDATE=1 rewrites
# expected.json; review that diff like code. Optional argument: one case name.
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
    rm -f "$tmp"/db*
    # shellcheck disable=SC2086
    "$bin" -d "$tmp/db" $args >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
        echo "FAIL $name: exit $rc"; cat "$tmp/err"; fail=$((fail + 1)); continue
    fi
    "$py" "$src/tests/golden/pcap_dump.py" "$tmp/db" >"$tmp/got.json"
    if [ "${UPDATE:-0}" = 1 ]; then
        cp "$tmp/got.json" "$dir/expected.json"
        echo "updated $name"
        continue
    fi
    if diff -u "$dir/expected.json" "$tmp/got.json" >"$tmp/diff"; then
        pass=$((pass + 1))
    else
        echo "FAIL $name:"; head -60 "$tmp/diff"; fail=$((fail + 1))
    fi
done
echo "pcap golden: $pass passed, $fail failed"
[ $fail -eq 0 ]
