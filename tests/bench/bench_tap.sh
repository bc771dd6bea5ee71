#!/usr/bin/env bash
# Broker tap benchmark (issue 5): sustained tap ingest against local mosquitto, nats-server
# and the librdkafka mock cluster. For each broker a publisher sends N CloudEvents as fast
# as it can, each carrying its publish time (µs) as "time"; `eventscope tap` stores them;
# a poller queries the store every 20 ms and records, per event, publish -> queryable.
# Prints: publisher rate, stored events/s (first to last queryable), p50/p99 delay.
#   usage: bash tests/bench/bench_tap.sh BUILD_DIR
#   env:   BENCH_TAP_N (100000 per broker), BENCH_TAP_RATE (publish rate, events/s: 25000,
#          the issue's sustained rate; 0 = as fast as the publisher goes, then the delay
#          measures the backlog), BENCH_TAP_STORE (tap into this existing store,
#          e.g. the 10M-event store run.sh keeps; default: a fresh one), BENCH_RECORD=1
#          appends the table to tests/bench/RESULTS.md
set -u
BUILD=$(cd "${1:-build}" && pwd)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
ES_BIN=${ES_BIN:-$BUILD/eventscope}
MOCK=$BUILD/tests/kafka_mock
N=${BENCH_TAP_N:-100000}
RATE=${BENCH_TAP_RATE:-25000}
W=$(mktemp -d "${TMPDIR:-/tmp}/es-bench-tap.XXXXXX")
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$W"' EXIT
DB=${BENCH_TAP_STORE:-$W/store.db}
base=$(( 20000 + ($$ % 5000) ))
OUT=$W/results.txt

cat >"$W/poll.py" <<'PY'
import sqlite3, sys, time
db, channel, n, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
con = sqlite3.connect(db, timeout=30)
last = con.execute("select coalesce(max(seq),0) from events").fetchone()[0]
print("ready", flush=True)
delays, first, lastseen, t0 = [], None, None, time.time()
while len(delays) < n and time.time() - t0 < timeout:
    rows = con.execute("select seq, time_us from events where seq > ? and channel = ? order by seq",
                       (last, channel)).fetchall()
    now = time.time() * 1e6
    for seq, tus in rows:
        last = max(last, seq)
        if tus is not None:
            delays.append((now - tus) / 1e6)
    if rows:
        first = first or now
        lastseen = now
    time.sleep(0.02)
delays.sort()
k = len(delays)
rate = k / ((lastseen - first) / 1e6) if k > 1 and lastseen > first else 0
p = lambda q: delays[min(k - 1, int(q * k))] if k else float("nan")
print(f"{k} {rate:.0f} {p(0.5):.3f} {p(0.99):.3f}")
PY

run_case() { # NAME CHANNEL URL PUBLISH_FUNCTION
    local name=$1 channel=$2 url=$3 pub=$4 t0 t1 res
    "$ES_BIN" -d "$DB" tap "$url" 2>"$W/$name.tap.log" &
    local tap=$!
    PIDS+=("$tap")
    # a Kafka tap reads once the group has given it the partitions (?from=end skips the rest)
    local ready=tapping
    [ "$name" = kafka ] && ready=assigned
    for i in $(seq 1 300); do grep -q "$ready" "$W/$name.tap.log" && break; sleep 0.1; done
    python3 "$W/poll.py" "$DB" "$channel" "$N" 300 >"$W/$name.poll" &
    local poll=$!
    for i in $(seq 1 100); do grep -q ready "$W/$name.poll" && break; sleep 0.1; done
    t0=$(date +%s.%N)
    $pub
    t1=$(date +%s.%N)
    wait "$poll"
    # CPU the tap process used (all its threads): on a shared machine the honest figure
    local cpu
    cpu=$(awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$tap/stat")
    kill -INT "$tap"
    wait "$tap"
    res=$(tail -1 "$W/$name.poll")
    set -- $res
    printf '%-8s %8d  %10.0f  %10s  %8s  %8s  %8.2f  %10.0f\n' "$name" "$1" \
        "$(echo "$N / ($t1 - $t0)" | bc -l)" "$2" "$3" "$4" "$cpu" "$(echo "$1 / $cpu" | bc -l)" |
        tee -a "$OUT"
}

gen_lines() { # PREFIX FORMAT: N lines at RATE/s, each with its publish time in µs
    python3 -c '
import sys, time, json, uuid
pre, fmt, n, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
w = sys.stdout.write
corr = prev = None
t0 = time.time()
for i in range(n):
    if rate > 0 and i % 100 == 0:
        sys.stdout.flush()
        ahead = t0 + i / rate - time.time()
        if ahead > 0:
            time.sleep(ahead)
    # random UUIDv4 ids as real producers send (the costly case for the indexes of the store):
    # processes of 5 events, each caused by the previous one
    eid = str(uuid.uuid4())
    if i % 5 == 0:
        corr, prev = str(uuid.uuid4()), None
    ev = {"specversion": "1.0", "id": eid, "type": "BenchEvent", "source": f"/bench/{pre}",
          "time": int(time.time() * 1e6), "correlationid": corr, "data": {"i": i}}
    if prev:
        ev["causationid"] = prev
    prev = eid
    if fmt == "nats":
        body = json.dumps(ev)
        w(json.dumps({"subject": "bench.x", "headers": [["content-type", "application/cloudevents+json"]], "body": body}) + "\n")
    else:
        w(json.dumps(ev) + "\n")
' "$1" "$2" "$N" "$RATE"
}

printf '%-8s %8s  %10s  %10s  %8s  %8s  %8s  %10s\n' broker stored "pub ev/s" "stored/s" "p50 s" \
    "p99 s" "tap cpu" "ev/cpu-s" | tee "$OUT"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores;" \
    "publishing at $([ "$RATE" = 0 ] && echo "full speed" || echo "$RATE events/s")" | tee -a "$OUT"

# --- mosquitto ---
MP=$base
printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n' "$MP" >"$W/m.conf"
mosquitto -c "$W/m.conf" >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.5
pub_mqtt() { gen_lines mq mqtt | mosquitto_pub -V 5 -h 127.0.0.1 -p "$MP" -q 1 -t bench/x -l \
    -D publish content-type application/cloudevents+json; }
run_case mqtt bench/x "mqtt://127.0.0.1:$MP/bench/#" pub_mqtt

# --- nats ---
NP=$((base + 1))
nats-server -a 127.0.0.1 -p "$NP" >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.5
pub_nats() { gen_lines na nats | python3 "$SRC/tests/integration/nats_pub.py" 127.0.0.1 "$NP"; }
run_case nats bench.x "nats://127.0.0.1:$NP/bench.>" pub_nats

# --- kafka mock ---
if [ -x "$MOCK" ]; then
    mkfifo "$W/k.in" "$W/k.out"
    "$MOCK" bench 3 <"$W/k.in" >"$W/k.out" 2>/dev/null &
    PIDS+=($!)
    exec 7>"$W/k.in"
    exec 8<"$W/k.out"
    read -r -t 20 -u 8 first
    BS=${first#BOOTSTRAP }
    pub_kafka() { echo "produce bench $N ka timed $RATE" >&7; read -r -t 600 -u 8 _; }
    # a new topic: from the beginning is everything this run produces
    run_case kafka bench "kafka://$BS/bench?from=beginning" pub_kafka
fi
rows=$(sqlite3 "$DB" "select count(*) from events")
echo "store rows after the run: $rows"
if [ "${BENCH_RECORD:-0}" = 1 ]; then
    {
        echo
        echo "### bench_tap.sh $(date -u +%Y-%m-%dT%H:%MZ), N=$N per broker, store ends with $rows rows"
        echo '```'
        cat "$OUT"
        echo '```'
    } >>"$SRC/tests/bench/RESULTS.md"
fi
