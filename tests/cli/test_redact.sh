#!/usr/bin/env bash
# ingest --redact / --no-payload through the real binary: the raw private values appear
# nowhere in the store files, their keyed hashes do, duplicates are still found over
# redacted fields (exact, semantic, id collision), the key is kept per store and
# EVENTSCOPE_REDACT_KEY overrides it, --no-payload keeps no data at all; capture and tap
# take the same options.
# Needs ES_BIN (ctest sets it) and sqlite3.
set -u
BIN=${ES_BIN:?ES_BIN not set}
T=$(mktemp -d /tmp/es_redact_test.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
unset EVENTSCOPE_REDACT_KEY
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
expect() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: got '$2', want '$3'"; fi; }
q() { sqlite3 -batch -noheader "$1" "$2"; }
# absent NAME DB TEXT...: none of TEXT in the store's files (after a checkpoint)
absent() {
    local name=$1 db=$2 t f hit=0
    shift 2
    q "$db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
    for t in "$@"; do
        for f in "$db" "$db-wal" "$db-journal"; do
            [ -e "$f" ] || continue
            if grep -aqF -- "$t" "$f"; then
                bad "$name: '$t' found in $f"
                hit=1
            fi
        done
    done
    [ $hit = 0 ] && ok "$name"
}

ev() { # id email card-number [type]
    printf '{"id":"%s","type":"%s","source":"shop","subject":"o-1","correlationid":"c-1",' \
        "$1" "${4:-OrderPlaced}"
    printf '"time":"2026-03-15T10:30:00Z","data":{"customer":{"email":"%s","name":"Ann"},' "$2"
    printf '"card":{"number":"%s","exp":"12/29"},"items":[{"sku":"SKU-7"}],"total":12}}\n' \
        "$3"
}

# --- 1. two identical events (a retry), a semantic duplicate, an id collision ---------------
{
    ev e1 ann.secret@example.com 4111222233334444
    ev e1 ann.secret@example.com 4111222233334444
    ev e2 ann.secret@example.com 4111222233334444
    ev e3 bob.hidden@example.com 5500666677778888 PaymentAuthorised
    ev e3 carl.private@example.com 5500666677778888 PaymentAuthorised
} >in.jsonl
"$BIN" -d s.db ingest --redact data.customer.email,data.card in.jsonl 2>err.txt
expect "ingest exit 0" $? 0
expect "5 events stored" "$(q s.db 'SELECT count(*) FROM events')" 5
absent "raw emails and card numbers are nowhere in the store" s.db \
    ann.secret bob.hidden carl.private 4111222233334444 5500666677778888 \
    "$(printf '4111222233334444' | od -An -tx1 | tr -d ' \n')"
expect "emails replaced by hashes" \
    "$(q s.db "SELECT count(*) FROM events WHERE json_extract(data,'\$.customer.email') LIKE 'redacted:hmac-sha256:%'")" 5
expect "card objects replaced by hashes" \
    "$(q s.db "SELECT count(*) FROM events WHERE json_type(data,'\$.card') = 'text' AND length(json_extract(data,'\$.card')) = 53")" 5
expect "other fields kept" "$(q s.db "SELECT DISTINCT json_extract(data,'\$.customer.name') FROM events")" Ann
expect "unlisted paths kept" "$(q s.db "SELECT json_extract(data,'\$.items[0].sku') FROM events WHERE location LIKE '%:1'")" SKU-7
expect "same value, same hash" \
    "$(q s.db "SELECT count(DISTINCT json_extract(data,'\$.customer.email')) FROM events WHERE event_id IN ('e1','e2')")" 1
expect "different value, different hash" \
    "$(q s.db "SELECT count(DISTINCT json_extract(data,'\$.customer.email')) FROM events WHERE event_id = 'e3'")" 2
expect "payload_hash equal for the identical events" \
    "$(q s.db "SELECT count(DISTINCT payload_hash) FROM events WHERE event_id = 'e1'")" 1
expect "payload_hash is of the redacted data" \
    "$(q s.db "SELECT count(DISTINCT payload_hash) FROM events WHERE event_id = 'e3'")" 2
KEY=$(q s.db "SELECT value FROM meta WHERE key = 'redact_key'")
expect "a 32-byte key kept in meta" "${#KEY}" 64

"$BIN" -d s.db analyze >an.txt 2>&1
grep -q '^duplicate.exact' an.txt && ok "analyze: duplicate.exact over redacted fields" ||
    { bad "no duplicate.exact:"; sed 's/^/    /' an.txt; }
grep -q '^duplicate.semantic' an.txt && ok "analyze: duplicate.semantic over redacted fields" ||
    { bad "no duplicate.semantic:"; sed 's/^/    /' an.txt; }
grep -q '^duplicate.id_collision' an.txt && ok "analyze: id_collision (the redacted values differ)" ||
    { bad "no duplicate.id_collision:"; sed 's/^/    /' an.txt; }
if grep -aqF -e ann.secret -e 4111222233334444 an.txt; then bad "analyze prints raw values"; else ok "analyze shows no raw values"; fi

# --- 2. the key: kept across runs on one store, different per store, env overrides --------
ev e9 ann.secret@example.com 4111222233334444 >one.jsonl
h() { q "$1" "SELECT json_extract(data,'\$.customer.email') FROM events WHERE event_id = '$2'"; }
"$BIN" -d s.db ingest --redact customer.email one.jsonl 2>/dev/null
expect "same store, later run: same hash" "$(h s.db e9)" "$(h s.db e1 | head -1)"
"$BIN" -d t.db ingest --redact customer.email one.jsonl 2>/dev/null
T1=$(h t.db e9)
case $T1 in redacted:hmac-sha256:*) ok "other store: redacted";; *) bad "other store: '$T1'";; esac
[ "$T1" != "$(h s.db e9)" ] && ok "other store: other key, other hash" || bad "stores share a hash"
EVENTSCOPE_REDACT_KEY=team-secret "$BIN" -d u.db ingest --redact customer.email one.jsonl 2>/dev/null
EVENTSCOPE_REDACT_KEY=team-secret "$BIN" -d v.db ingest --redact customer.email one.jsonl 2>/dev/null
E1=$(h u.db e9)
expect "EVENTSCOPE_REDACT_KEY: same hash on two stores" "$E1" "$(h v.db e9)"
[ "$E1" != "$(h s.db e9)" ] && ok "EVENTSCOPE_REDACT_KEY overrides the store key" || bad "env key ignored"
expect "no key kept when the env gives one" "$(q u.db "SELECT count(*) FROM meta WHERE key='redact_key'")" 0

# --- 3. all of it: data ------------------------------------------------------------------
"$BIN" -d w.db ingest --redact data in.jsonl 2>/dev/null
absent "--redact data: nothing of the payload stored" w.db ann.secret 4111222233334444 SKU-7 '"Ann"'
expect "--redact data: data is one hash string" \
    "$(q w.db "SELECT count(*) FROM events WHERE json_type(data) = 'text' AND json_extract(data,'\$') LIKE 'redacted:hmac-sha256:%'")" 5
"$BIN" -d w.db analyze >an2.txt 2>&1
grep -q '^duplicate.exact' an2.txt && ok "--redact data: duplicate.exact still found" ||
    { bad "--redact data: no duplicate.exact:"; sed 's/^/    /' an2.txt; }

# --- 4. --no-payload keeps no data at all ------------------------------------------------
"$BIN" -d n.db ingest --no-payload in.jsonl 2>/dev/null
expect "--no-payload exit 0, events stored" "$(q n.db 'SELECT count(*) FROM events')" 5
expect "--no-payload: no data" "$(q n.db 'SELECT count(*) FROM events WHERE data IS NOT NULL')" 0
absent "--no-payload: no payload bytes in the store" n.db ann.secret 4111222233334444 SKU-7
"$BIN" -d n2.db ingest --no-payload --redact data.card in.jsonl 2>/dev/null
expect "--no-payload wins over --redact" "$(q n2.db 'SELECT count(*) FROM events WHERE data IS NOT NULL')" 0

# --- 5. capture and tap take the same options ----------------------------------------------
PC=${ES_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/golden/pcap/real_http/input.pcap
if [ -r "$PC" ]; then
    "$BIN" -d cap.db capture -q -r "$PC" --redact data.orderId 2>/dev/null
    expect "capture --redact exit 0" $? 0
    absent "capture --redact: raw value gone" cap.db '"o-1"'
    expect "capture --redact: every orderId hashed" \
        "$(q cap.db "SELECT count(*) > 0 AND count(*) = sum(json_extract(data,'\$.orderId') LIKE 'redacted:hmac-sha256:%') FROM events WHERE json_extract(data,'\$.orderId') IS NOT NULL")" 1
    expect "capture --redact: other fields kept" \
        "$(q cap.db "SELECT count(*) FROM events WHERE json_extract(data,'\$.total') = 12.5")" 1
    "$BIN" -d cap2.db capture -q -r "$PC" --no-payload 2>/dev/null
    expect "capture --no-payload: no data" "$(q cap2.db 'SELECT count(*) FROM events WHERE data IS NOT NULL')" 0
    expect "capture --no-payload: events kept" "$([ "$(q cap2.db 'SELECT count(*) FROM events')" -gt 0 ] && echo yes)" yes
else
    bad "no capture sample at $PC"
fi
P='{\"specversion\":\"1.0\",\"id\":\"k1\",\"type\":\"T\",\"source\":\"/s\",\"data\":{\"email\":\"zed.secret@example.io\",\"n\":1}}'
for off in 1 2; do
    printf '{"topic":"o","partition":0,"offset":%s,"key":null,"payload":"%s"}\n' $off "$P"
done >k.json
"$BIN" -d tap.db tap --format kcat --redact data.email - <k.json 2>/dev/null
expect "tap --redact exit 0" $? 0
absent "tap --redact: raw value gone" tap.db zed.secret
expect "tap --redact: both hashed alike" \
    "$(q tap.db "SELECT count(*) || ' ' || count(DISTINCT json_extract(data,'\$.email')) FROM events WHERE json_extract(data,'\$.email') LIKE 'redacted:hmac-sha256:%'")" "2 1"
"$BIN" -d tap2.db tap --format kcat --no-payload - <k.json 2>/dev/null
expect "tap --no-payload: no data" "$(q tap2.db 'SELECT count(*) || count(data) FROM events')" 20
"$BIN" -d tap3.db tap --format kcat --redact 'a..b' - <k.json >/dev/null 2>&1
expect "tap --redact 'a..b' is a usage error" $? 2
"$BIN" -d cap3.db capture -r "$PC" --redact '' >/dev/null 2>&1
expect "capture --redact '' is a usage error" $? 2

# --- 6. a record that cannot be read keeps no raw bytes under --redact / --no-payload --------
{
    ev r1 dana.secret@example.com 4000111122223333
    printf '{"id":"r2","data":{"email":"erin.secret@example.com","card":"4000999988887777"\n'
    ev r3 fay.secret@example.com 4000555566667777
} >bad.jsonl
"$BIN" -d r.db ingest --redact data bad.jsonl 2>/dev/null
expect "--redact with a bad record exits 0" $? 0
expect "the good records around it are stored" "$(q r.db 'SELECT count(*) FROM events')" 2
expect "the bad one is a reject with its location" "$(q r.db 'SELECT location FROM rejects')" bad.jsonl:2
expect "its excerpt is a keyed hash" \
    "$(q r.db "SELECT excerpt LIKE 'redacted:hmac-sha256:%' FROM rejects")" 1
absent "no raw bytes of the bad record in the store" r.db erin.secret 4000999988887777
"$BIN" -d r2.db ingest --no-payload bad.jsonl 2>/dev/null
expect "--no-payload keeps no excerpt" "$(q r2.db 'SELECT count(*) FROM rejects WHERE excerpt IS NULL')" 1
absent "--no-payload: no raw bytes of the bad record" r2.db erin.secret 4000999988887777
"$BIN" -d r3.db ingest bad.jsonl 2>/dev/null
expect "without them the excerpt is the raw record" \
    "$(q r3.db "SELECT instr(excerpt, 'erin.secret') > 0 FROM rejects")" 1

# --- 7. usage errors ----------------------------------------------------------------------
for spec in "" "a..b" "data.card," ; do
    "$BIN" -d x.db ingest --redact "$spec" in.jsonl >/dev/null 2>e.txt
    expect "--redact '$spec' is a usage error" $? 2
done
"$BIN" -d x.db ingest --redact >/dev/null 2>&1
expect "--redact without a value is a usage error" $? 2
for c in ingest capture tap; do
    "$BIN" $c --help | grep -q -- '--redact PATH' && ok "$c --help documents --redact" || bad "$c --help lacks --redact"
done

echo "$fails failed"
[ $fails = 0 ]
