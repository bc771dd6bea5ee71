#!/usr/bin/env python3
"""Seed corpora for the capture collector's fuzz targets, from the committed captures:
tests/fuzz/corpus/<proto>/ gets one [client length 2][client bytes][server bytes] file per
connection (the fuzz_pcap_common.h format), corpus/pcapfile/ the small capture files,
corpus/tcp/ segment records (fuzz_tcp.c format). usage: make_seeds.py"""
import glob
import os
import shutil
import struct

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.normpath(os.path.join(here, "..", ".."))
corpus = os.path.join(root, "tests", "fuzz", "corpus")
PROTOS = ("http", "kafka", "amqp", "mqtt", "nats")


def packets(path):
    d = open(path, "rb").read()
    if len(d) < 24 or d[:4] not in (b"\xd4\xc3\xb2\xa1",):
        return
    lt = struct.unpack("<I", d[20:24])[0]
    off = 24
    while off + 16 <= len(d):
        _, _, cl, _ = struct.unpack("<IIII", d[off:off + 16])
        pkt = d[off + 16:off + 16 + cl]
        off += 16 + cl
        ip = {1: pkt[14:], 113: pkt[16:], 0: pkt[4:], 101: pkt}.get(lt)
        if not ip or ip[0] >> 4 != 4 or ip[9] != 6 or struct.unpack(">H", ip[6:8])[0] & 0x3fff:
            continue
        t = ip[(ip[0] & 15) * 4:]
        if len(t) < 20:
            continue
        sp, dp, seq = struct.unpack(">HHI", t[:8])
        yield ip[12:16], sp, ip[16:20], dp, seq, t[13], t[(t[12] >> 4) * 4:]


def flows(path):
    fl = {}
    for src, sp, dst, dp, seq, flags, pl in packets(path):
        key = tuple(sorted([(src, sp), (dst, dp)]))
        f = fl.setdefault(key, {"client": None, "segs": {}})
        if flags & 0x12 == 0x02:
            f["client"] = (src, sp)
        if pl:
            f["segs"].setdefault((src, sp), {}).setdefault(seq, pl)
    for key, f in fl.items():
        client = f["client"] or max(key, key=lambda e: e[1])
        server = key[0] if key[1] == client else key[1]
        out = []
        for side in (client, server):
            segs = sorted(f["segs"].get(side, {}).items())
            out.append(b"".join(pl for _, pl in segs))
        yield server[1], out[0], out[1]


def proto_of(name):
    for p in PROTOS:
        if name.startswith(p) or name.startswith("real_" + p) or name == p:
            return p
    return None


def main():
    for p in PROTOS + ("pcapfile", "tcp"):
        os.makedirs(os.path.join(corpus, p), exist_ok=True)
    files = glob.glob(os.path.join(here, "*.pcap")) + glob.glob(os.path.join(root, "tests/golden/pcap/*/input.pcap*"))
    for path in sorted(files):
        name = os.path.basename(path) if os.path.dirname(path) == here else os.path.basename(os.path.dirname(path))
        name = name.replace(".pcap", "")
        if os.path.getsize(path) <= 16384:
            shutil.copy(path, os.path.join(corpus, "pcapfile", name + ".pcap"))
        proto = proto_of(name)
        for n, (port, c, s) in enumerate(flows(path)):
            if proto is None:
                continue
            if len(c) + len(s) > 60000:
                c, s = c[:30000], s[:30000]
            open(os.path.join(corpus, proto, "%s_%d" % (name, n)), "wb").write(struct.pack(">H", len(c)) + c + s)
        recs = b""
        for i, (src, sp, dst, dp, seq, flags, pl) in enumerate(packets(path)):
            if i >= 40:
                break
            to_server = 1 if dp < sp else 0
            recs += bytes([flags & 0x1f, to_server]) + struct.pack(">H", seq & 0xffff) + bytes([min(len(pl), 255)]) + pl[:255]
        if name.startswith("tcp_") or name.startswith("real_"):
            open(os.path.join(corpus, "tcp", name), "wb").write(b"\x04" + recs)


main()
