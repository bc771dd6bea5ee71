#!/usr/bin/env bash
# The capture collector's benchmark (issue 4, "Performance"):
#   bash tests/bench/bench_pcap.sh BUILD_DIR        (tests/bench/run.sh calls it too)
# 1. generates a pcap of HTTP CloudEvents traffic (binary mode: ce- headers + JSON body,
#    keep-alive connections, 202 responses), BENCH_PCAP_MB megabytes (default 1024);
# 2. decode only: `eventscope capture -r FILE --dry-run` (link, IP, TCP reassembly, HTTP,
#    envelope normaliser; nothing stored) on the default threads, then with --threads 1;
# 3. decode + store: `eventscope -d DB capture -r FILE` into a fresh store on tmpfs;
# 4. tshark extracting the same attributes (request line, URI, content type, every header
#    line: the ce- attributes) from a BENCH_TSHARK_MB slice (default 100) of the same file:
#    its packet rate does not depend on the file size, and a 1 GB run would take minutes;
# prints packets per CPU second, wall time, peak RSS (/usr/bin/time), the load average
# before and after (the machine may be shared) and the ratios to tshark's rate, per CPU
# second and by wall clock. eventscope decodes on its default threads (one worker per
# CPU for a dry run, one fewer when storing: see capture --help); tshark decodes on one,
# so the two ratios differ by how well the decoding spreads over the cores.
# BENCH_RECORD=1 appends the summary to tests/bench/RESULTS.md (section "pcap").
set -euo pipefail
BUILD=$(cd "${1:-build}" && pwd)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${ES_BIN:-$BUILD/eventscope}
MB=${BENCH_PCAP_MB:-1024}
TMB=${BENCH_TSHARK_MB:-100}
WORK=${BENCH_DIR:-$BUILD/bench}
SHM=$( [ -d /dev/shm ] && echo /dev/shm || echo "$WORK")
PY=/usr/bin/python3
[ -x $PY ] || PY=python3
mkdir -p "$WORK"
PCAP="$WORK/http_ce_${MB}mb.pcap"
SLICE="$WORK/http_ce_${TMB}mb.pcap"

# --- 1. the capture (kept and reused) -------------------------------------------------
if [ ! -s "$PCAP" ]; then
    echo "generating $PCAP ..." >&2
    "$PY" - "$PCAP" "$MB" <<'EOF'
import struct, sys
path, mb = sys.argv[1], int(sys.argv[2])
limit = mb * 1024 * 1024
NCONN = 500
out = open(path, "wb", buffering=1 << 22)
out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
ETH = b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00"
def pkt(ts, src, dst, sport, dport, seq, ack, flags, payload):
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 40 + len(payload), 0, 0x4000, 64, 6, 0, src, dst)
    tcp = struct.pack(">HHIIBBHHH", sport, dport, seq & 0xffffffff, ack & 0xffffffff, 0x50, flags, 65535, 0, 0)
    fr = ETH + ip + tcp + payload
    return struct.pack("<IIII", 1795470000 + ts // 1000000, ts % 1000000, len(fr), len(fr)) + fr
C, S = bytes([10, 1, 0, 1]), bytes([10, 1, 0, 2])
cseq = [1000] * NCONN
sseq = [500000] * NCONN
written, ts, n = 24, 0, 0
resp = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
for i in range(NCONN):
    out.write(pkt(ts, C, S, 20000 + i, 8080, cseq[i] - 1, 0, 0x02, b""))
    out.write(pkt(ts, S, C, 8080, 20000 + i, sseq[i] - 1, cseq[i], 0x12, b""))
while written < limit:
    i = n % NCONN
    corr = n // 5
    body = (b'{"orderId":"o-%d","customer":"c-%d","total":%d.%02d,"currency":"EUR",'
            b'"items":[{"sku":"sku-%d","qty":%d}]}' % (corr, corr % 977, n % 500, n % 100, n % 1000, 1 + n % 4))
    req = (b"POST /orders HTTP/1.1\r\nHost: orders.internal:8080\r\nUser-Agent: bench/1.0\r\n"
           b"ce-specversion: 1.0\r\nce-id: %08x-%04x-4000-8000-%012x\r\nce-type: %s\r\n"
           b"ce-source: /services/orders\r\nce-time: 2026-11-23T22:%02d:%02d.%06dZ\r\n"
           b"ce-correlationid: corr-%d\r\nce-causationid: %08x-%04x-4000-8000-%012x\r\n"
           b"traceparent: 00-%032x-%016x-01\r\nContent-Type: application/json\r\n"
           b"Content-Length: %d\r\n\r\n" % (n, n & 0xffff, n * 7919, (b"OrderPlaced", b"PaymentAuthorised", b"StockReserved", b"OrderShipped", b"OrderDelivered")[n % 5],
                                             (n // 60000) % 60, (n // 1000) % 60, n % 1000000, corr, n - 1, (n - 1) & 0xffff, (n - 1) * 7919, corr, n, len(body))) + body
    ts += 37
    a = pkt(ts, C, S, 20000 + i, 8080, cseq[i], sseq[i], 0x18, req)
    cseq[i] += len(req)
    ts += 21
    b = pkt(ts, S, C, 8080, 20000 + i, sseq[i], cseq[i], 0x18, resp)
    sseq[i] += len(resp)
    out.write(a)
    out.write(b)
    written += len(a) + len(b)
    n += 1
out.close()
print("%d requests" % n, file=sys.stderr)
EOF
fi
if [ ! -s "$SLICE" ]; then
    "$PY" - "$PCAP" "$SLICE" "$TMB" <<'EOF'
import struct, sys
src, dst, mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
f, o = open(src, "rb"), open(dst, "wb")
o.write(f.read(24))
left = mb * 1024 * 1024
while left > 0:
    h = f.read(16)
    if len(h) < 16:
        break
    n = struct.unpack("<IIII", h)[2]
    o.write(h + f.read(n))
    left -= 16 + n
EOF
fi
size=$(stat -c %s "$PCAP")
packets=$("$PY" -c "
import struct,sys
f=open(sys.argv[1],'rb'); f.seek(24); n=0
while True:
    h=f.read(16)
    if len(h)<16: break
    f.seek(struct.unpack('<IIII',h)[2],1); n+=1
print(n)" "$PCAP")
spackets=$("$PY" -c "
import struct,sys
f=open(sys.argv[1],'rb'); f.seek(24); n=0
while True:
    h=f.read(16)
    if len(h)<16: break
    f.seek(struct.unpack('<IIII',h)[2],1); n+=1
print(n)" "$SLICE")

measure() { # measure OUTFILE CMD... -> "cpu_seconds maxrss_kb wall_seconds"
    # Rates use CPU time (user + system): the bench machine is shared, wall time is noisy.
    local out=$1; shift
    /usr/bin/time -f "%U %S %M %e" -o "$WORK/time.txt" "$@" >"$out" 2>"$out.err" || true
    tail -1 "$WORK/time.txt" | awk '{printf "%.2f %s %s\n", $1 + $2, $3, $4}'
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?"; }
load_start=$(loadavg)
cat "$PCAP" >/dev/null # warm the page cache for every contender alike
# --- 2. decode only ---------------------------------------------------------------------
read -r t_dec rss_dec w_dec < <(measure "$WORK/dec.out" "$BIN" capture -q -r "$PCAP" --dry-run)
# the same on the reading thread alone: what one core does, to judge how the threads scale
read -r t_one rss_one w_one < <(measure "$WORK/one.out" "$BIN" capture -q -r "$PCAP" --dry-run --threads 1)
events_dec=$(grep -o '[0-9]* events decoded' "$WORK/dec.out.err" | cut -d' ' -f1)
# --- 3. decode + store ------------------------------------------------------------------
rm -f "$SHM"/es_bench_pcap.db*
read -r t_st rss_st w_st < <(measure "$WORK/st.out" "$BIN" -d "$SHM/es_bench_pcap.db" capture -q -r "$PCAP")
events_st=$(grep -o '[0-9]* events stored' "$WORK/st.out.err" | cut -d' ' -f1)
rm -f "$SHM"/es_bench_pcap.db*
# --- 4. tshark ----------------------------------------------------------------------------
if command -v tshark >/dev/null; then
    cat "$SLICE" >/dev/null
    read -r t_ts rss_ts w_ts < <(measure "$WORK/tshark.out" tshark -n -r "$SLICE" -Y http.request -T fields \
        -e frame.number -e http.request.method -e http.request.uri -e http.content_type \
        -e http.request.line)
    ts_rows=$(wc -l <"$WORK/tshark.out")
else
    t_ts=""
fi

rate() { "$PY" -c "import sys; print('%.0f' % (float(sys.argv[1]) / max(float(sys.argv[2]), 1e-9)))" "$@"; }
r_dec=$(rate "$packets" "$t_dec")
r_st=$(rate "$packets" "$t_st")
{
    echo "pcap bench: $(basename "$PCAP"), $((size / 1048576)) MB, $packets packets ($(date -u +%F), $(nproc) cores, load average $load_start at the start, $(loadavg) at the end)"
    printf "  decode only (capture --dry-run): %8s s CPU (%s s wall)  %9s packets/s  %6s MB peak  %s events  (%s decoding threads)\n" \
        "$t_dec" "$w_dec" "$r_dec" "$((rss_dec / 1024))" "$events_dec" "$(n=$(nproc); echo $((n > 8 ? 8 : n)))"
    printf "  decode only, --threads 1:        %8s s CPU (%s s wall)  %9s packets/s  %6s MB peak\n" \
        "$t_one" "$w_one" "$(rate "$packets" "$t_one")" "$((rss_one / 1024))"
    printf "  decode + store (capture -d DB):  %8s s CPU (%s s wall)  %9s packets/s  %6s MB peak  %s events\n" \
        "$t_st" "$w_st" "$r_st" "$((rss_st / 1024))" "$events_st"
    if [ -n "$t_ts" ]; then
        r_ts=$(rate "$spackets" "$t_ts")
        printf "  tshark -Y http.request -T fields (%s MB slice, %s packets): %s s CPU (%s s wall)  %s packets/s  %s MB peak  %s rows\n" \
            "$TMB" "$spackets" "$t_ts" "$w_ts" "$r_ts" "$((rss_ts / 1024))" "$ts_rows"
        "$PY" -c "import sys; d,s,t=map(float,sys.argv[1:]); print('  ratio to tshark per CPU second: decode only %.1fx, decode + store %.1fx' % (d/t, s/t))" "$r_dec" "$r_st" "$r_ts"
        "$PY" -c "import sys; p,sp,wd,ws,wt=map(float,sys.argv[1:]); t=sp/wt; print('  ratio to tshark by wall clock: decode only %.1fx (%.0f packets/s; target >= 50x), decode + store %.1fx (%.0f packets/s; target >= 10x)' % (p/wd/t, p/wd, p/ws/t, p/ws))" "$packets" "$spackets" "$w_dec" "$w_st" "$w_ts"
    else
        echo "  tshark not installed: no ratio (apt-get install tshark)"
    fi
} | tee "$WORK/pcap_summary.txt"
if [ "${BENCH_RECORD:-0}" = 1 ]; then
    { echo; echo '```'; cat "$WORK/pcap_summary.txt"; echo '```'; } >>"$SRC/tests/bench/RESULTS.md"
fi
