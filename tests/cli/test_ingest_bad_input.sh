#!/usr/bin/env bash
# ingest against bad and awkward input, through the real binary: each bad record is a
# reject with its location and reason, the good records around it still load, nothing
# crashes; exit codes; re-ingest adds nothing; stdin; folders; gzip; auto-sniff messages;
# Ctrl-C. Needs ES_BIN (ctest sets it), python3 and sqlite3.
set -u
BIN=${ES_BIN:?ES_BIN not set}
T=$(mktemp -d /tmp/es_ingest_test.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
# expect NAME ACTUAL WANTED
expect() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: got '$2', want '$3'"; fi; }
# contains NAME FILE TEXT
contains() { if grep -qF -- "$3" "$2"; then ok "$1"; else bad "$1: '$3' not in $2:"; sed 's/^/    /' "$2"; fi; }
q() { sqlite3 -batch -noheader "$1" "$2"; }

good() { printf '{"id":"%s","type":"OrderPlaced","source":"orders","correlationid":"c-%s"}\n' "$1" "$1"; }

# --- 1. every kind of bad record in one JSON-lines file, good records between them --------
{
    good g1
    printf '{"id":"t1","type":"Truncated"\n'                    # line 2
    good g2
    printf '{"id":"u1","type":"Bad\xff\xfeUTF8"}\n'             # line 4: kept, repaired
    good g3
    printf '{"id":"n1",\0"type":"Nul"}\n'                       # line 6
    good g4
    python3 -c 'import sys; sys.stdout.write("{\"id\":\"big\",\"pad\":\"" + "x"*(10<<20) + "\"}\n")'  # line 8: 10 MB
    good g5
    python3 -c 'import sys; sys.stdout.write("["*10000 + "]"*10000 + "\n")'   # line 10
    good g6
    printf '{"id":"d1","id":"d2"}\n'                            # line 12
    good g7
    printf '"just a string"\n'                                  # line 14
    good g8
    printf '{"id":"last","type":"NoNewline"'                    # line 16, truncated, no newline
} > bad.jsonl

"$BIN" -d s.db ingest bad.jsonl 2> err1.txt
expect "bad.jsonl: exit code" $? 0
expect "bad.jsonl: good events stored" "$(q s.db "select group_concat(event_id, ',') from (select event_id from events order by seq)")" "g1,g2,u1,g3,g4,g5,g6,g7,g8"
expect "bad.jsonl: rejects" "$(q s.db "select group_concat(location || ' ' || reason, ';') from (select * from rejects order by rowid)")" \
    "bad.jsonl:2 truncated_json;bad.jsonl:6 nul_byte;bad.jsonl:8 line_too_long;bad.jsonl:10 json_too_deep;bad.jsonl:12 duplicate_key;bad.jsonl:14 not_an_object;bad.jsonl:16 truncated_json"
expect "bad.jsonl: locations are file:line" "$(q s.db "select group_concat(location, ',') from (select location from events order by seq)")" \
    "bad.jsonl:1,bad.jsonl:3,bad.jsonl:4,bad.jsonl:5,bad.jsonl:7,bad.jsonl:9,bad.jsonl:11,bad.jsonl:13,bad.jsonl:15"
expect "bad.jsonl: transport/direction" "$(q s.db "select distinct transport || '/' || direction from events")" "file/log"
expect "bad.jsonl: origin is the absolute path" "$(q s.db "select kind || ' ' || uri from origins")" "file $T/bad.jsonl"
expect "bad.jsonl: invalid UTF-8 repaired and marked" "$(q s.db "select type || ' ' || json_extract(attrs, '$.es_invalid_utf8') from events where event_id='u1'")" "Bad$(printf '\xef\xbf\xbd\xef\xbf\xbd')UTF8 1"
contains "bad.jsonl: summary line" err1.txt "9 events stored, 0 already present, 7 rejected in"
contains "bad.jsonl: reject line names the location" err1.txt "bad.jsonl:10: rejected (json_too_deep)"
expect "bad.jsonl: excerpt kept" "$(q s.db "select excerpt from rejects where location='bad.jsonl:2'")" '{"id":"t1","type":"Truncated"'
# Rejects must never echo raw control bytes to the terminal.
expect "stderr escaped: no control or non-ASCII bytes" "$(LC_ALL=C tr -d '\n -~' < err1.txt | wc -c)" 0

# --- 2. re-ingesting adds nothing ---------------------------------------------------------
"$BIN" -d s.db ingest bad.jsonl 2> err2.txt
expect "re-ingest: exit code" $? 0
contains "re-ingest: summary" err2.txt "0 events stored, 9 already present"
expect "re-ingest: events unchanged" "$(q s.db "select count(*) from events")" 9
expect "re-ingest: rejects unchanged" "$(q s.db "select count(*) from rejects")" 7

# --- 3. a missing file, an empty file, a folder: others still ingested, exit 3 ---------------
mkdir -p dir/sub dir/empty
good d1 > dir/b.jsonl
good d0 > dir/a.jsonl
printf '2026-03-15 10:30:00,123 [INFO] [shipping] {"id":"d2","type":"OrderShipped"}\n' > dir/sub/c.log
printf 'no format at all\n' > dir/notes.txt
printf '{"id":"hidden"}\n' > dir/.hidden.jsonl
: > empty.jsonl
"$BIN" -d m.db ingest missing.jsonl empty.jsonl dir 2> err3.txt
expect "missing file: exit code 3" $? 3
contains "missing file: named" err3.txt "missing.jsonl: cannot open"
contains "empty file: noted" err3.txt "empty.jsonl: empty"
contains "folder: unknown file skipped" err3.txt "dir/notes.txt: skipped"
contains "folder: empty folder noted" err3.txt "dir/empty: folder holds no files"
expect "folder: sorted, recursed, hidden skipped" "$(q m.db "select group_concat(event_id, ',') from (select event_id from events order by seq)")" "d0,d1,d2"
expect "folder: locations keep the path as given" "$(q m.db "select location from events where event_id='d2'")" "dir/sub/c.log:1"
expect "applog: service becomes the source, line time the observed time" \
    "$(q m.db "select source || ' ' || observed_us from events where event_id='d2'")" "shipping 1773570600123000"

# Links back up the tree are not followed (two of them would otherwise explode).
mkdir -p loop/inner
good l1 > loop/inner/e.jsonl
ln -s .. loop/inner/up
ln -s . loop/inner/self
"$BIN" -d lp.db ingest loop 2> err3b.txt
expect "folder loops: exit code" $? 0
expect "folder loops: each file once" "$(q lp.db "select group_concat(location, ',') from events")" "loop/inner/e.jsonl:1"
contains "folder loops: noted" err3b.txt "skipped: a link back to a folder above it"

# --- 4. a path that is a folder given with a format, and a directory-like failure ------------
"$BIN" -d m2.db ingest --format jsonl dir/sub 2> err4.txt
expect "folder with --format: exit code" $? 0
expect "folder with --format: applog read as jsonl is rejected" "$(q m2.db "select reason from rejects")" "invalid_json"
contains "folder with --format: note says which format" err4.txt "is it really jsonl?"

# --- 5. a file that is not the format asked for ---------------------------------------------
printf 'level=info msg="hello there" id=1\nlevel=info msg=again id=2\n' > l.logfmt
"$BIN" -d f.db ingest --format json l.logfmt 2> err5.txt
expect "wrong format json: exit code" $? 0
expect "wrong format json: one not_json reject for the run" "$(q f.db "select location || ' ' || reason from rejects")" "l.logfmt:1 not_json"
"$BIN" -d f.db ingest --format applog bad.jsonl 2> err5b.txt
expect "wrong format applog: rejects" "$(q f.db "select count(*) from rejects where reason='applog_no_timestamp'")" 12
"$BIN" -d f.db ingest --format logfmt l.logfmt 2> err5c.txt
expect "logfmt: events" "$(q f.db "select group_concat(event_id, ',') from events")" "1,2"

# --- 6. stdin ---------------------------------------------------------------------------------
{ good s1; good s2; printf 'oops\n'; } | "$BIN" -d in.db ingest - 2> err6.txt
expect "stdin: exit code" $? 0
expect "stdin: locations" "$(q in.db "select group_concat(location, ',') from (select location from events order by seq)")" "stdin:1,stdin:2"
expect "stdin: reject location" "$(q in.db "select location || ' ' || reason from rejects")" "stdin:3 invalid_json"
expect "stdin: origin" "$(q in.db "select uri from origins")" "stdin"
gzip -c bad.jsonl | "$BIN" -d in2.db ingest - 2> err6b.txt
expect "stdin gzip: events" "$(q in2.db "select count(*) from events")" 9
contains "stdin gzip: sniffed" err6b.txt "stdin: format gzip, jsonl"

# --- 7. gzip files and auto-sniff messages ----------------------------------------------------
gzip -c dir/a.jsonl > a.jsonl.gz
printf '[\n  {\n    "id": "p1"\n  },\n  {\n    "id": "p2"\n  }\n]\n' > pretty.json
printf 'ts=2026-03-15T10:30:00Z level=info id=lf1 type=OrderPlaced\n' > x.logfmt
printf '2026-03-15T10:30:00Z INFO orders {"id":"al1"}\n' > x.log
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00' > x.pcap
"$BIN" -d g.db ingest a.jsonl.gz pretty.json x.logfmt x.log x.pcap 2> err7.txt
contains "sniff: gzip" err7.txt "a.jsonl.gz: format gzip, jsonl"
contains "sniff: json" err7.txt "pretty.json: format json"
contains "sniff: logfmt" err7.txt "x.logfmt: format logfmt"
contains "sniff: applog" err7.txt "x.log: format applog"
contains "sniff: pcap" err7.txt "x.pcap: format pcap"
expect "sniffed files: events" "$(q g.db "select group_concat(location, ',') from (select location from events where transport='file' order by seq)")" \
    "a.jsonl.gz:1,pretty.json:2,pretty.json:5,x.logfmt:1,x.log:1"
# A .gz cut in the middle: what was inflated is kept, then one gzip_corrupt reject.
for i in $(seq 1 2000); do good "z$i"; done | gzip -c > full.jsonl.gz
head -c $(( $(stat -c %s full.jsonl.gz) / 2 )) full.jsonl.gz > cut.jsonl.gz
"$BIN" -d gz.db ingest cut.jsonl.gz 2> err7c.txt
expect "cut gzip: exit code" $? 0
expect "cut gzip: one gzip_corrupt reject" "$(q gz.db "select count(*) from rejects where reason='gzip_corrupt' and location like 'cut.jsonl.gz:%'")" 1
n=$(q gz.db "select count(*) from events")
if [ "$n" -gt 100 ] && [ "$n" -lt 2000 ]; then ok "cut gzip: first part kept ($n events)"; else bad "cut gzip: $n events"; fi
"$BIN" -d g.db ingest --format jsonl dir/a.jsonl 2> err7b.txt
if grep -q "format" err7b.txt; then bad "no sniff message with --format"; else ok "no sniff message with --format"; fi

# --- 8. a store that is not ours is refused and left alone -------------------------------------
printf 'not a database\n' > notours.db
cp notours.db notours.orig
"$BIN" -d notours.db ingest dir/a.jsonl 2> err8.txt
expect "foreign store: exit code" $? 3
if cmp -s notours.db notours.orig; then ok "foreign store untouched"; else bad "foreign store modified"; fi

# --- 9. usage -------------------------------------------------------------------------------------
"$BIN" ingest --help > help.txt
expect "--help: exit code" $? 0
contains "--help: examples" help.txt "examples:"
contains "--help: exit codes" help.txt "exit codes"
"$BIN" -d u.db ingest --bogus x 2> /dev/null
expect "unknown option: exit 2" $? 2
"$BIN" -d u.db ingest --format yaml x 2> /dev/null
expect "unknown format: exit 2" $? 2
"$BIN" -d u.db ingest 2> /dev/null
expect "no path: exit 2" $? 2

# --- 9b. --map and --no-payload reach the normaliser and the sink ----------------------------------
printf '{"ctx":{"corr":"C9"},"id":"m1","data":{"x":1}}\n' > m.jsonl
printf '{"correlation":["ctx.corr"]}' > map.json
"$BIN" -d mp.db ingest --map map.json --no-payload m.jsonl 2> /dev/null
expect "--map/--no-payload" "$(q mp.db "select event_id || ' ' || correlation_id || ' ' || ifnull(data, 'NULL') from events")" "m1 C9 NULL"
"$BIN" -d mp.db ingest --map missing.json m.jsonl 2> errmap.txt
expect "--map missing file: exit 2" $? 2
contains "--map missing file: named" errmap.txt "missing.json"

# --- 10. over-long lines are not buffered: memory stays flat ---------------------------------------
if [ -z "${ES_SANITIZED:-}" ] && [ -x /usr/bin/time ]; then
    { good before; head -c $((64 << 20)) /dev/zero | tr '\0' 'x'; printf '\n'; good after; } > long.jsonl
    /usr/bin/time -f '%M' -o rss.txt "$BIN" -d r.db ingest long.jsonl 2> /dev/null
    rss=$(tail -n 1 rss.txt)
    if [ "$rss" -lt 40000 ]; then ok "64 MB line read in ${rss} KB"; else bad "64 MB line needed ${rss} KB"; fi
    expect "64 MB line: neighbours kept" "$(q r.db "select group_concat(event_id, ',') from (select event_id from events order by seq)")" "before,after"
fi

# --- 11. Ctrl-C: stop, keep what was read, summary, exit 130 ----------------------------------------
mkfifo pipe
"$BIN" -d c.db ingest - < pipe 2> err11.txt &
pid=$!
exec 3> pipe
for i in 1 2 3; do good "c$i" >&3; done
sleep 1
kill -INT "$pid"
wait "$pid"
expect "SIGINT: exit 130" $? 130
exec 3>&-
contains "SIGINT: summary" err11.txt "interrupted: 3 events stored"
expect "SIGINT: events kept" "$(q c.db "select count(*) from events")" 3

# --- a .gz larger than the first read (2026-11-24: the bytes past 256 KiB of compressed
# data read while sniffing were dropped, and the file's end was reported as gzip_corrupt) --
python3 -c '
import random, sys
r = random.Random(5)
for i in range(20000):
    sys.stdout.write("{\"id\":\"z%d\",\"type\":\"Zipped\",\"pad\":\"%x\"}\n" % (i, r.getrandbits(128)))
' | gzip -c > big.jsonl.gz
[ "$(stat -c %s big.jsonl.gz)" -gt 300000 ] || bad "big.jsonl.gz too small to test: $(stat -c %s big.jsonl.gz)"
"$BIN" -d z.db ingest big.jsonl.gz 2> err12.txt
expect "big gzip: exit" $? 0
expect "big gzip: every line" "$(q z.db "select count(*) from events")" 20000
expect "big gzip: no rejects" "$(q z.db "select count(*) from rejects")" 0

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
