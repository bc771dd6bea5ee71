#!/usr/bin/env bash
# Crash safety of `tap` (issue 7): SIGKILL a Kafka tap at random points while it stores a
# topic that a producer keeps filling, 20 times. After every kill the store passes PRAGMA
# integrity_check and holds no observation twice; each new run of the same tap resumes from
# the offsets committed after the store committed, so at the end every event is stored
# exactly once: nothing lost, nothing twice. Kafka through librdkafka's mock cluster (the
# real protocol on loopback; no Kafka broker is packaged for Debian). The mock keeps 5 MB
# of log per partition: the events are small and ~35k in all. ?session_timeout=3000 lets
# the group give a killed tap's partitions to the next run after 3 s instead of 10.
. "$(dirname "$0")/lib.sh"

MOCK=${ES_BUILD:-}/tests/kafka_mock
if [ ! -x "$MOCK" ]; then
    bad "$MOCK not built (librdkafka missing?): the tap crash test cannot run"
    finish
    exit 1
fi
trials=${CRASH_TAP_TRIALS:-20}
first=10000 each=1200
RANDOM=4343

mkfifo "$work/mock.in" "$work/mock.out"
"$MOCK" crash 3 <"$work/mock.in" >"$work/mock.out" 2>"$work/mock.err" &
mock=$!
cleanup_hooks+=("kill $mock 2>/dev/null")
exec 7>"$work/mock.in" 8<"$work/mock.out"
cleanup_hooks+=("exec 7>&- 8<&-")
read -r -t 20 -u 8 line || { bad "kafka_mock did not start: $(cat "$work/mock.err")"; finish; exit 1; }
url="kafka://${line#BOOTSTRAP }/crash?from=beginning&session_timeout=3000"
db="$work/tap.db"
produced=0
produce() { # N PREFIX RATE: asks the mock's producer; the answer is read by produced_ok
    echo "produce crash $1 $2 binary $3" >&7
    produced=$((produced + $1))
}
produced_ok() {
    local answer
    read -r -t 60 -u 8 answer
    [ "${answer#OK}" != "$answer" ] && ok || bad "producer: ${answer:-no answer}"
}
produce "$first" p0 0
produced_ok

for t in $(seq 1 "$trials"); do
    "$ES_BIN" -d "$db" tap "$url" >/dev/null 2>"$work/tap.$t" &
    pid=$!
    for _ in $(seq 1 300); do grep -q assigned "$work/tap.$t" && break; sleep 0.05; done
    grep -q assigned "$work/tap.$t" || bad "trial $t: no partitions assigned in 15 s: $(cat "$work/tap.$t")"
    # more events arrive while this run reads (1,200 over 0.6 s); killed 0 .. 1 s in
    produce "$each" "p$t" 2000
    sleep "$(printf '0.%03d' $((RANDOM % 1000)))"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    produced_ok
    expect_eq "trial $t integrity_check" "$(sql "$db" 'PRAGMA integrity_check;')" ok
    dups=$(sql "$db" 'SELECT count(*) - count(DISTINCT origin_id || char(0) || location) FROM events;')
    expect_eq "trial $t duplicate locations" "$dups" 0
    echo "trial $t: killed with $(sql "$db" 'SELECT count(*) FROM events;') of $produced events stored"
done

# One more run, to the end: everything produced is stored, each event once. (Ctrl-C only
# once it runs: before its handler is set, a background job ignores SIGINT.)
"$ES_BIN" -d "$db" tap "$url" >/dev/null 2>"$work/tap.last" &
pid=$!
for _ in $(seq 1 300); do grep -q assigned "$work/tap.last" && break; sleep 0.05; done
for _ in $(seq 1 600); do
    [ "$(sql "$db" 'SELECT count(*) FROM events;')" -ge "$produced" ] && break
    sleep 0.1
done
kill -INT "$pid"
wait "$pid"
expect_eq "last run: exit after Ctrl-C" "$?" 130
grep -q "interrupted: .* stored" "$work/tap.last" && ok || bad "last run: no summary: $(cat "$work/tap.last")"
expect_eq "rows after the last run" "$(sql "$db" 'SELECT count(*) FROM events;')" "$produced"
expect_eq "distinct ids after the last run" "$(sql "$db" 'SELECT count(DISTINCT event_id) FROM events;')" "$produced"
expect_eq "final integrity_check" "$(sql "$db" 'PRAGMA integrity_check;')" ok
finish
