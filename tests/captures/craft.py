#!/usr/bin/env python3
"""Crafted captures for what real clients on loopback do not produce on demand: reordered,
retransmitted, overlapping and missing TCP segments, a capture starting mid-stream, cut
by the snap length, IPv4 fragments, every link type, pcapng, and for each decoder a
message cut short and one with a bad length field. Each case becomes
tests/golden/pcap/<case>/input.pcap (or .pcapng).
    usage: tests/captures/craft.py OUTDIR"""
import os
import struct
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "golden", "pcap")
T0 = 1795470000  # 2026-11-23T20:20:00Z

# ---------------------------------------------------------------------------- link + IP

def pcap(path, frames, linktype=1, snaplen=262144, caps=None):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))
        for i, fr in enumerate(frames):
            cap = fr if caps is None or caps[i] is None else fr[:caps[i]]
            f.write(struct.pack("<IIII", T0 + i // 1000, (i % 1000) * 1000, len(cap), len(fr)))
            f.write(cap)


def pcapng(path, frames, linktype=1, tsresol=9):
    def block(t, body):
        body += b"\0" * ((4 - len(body) % 4) % 4)
        n = len(body) + 12
        return struct.pack("<II", t, n) + body + struct.pack("<I", n)
    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    opts = struct.pack("<HHB3x", 9, 1, tsresol) + struct.pack("<HH", 0, 0)
    out += block(1, struct.pack("<HHI", linktype, 0, 0) + opts)
    for i, fr in enumerate(frames):
        ts = (T0 * 10**9 + i * 1000003) if tsresol == 9 else (T0 * 10**6 + i * 1000)
        out += block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xffffffff, len(fr), len(fr)) + fr)
    out += block(5, struct.pack("<I", 0))  # an interface statistics block: skipped
    open(path, "wb").write(out)


def eth(ip, v6=False, tags=()):
    hdr = b"\x02\0\0\0\0\x01" + b"\x02\0\0\0\0\x02"
    for tpid, vid in tags:
        hdr += struct.pack(">HH", tpid, vid)
    return hdr + struct.pack(">H", 0x86DD if v6 else 0x0800) + ip


def ipv4(src, dst, payload, ident=1, off=0, mf=False, proto=6):
    fo = (off // 8) | (0x2000 if mf else 0)
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, fo, 64, proto, 0,
                       bytes(src), bytes(dst)) + payload


def ipv6(src, dst, payload, hopbyhop=False):
    nh = 6
    if hopbyhop:
        payload = struct.pack(">BB6s", 6, 0, b"\x01\x04\0\0\0\0") + payload
        nh = 0
    return struct.pack(">IHBB16s16s", 0x60000000, len(payload), nh, 64, bytes(src), bytes(dst)) + payload


def tcp(sport, dport, seq, ack, flags, payload=b""):
    return struct.pack(">HHIIBBHHH", sport, dport, seq & 0xffffffff, ack & 0xffffffff, 5 << 4,
                       flags, 65535, 0, 0) + payload


FIN, SYN, RST, PSH, ACK = 1, 2, 4, 8, 16
C4, S4 = [10, 0, 0, 1], [10, 0, 0, 2]
C6, S6 = [0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [1], [0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [2]


class Conn:
    """One TCP connection; each call returns an IPv4 packet (no link header)."""

    def __init__(self, sport, dport, v6=False):
        self.sport, self.dport, self.v6 = sport, dport, v6
        self.cseq, self.sseq = 1000, 5000

    def ip(self, from_client, seg):
        src, dst = (C6, S6) if self.v6 else (C4, S4)
        if not from_client:
            src, dst = dst, src
        return ipv6(src, dst, seg) if self.v6 else ipv4(src, dst, seg)

    def handshake(self):
        p = [self.ip(True, tcp(self.sport, self.dport, self.cseq, 0, SYN)),
             self.ip(False, tcp(self.dport, self.sport, self.sseq, self.cseq + 1, SYN | ACK))]
        self.cseq += 1
        self.sseq += 1
        return p

    def seg(self, from_client, data, at=None, flags=PSH | ACK, advance=True):
        if from_client:
            seq = self.cseq if at is None else at
            p = self.ip(True, tcp(self.sport, self.dport, seq, self.sseq, flags, data))
            if advance and at is None:
                self.cseq += len(data)
        else:
            seq = self.sseq if at is None else at
            p = self.ip(False, tcp(self.dport, self.sport, seq, self.cseq, flags, data))
            if advance and at is None:
                self.sseq += len(data)
        return p

    def fin(self):
        p = [self.ip(True, tcp(self.sport, self.dport, self.cseq, self.sseq, FIN | ACK)),
             self.ip(False, tcp(self.dport, self.sport, self.sseq, self.cseq + 1, FIN | ACK))]
        return p


def case(name, frames, **kw):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    if kw.pop("ng", False):
        pcapng(os.path.join(d, "input.pcapng"), frames, **kw)
    else:
        pcap(os.path.join(d, "input.pcap"), frames, **kw)
    if not os.path.exists(os.path.join(d, "args")):
        open(os.path.join(d, "args"), "w").write("capture -q -r {input}\n")

# ---------------------------------------------------------------------------- messages

def http_post(i, path="/orders", extra=b"", body=None):
    body = body if body is not None else b'{"orderId":"o-%d"}' % i
    return (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: shop\r\nce-specversion: 1.0\r\n"
            b"ce-id: c-%d\r\nce-type: OrderPlaced\r\nce-source: /craft\r\n"
            b"ce-correlationid: corr-craft\r\nContent-Type: application/json\r\n" % i +
            extra + b"Content-Length: %d\r\n\r\n" % len(body) + body)


def nats_pub(i, subject=b"orders.placed"):
    p = b'{"id":"n-%d","type":"OrderPlaced","source":"/craft"}' % i
    return b"PUB %s %d\r\n%s\r\n" % (subject, len(p), p)


def mqtt_str(s):
    return struct.pack(">H", len(s)) + s


def mqtt_varint(n):
    out = b""
    while True:
        b = n & 0x7f
        n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def mqtt_connect(level=5):
    vh = mqtt_str(b"MQTT") + bytes([level, 2]) + struct.pack(">H", 60) + (b"\0" if level == 5 else b"")
    pl = mqtt_str(b"craft")
    return b"\x10" + mqtt_varint(len(vh + pl)) + vh + pl


def mqtt_publish(i, level=5, qos=1, dup=False, props=None):
    vh = mqtt_str(b"shop/orders") + (struct.pack(">H", i) if qos else b"")
    if level == 5:
        if props is None:
            props = (b"\x26" + mqtt_str(b"ce-id") + mqtt_str(b"m-%d" % i) +
                     b"\x26" + mqtt_str(b"ce-type") + mqtt_str(b"OrderPlaced") +
                     b"\x26" + mqtt_str(b"ce-source") + mqtt_str(b"/craft") +
                     b"\x03" + mqtt_str(b"application/json"))
        vh += mqtt_varint(len(props)) + props
    pl = b'{"orderId":"o-%d"}' % i if level == 5 else \
        b'{"id":"m-%d","type":"OrderPlaced","source":"/craft"}' % i
    return bytes([0x30 | (qos << 1) | (8 if dup else 0)]) + mqtt_varint(len(vh + pl)) + vh + pl


def amqp_frame(t, ch, payload, end=0xCE):
    return struct.pack(">BHI", t, ch, len(payload)) + payload + bytes([end])


def shortstr(s):
    return bytes([len(s)]) + s


def longstr(s):
    return struct.pack(">I", len(s)) + s


def field_table(items):
    body = b""
    for k, t, v in items:
        body += shortstr(k) + t + v
    return struct.pack(">I", len(body)) + body


def amqp_message(i, deliver=False, redelivered=False, body=None, frame_max=None, headers=None):
    body = body if body is not None else b'{"orderId":"o-%d"}' % i
    if deliver:
        m = struct.pack(">HH", 60, 60) + shortstr(b"ctag-1") + struct.pack(">QB", i, 1 if redelivered else 0) + \
            shortstr(b"shop") + shortstr(b"orders.placed")
    else:
        m = struct.pack(">HHH", 60, 40, 0) + shortstr(b"shop") + shortstr(b"orders.placed") + b"\0"
    if headers is None:
        headers = [(b"cloudEvents:id", b"S", longstr(b"a-%d" % i)),
                   (b"cloudEvents:type", b"S", longstr(b"OrderPlaced")),
                   (b"cloudEvents:source", b"S", longstr(b"/craft"))]
    # content-type, headers, delivery-mode, correlation-id, message-id, timestamp, app-id
    flags = (1 << 15) | (1 << 13) | (1 << 12) | (1 << 10) | (1 << 7) | (1 << 6) | (1 << 3)
    props = struct.pack(">H", flags) + shortstr(b"application/json") + field_table(headers) + b"\x02" + \
        shortstr(b"corr-amqp-craft") + shortstr(b"msg-%d" % i) + struct.pack(">Q", T0) + shortstr(b"craft-app")
    out = amqp_frame(1, 1, m) + amqp_frame(2, 1, struct.pack(">HHQ", 60, 0, len(body)) + props)
    step = frame_max or len(body) or 1
    for k in range(0, len(body), step):
        out += amqp_frame(3, 1, body[k:k + step])
    return out


def crc32c(data):
    crc = 0xffffffff
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xffffffff


def zz(n):
    return mqtt_varint((n << 1) ^ (n >> 63))


def kafka_record(i, key, value, headers):
    body = b"\0" + zz(0) + zz(i) + zz(len(key)) + key + zz(len(value)) + value + zz(len(headers))
    for k, v in headers:
        body += zz(len(k)) + k + zz(len(v)) + v
    return zz(len(body)) + body


def kafka_batch(records, base_offset=0, bad_crc=False):
    recs = b"".join(kafka_record(i, *r) for i, r in enumerate(records))
    after_crc = struct.pack(">hiqqqhii", 0, len(records) - 1, T0 * 1000, T0 * 1000, -1, -1, -1, len(records)) + recs
    crc = crc32c(after_crc) ^ (1 if bad_crc else 0)
    inner = struct.pack(">iBI", 0, 2, crc) + after_crc
    return struct.pack(">qi", base_offset, len(inner)) + inner


def k_str(s, flex):
    return mqtt_varint(len(s) + 1) + s if flex else struct.pack(">h", len(s)) + s


def k_bytes(b, flex):
    return mqtt_varint(len(b) + 1) + b if flex else struct.pack(">i", len(b)) + b


def k_arr(n, flex):
    return mqtt_varint(n + 1) if flex else struct.pack(">i", n)


def kafka_request(key, ver, corr, body, flex=False):
    hdr = struct.pack(">hhi", key, ver, corr) + struct.pack(">h", 5) + b"craft" + (b"\0" if flex else b"")
    return struct.pack(">i", len(hdr + body)) + hdr + body


def kafka_produce(ver, corr, batches, topic=b"orders"):
    flex = ver >= 9
    body = (mqtt_varint(0) if flex else struct.pack(">h", -1)) + struct.pack(">hi", 1, 1000)
    body += k_arr(1, flex) + k_str(topic, flex) + k_arr(1, flex) + struct.pack(">i", 0) + \
        k_bytes(b"".join(batches), flex) + (b"\0" if flex else b"") + (b"\0" if flex else b"") + \
        (b"\0" if flex else b"")
    return kafka_request(0, ver, corr, body, flex)


def kafka_fetch_response(ver, corr, batches, topic=b"orders"):
    flex = ver >= 12
    body = struct.pack(">i", corr) + (b"\0" if flex else b"")
    body += struct.pack(">ihi", 0, 0, 0) + k_arr(1, flex) + k_str(topic, flex) + k_arr(1, flex)
    body += struct.pack(">ihqqq", 0, 0, 10, 10, 0) + k_arr(0, flex)  # no aborted txns
    if ver >= 11:
        body += struct.pack(">i", -1)
    body += k_bytes(b"".join(batches), flex) + (b"\0" if flex else b"") + (b"\0" if flex else b"") + \
        (b"\0" if flex else b"")
    return struct.pack(">i", len(body)) + body


def kheaders(i):
    return [(b"ce_id", b"k-%d" % i), (b"ce_type", b"OrderPlaced"), (b"ce_source", b"/craft"),
            (b"ce_correlationid", b"corr-kafka-craft")]

# ---------------------------------------------------------------------------- cases

def e(pkts):
    return [eth(p) for p in pkts]


def tcp_cases():
    # Reordered, retransmitted and overlapping segments; two requests, the second pipelined.
    c = Conn(40001, 8080)
    r1, r2 = http_post(1), http_post(2, "/payments")
    data = r1 + r2
    a, b, cc = 60, 150, len(r1) + 20
    p = c.handshake()
    base = c.cseq
    p += [c.seg(True, data[:a], at=base),
          c.seg(True, data[b:cc], at=base + b),          # ahead: waits
          c.seg(True, data[a:b], at=base + a),           # fills the hole
          c.seg(True, data[a:b], at=base + a),           # retransmission
          c.seg(True, data[b - 10:cc + 10], at=base + b - 10),  # overlap both sides
          c.seg(True, data[cc:], at=base + cc)]
    c.cseq = base + len(data)
    p += c.fin()
    case("tcp_reorder", e(p))

    # A segment never captured: the first and third requests survive, the gap is reported.
    c = Conn(40002, 8080)
    p = c.handshake()
    r = [http_post(i) for i in (1, 2, 3)]
    p.append(c.seg(True, r[0]))
    c.cseq += len(r[1])  # lost
    p.append(c.seg(True, r[2]))
    p += c.fin()
    case("tcp_gap", e(p))

    # Capture starts in the middle of a request: skip to the next one.
    c = Conn(40003, 8080)
    r1, r2 = http_post(1), http_post(2)
    p = [c.seg(True, r1[40:]), c.seg(True, r2)]
    p += c.fin()
    case("tcp_midstream", e(p))

    # One packet cut by the snap length.
    c = Conn(40004, 8080)
    p = c.handshake()
    r = [http_post(i) for i in (1, 2, 3)]
    caps = [None, None]
    for x in r:
        p.append(c.seg(True, x))
        caps.append(None)
    caps[3] = 14 + 20 + 20 + 50
    p += c.fin()
    caps += [None, None]
    case("tcp_snaplen", e(p), caps=caps, snaplen=104)

    # Many messages in one segment, one message over many segments (NATS).
    c = Conn(40005, 4222)
    p = c.handshake()
    p.append(c.seg(True, b"CONNECT {}\r\n" + b"".join(nats_pub(i) for i in range(1, 6))))
    big = nats_pub(6)
    for k in range(0, len(big), 7):
        p.append(c.seg(True, big[k:k + 7]))
    p += c.fin()
    case("tcp_pipelined", e(p))

    # RST ends the connection; the message before it is complete, the one after a RST is not.
    c = Conn(40006, 8080)
    p = c.handshake()
    p.append(c.seg(True, http_post(1)))
    p.append(c.seg(True, http_post(2)[:30]))
    p.append(c.ip(True, tcp(c.sport, c.dport, c.cseq, c.sseq, RST | ACK)))
    case("tcp_rst", e(p))


def ip_cases():
    # IPv4 fragments, out of order.
    c = Conn(40010, 8080)
    p = [eth(x) for x in c.handshake()]
    seg = tcp(c.sport, c.dport, c.cseq, c.sseq, PSH | ACK, http_post(1))
    c.cseq += len(http_post(1))
    parts = [(0, seg[:96]), (96, seg[96:200]), (200, seg[200:])]
    frags = [eth(ipv4(C4, S4, d, ident=77, off=o, mf=(o != 200))) for o, d in parts]
    p += [frags[2], frags[0], frags[1]]
    p += [eth(x) for x in c.fin()]
    case("ipv4_fragments", p)

    # IPv6 with a hop-by-hop extension header, in 802.1ad + 802.1Q (QinQ) Ethernet.
    c = Conn(40011, 8080, v6=True)
    pk = c.handshake() + [ipv6(C6, S6, tcp(c.sport, c.dport, c.cseq, c.sseq, PSH | ACK, http_post(1)), hopbyhop=True)]
    c.cseq += len(http_post(1))
    pk += c.fin()
    case("link_qinq_ipv6", [eth(x, v6=True, tags=((0x88A8, 10), (0x8100, 20))) for x in pk])

    # Mirrored traffic (AWS VPC Traffic Mirroring, Gateway Load Balancer, GCP, Cisco/Azure
    # ERSPAN): one connection whose six requests come in VXLAN, Geneve (one option), GRE
    # around Ethernet and around IP, ERSPAN II and III; then a cut GRE header (a reject) and plain
    # UDP (DNS, ignored).
    M1, M2 = [192, 168, 7, 1], [192, 168, 7, 2]
    def udp(dport, payload):
        return struct.pack(">HHHH", 50000, dport, 8 + len(payload), 0) + payload
    def outer(payload, proto):
        return eth(ipv4(M1, M2, payload, proto=proto))
    wraps = [
        lambda f: outer(udp(4789, struct.pack(">II", 0x08000000, 42 << 8) + eth(f)), 17),
        lambda f: outer(udp(6081, struct.pack(">BBHI", 1, 0, 0x6558, 42 << 8) + b"\x01\x02\x03\x00" + eth(f)), 17),
        lambda f: outer(struct.pack(">HHI", 0x2000, 0x6558, 7) + eth(f), 47),
        lambda f: outer(struct.pack(">HH", 0, 0x0800) + f, 47),
        lambda f: outer(struct.pack(">HHI", 0x1000, 0x88BE, 1) + struct.pack(">II", 0x10000001, 0) + eth(f), 47),
        lambda f: outer(struct.pack(">HHI", 0x1000, 0x22EB, 2) + b"\x20\0\0\x01" + b"\0" * 7 + b"\x01" + b"\0" * 8 + eth(f), 47),
    ]
    c = Conn(40013, 8080)
    pk = c.handshake() + [c.seg(True, http_post(i)) for i in range(1, 7)] + c.fin()
    frames = [wraps[i % len(wraps)](x) for i, x in enumerate(pk)]
    frames += [outer(b"\x20\x00\x65", 47), outer(udp(53, b"\x12\x34\x01\x00"), 17)]
    case("link_tunnels", frames)

    # Linux cooked SLL and SLL2, BSD NULL, raw IP.
    def flows():
        c = Conn(40012, 8080)
        pk = c.handshake() + [c.seg(True, http_post(1))] + c.fin()
        return pk
    sll = [struct.pack(">HHH8sH", 0, 772, 6, b"\0" * 8, 0x0800) + x for x in flows()]
    case("link_sll", sll, linktype=113)
    sll2 = [struct.pack(">HHIHBB8s", 0x0800, 0, 1, 772, 0, 6, b"\0" * 8) + x for x in flows()]
    case("link_sll2", sll2, linktype=276)
    case("link_null", [struct.pack("<I", 2) + x for x in flows()], linktype=0)
    case("link_raw", flows(), linktype=101)
    case("pcapng_ns", e(flows()), ng=True)


def decoder_cases():
    # HTTP
    c = Conn(40020, 8080)
    p = c.handshake() + [c.seg(True, http_post(1)), c.seg(True, http_post(2)[:-10])] + c.fin()
    case("http_truncated", e(p))
    c = Conn(40021, 8080)
    bad = http_post(1).replace(b"Content-Length: 17", b"Content-Length: 1x7")
    p = c.handshake() + [c.seg(True, bad), c.seg(True, http_post(2))] + c.fin()
    case("http_bad_length", e(p))
    c = Conn(40022, 8080)
    chunked = (b"POST /chunks HTTP/1.1\r\nce-id: ch-1\r\nce-type: OrderPlaced\r\nce-source: /craft\r\n"
               b"ce-specversion: 1.0\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"7\r\n{\"a\":1,\r\n9\r\n\"b\":\"x%20\r\n2\r\n\"}\r\n0\r\n\r\n")
    resp = (b"HTTP/1.1 200 OK\r\nContent-Type: application/cloudevents+json\r\nContent-Length: 62\r\n\r\n"
            b'{"specversion":"1.0","id":"r-1","type":"Ack","source":"/craft"}')
    resp = resp.replace(b"Content-Length: 62", b"Content-Length: %d" % len(resp.split(b"\r\n\r\n", 1)[1]))
    p = c.handshake() + [c.seg(True, chunked), c.seg(False, resp)] + c.fin()
    case("http_chunked_response", e(p))

    # NATS
    c = Conn(40030, 4222)
    p = c.handshake() + [c.seg(True, nats_pub(1)), c.seg(True, nats_pub(2)[:-15])] + c.fin()
    case("nats_truncated", e(p))
    c = Conn(40031, 4222)
    bad = b'PUB orders.placed 5\r\n{"id":"n-1","type":"OrderPlaced"}\r\n'  # length too short
    hdr = b"NATS/1.0\r\nce-id: n-h\r\nce-type: OrderPlaced\r\nce-source: /craft\r\n\r\n"
    hmsg = b"HMSG orders.placed 9 %d %d\r\n%s{}\r\n" % (len(hdr), len(hdr) + 2, hdr)
    p = c.handshake() + [c.seg(True, bad + nats_pub(2)), c.seg(False, b"INFO {}\r\n" + hmsg)] + c.fin()
    case("nats_bad_length", e(p))

    # MQTT
    c = Conn(40040, 1883)
    pub = mqtt_publish(2)
    p = c.handshake() + [c.seg(True, mqtt_connect() + mqtt_publish(1)), c.seg(True, pub[:len(pub) // 2])] + c.fin()
    case("mqtt_truncated", e(p))
    c = Conn(40041, 1883)
    p = c.handshake() + [c.seg(True, mqtt_connect() + b"\x30\xff\xff\xff\xff\x01" + mqtt_publish(2))] + c.fin()
    case("mqtt_bad_length", e(p))
    c = Conn(40042, 1883)
    v3 = mqtt_publish(3, level=4, qos=0)
    dup = mqtt_publish(4, level=4, qos=1, dup=True)
    p = c.handshake() + [c.seg(True, mqtt_connect(4) + v3), c.seg(False, dup)] + c.fin()
    case("mqtt_v311_dup", e(p))

    # AMQP
    c = Conn(40050, 5672)
    msg2 = amqp_message(2)
    p = c.handshake() + [c.seg(True, b"AMQP\0\0\x09\x01" + amqp_message(1)), c.seg(True, msg2[:-12])] + c.fin()
    case("amqp_truncated", e(p))
    c = Conn(40051, 5672)
    bad = amqp_frame(1, 1, struct.pack(">HH", 60, 40) + b"\0\0", end=0x00)
    p = c.handshake() + [c.seg(True, b"AMQP\0\0\x09\x01" + bad + amqp_message(2))] + c.fin()
    case("amqp_bad_length", e(p))
    c = Conn(40052, 5672)
    every = [(b"t", b"t", b"\x01"), (b"b", b"b", b"\xff"), (b"B", b"B", b"\xff"), (b"s", b"s", b"\xff\xfe"),
             (b"u", b"u", b"\xff\xfe"), (b"I", b"I", b"\xff\xff\xff\xfe"), (b"i", b"i", b"\xff\xff\xff\xfe"),
             (b"l", b"l", struct.pack(">q", -3)), (b"f", b"f", struct.pack(">f", 1.5)),
             (b"d", b"d", struct.pack(">d", 2.25)), (b"D", b"D", b"\x02" + struct.pack(">i", 1234)),
             (b"x", b"x", longstr(b"raw")), (b"T", b"T", struct.pack(">Q", T0)), (b"V", b"V", b""),
             (b"A", b"A", struct.pack(">I", 7) + b"I" + struct.pack(">i", 5) + b"t\x00"),
             (b"F", b"F", field_table([(b"inner", b"S", longstr(b"yes"))])),
             (b"ce-id", b"S", longstr(b"a-r")), (b"ce-type", b"S", longstr(b"OrderPlaced")),
             (b"ce-source", b"S", longstr(b"/craft"))]
    p = c.handshake() + [c.seg(True, b"AMQP\0\0\x09\x01"),
                         c.seg(False, amqp_message(7, deliver=True, redelivered=True, headers=every,
                                                   body=b'{"orderId":"o-7","pad":"' + b"x" * 300 + b'"}',
                                                   frame_max=100))] + c.fin()
    case("amqp_redelivered_fields", e(p))

    # Kafka
    c = Conn(40060, 9092)
    good = kafka_produce(7, 1, [kafka_batch([(b"order-1", b'{"n":1}', kheaders(1))])])
    p = c.handshake() + [c.seg(True, good), c.seg(True, kafka_produce(7, 2, [kafka_batch([(b"k", b"{}", kheaders(2))])])[:-20])] + c.fin()
    case("kafka_truncated", e(p))
    c = Conn(40061, 9092)
    b1 = kafka_batch([(b"order-1", b'{"n":1}', kheaders(1))], bad_crc=True)
    b2 = kafka_batch([(b"order-2", b'{"n":2}', kheaders(2))])
    short = b2[:8] + struct.pack(">i", 5000) + b2[12:]  # batch length past its field
    p = c.handshake() + [c.seg(True, kafka_produce(7, 1, [b1])), c.seg(True, kafka_produce(7, 2, [short])),
                         c.seg(True, b"\xff\xff\xff\xf0junk"), c.seg(True, kafka_produce(7, 3, [b2]))] + c.fin()
    case("kafka_bad_length", e(p))
    c = Conn(40062, 9092)
    legacy = struct.pack(">qiIbbqi", 0, 26, 0, 1, 0, T0 * 1000, -1) + struct.pack(">i", 2) + b"{}"
    legacy = legacy[:8] + struct.pack(">i", len(legacy) - 12) + legacy[12:]
    p = c.handshake() + [c.seg(True, kafka_produce(7, 1, [legacy]))] + c.fin()
    case("kafka_legacy_format", e(p))
    c = Conn(40063, 19093)
    recs = [(b"order-%d" % i, b'{"n":%d}' % i, kheaders(i)) for i in (1, 2, 3)]
    fetch_req = kafka_request(1, 12, 8, b"\0" * 40, flex=True)
    p = c.handshake() + [c.seg(True, kafka_request(18, 3, 7, b"\x06craft\x061.0.0\0", flex=True)),
                         c.seg(True, kafka_produce(9, 1, [kafka_batch(recs[:2])])),
                         c.seg(True, fetch_req),
                         c.seg(False, kafka_fetch_response(12, 8, [kafka_batch(recs, base_offset=40)]))] + c.fin()
    case("kafka_flexible", e(p))


if __name__ == "__main__":
    tcp_cases()
    ip_cases()
    decoder_cases()
