#!/usr/bin/env bash
# Live capture end to end: `eventscope capture -i lo` while curl posts CloudEvents to a
# local receiver; Ctrl-C (SIGINT) must stop it cleanly (exit 130, summary, events stored),
# and --count must stop it by itself (exit 0). Skipped without CAP_NET_RAW (not root).
set -u
bin=${ES_BIN:?ES_BIN must name the eventscope binary}
src=${ES_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ "$(id -u)" != 0 ]; then
    echo "not root: live capture test skipped"
    exit 0
fi
port=$((18700 + $$ % 200))
tmp=$(mktemp -d "$( [ -d /dev/shm ] && echo /dev/shm || echo /tmp)/es-live.XXXXXX")
py=/usr/bin/python3
[ -x $py ] || py=python3
"$py" "$src/tests/captures/http_receiver.py" $port &
srv=$!
trap 'kill $srv 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
fail=0
post() {
    curl -sS -o /dev/null "http://127.0.0.1:$port/orders" -H 'ce-specversion: 1.0' \
        -H "ce-id: live-$1" -H 'ce-type: OrderPlaced' -H 'ce-source: /live' \
        -H 'ce-correlationid: corr-live' -H 'Content-Type: application/json' -d '{"n":1}'
}

# 1. Ctrl-C ends the capture: exit 130, everything seen is stored.
"$bin" -d "$tmp/db" capture -i lo -f "tcp port $port" 2>"$tmp/err1" &
cap=$!
sleep 1.5
for i in 1 2 3; do post $i; done
sleep 1
kill -INT $cap
wait $cap
rc=$?
n=$(sqlite3 "$tmp/db" "SELECT count(*) FROM events WHERE transport='http' AND event_id LIKE 'live-%'")
if [ $rc -eq 130 ] && [ "$n" = 3 ] && grep -q "interrupted" "$tmp/err1"; then
    echo "ok   SIGINT: exit 130, 3 events stored"
else
    echo "FAIL SIGINT: exit $rc, $n events"; cat "$tmp/err1"; fail=1
fi

# 2. --count stops by itself; a second session is a new origin (frame numbers restart).
"$bin" -d "$tmp/db" capture -i lo -f "tcp port $port" --count 6 --duration 20 2>"$tmp/err2" &
cap=$!
sleep 1.5
post 4
post 5
wait $cap
rc=$?
n=$(sqlite3 "$tmp/db" "SELECT count(*) FROM events WHERE event_id IN ('live-4')")
o=$(sqlite3 "$tmp/db" "SELECT count(*) FROM origins WHERE kind='capture'")
if [ $rc -eq 0 ] && [ "$n" = 1 ] && [ "$o" = 2 ]; then
    echo "ok   --count: exit 0, new origin"
else
    echo "FAIL --count: exit $rc, events $n, origins $o"; cat "$tmp/err2"; fail=1
fi

# 3. A filter that does not compile is a usage error.
"$bin" -d "$tmp/db" capture -i lo -f "tcp port nonsense" --duration 1 2>"$tmp/err3"
rc=$?
if [ $rc -eq 2 ] && grep -q "does not compile" "$tmp/err3"; then
    echo "ok   bad filter: exit 2"
else
    echo "FAIL bad filter: exit $rc"; cat "$tmp/err3"; fail=1
fi
exit $fail
