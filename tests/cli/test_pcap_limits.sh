#!/usr/bin/env bash
# Capture limits are configurable and every hit is a reject, never a silent drop:
#   --max-headers N  a message (or Kafka record) with more header fields than N is a reject
#                    <proto>_too_many_headers; events + those rejects = the events without
#                    the limit, for the real HTTP, Kafka, MQTT 5 and AMQP captures;
#   --max-flows N    the connection table is bounded; the run completes;
#   bad values are usage errors (exit 2), for ingest and for capture -r.
. "$(dirname "$0")/lib.sh"
caps=$SRC/tests/captures

for p in http kafka mqtt amqp; do
    "$BIN" -d "$T/$p-all.db" ingest "$caps/$p.pcap" 2>/dev/null
    "$BIN" -d "$T/$p-2.db" ingest --max-headers 2 "$caps/$p.pcap" 2>"$T/$p.err"
    expect "$p --max-headers 2: exit 0" $? 0
    all=$(q "$T/$p-all.db" "SELECT count(*) FROM events")
    kept=$(q "$T/$p-2.db" "SELECT count(*) FROM events")
    over=$(q "$T/$p-2.db" "SELECT count(*) FROM rejects WHERE reason = '${p}_too_many_headers'")
    expect "$p: some messages are over the limit" "$([ "$over" -gt 0 ] && echo yes)" yes
    expect "$p: events kept + rejected over the limit = events without it ($all)" \
        "$((kept + over))" "$all"
    expect "$p: the reject says it on stderr" \
        "$(grep -c "${p}_too_many_headers" "$T/$p.err" | awk '{print ($1 > 0)}')" 1
    "$BIN" -d "$T/$p-max.db" ingest --max-headers 1024 "$caps/$p.pcap" 2>/dev/null
    expect "$p --max-headers 1024: as without" "$(q "$T/$p-max.db" "SELECT count(*) FROM events")" "$all"
done

"$BIN" capture --dry-run --max-headers 2 -r "$caps/http.pcap" >"$T/cap.out" 2>&1
expect "capture -r --max-headers 2: exit 0" $? 0
expect "capture -r --max-headers 2: rejects reported" \
    "$(grep -c 'http_too_many_headers' "$T/cap.out" | awk '{print ($1 > 0)}')" 1

"$BIN" -d "$T/f.db" ingest --max-flows 1 "$caps/http.pcap" 2>/dev/null
expect "--max-flows 1: exit 0" $? 0
expect "--max-flows 1: what was read is stored or rejected" \
    "$(q "$T/f.db" "SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM rejects) > 0")" 1

for bad in 0 1025 x; do
    "$BIN" -d "$T/u.db" ingest --max-headers "$bad" "$caps/http.pcap" 2>/dev/null
    expect "ingest --max-headers $bad: usage error" $? 2
    "$BIN" capture --dry-run --max-headers "$bad" -r "$caps/http.pcap" >/dev/null 2>&1
    expect "capture --max-headers $bad: usage error" $? 2
done
"$BIN" capture --dry-run --max-flows 0 -r "$caps/http.pcap" >/dev/null 2>&1
expect "capture --max-flows 0: usage error" $? 2

finish
