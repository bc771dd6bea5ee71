#!/usr/bin/env bash
# ingest --port P=PROTO: a pcap file's TCP port decoded as the named protocol, as capture
# does. The NATS capture (server port 18484) decodes to its events by content; mapped to
# http, the same bytes go through the HTTP decoder instead (nothing is an event, the
# stream is rejected with HTTP reasons, nothing is silently dropped); a bad spec is a
# usage error.
. "$(dirname "$0")/lib.sh"
pcap=$SRC/tests/captures/nats.pcap

"$BIN" -d "$T/a.db" ingest "$pcap" 2>/dev/null
expect "without --port: exit 0" $? 0
expect "without --port: NATS events" "$(q "$T/a.db" "SELECT count(*) FROM events WHERE transport='nats'")" 8

"$BIN" -d "$T/b.db" ingest --port 18484=http "$pcap" 2>"$T/b.err"
expect "--port 18484=http: exit 0" $? 0
expect "--port 18484=http: no NATS events" "$(q "$T/b.db" "SELECT count(*) FROM events")" 0
expect "--port 18484=http: the stream is rejected by the HTTP decoder" \
    "$(q "$T/b.db" "SELECT count(*) > 0 FROM rejects WHERE reason LIKE 'http_%'")" 1

"$BIN" -d "$T/c.db" ingest --port 18484=smtp "$pcap" 2>"$T/c.err"
expect "unknown protocol: usage error" $? 2
expect "unknown protocol: says which are known" "$(grep -c 'one of http, kafka' "$T/c.err")" 1
"$BIN" -d "$T/c.db" ingest --port 99999=http "$pcap" 2>/dev/null
expect "port out of range: usage error" $? 2

finish
