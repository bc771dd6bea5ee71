#!/usr/bin/env python3
"""Writes N CloudEvents JSON lines (deterministic, seeded) to stdout: processes of five
events chained by causation, ids that are unique, so a complete ingest holds exactly N rows.
usage: gen_events.py N [SEED]"""
import json
import random
import sys

n = int(sys.argv[1])
rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 7)
types = ["OrderPlaced", "PaymentAuthorised", "StockReserved", "OrderShipped", "OrderDelivered"]
sources = ["orders", "payments", "inventory", "shipping", "shipping"]
out = sys.stdout
t0 = 1773651600_000_000  # 2026-03-16T09:00:00Z in µs
prev = None
for i in range(n):
    k = i % 5
    corr = "ord-%07d" % (i // 5)
    eid = "%08x-%04x-4%03x-%04x-%012x" % (rng.getrandbits(32), rng.getrandbits(16),
                                         rng.getrandbits(12), rng.getrandbits(16) | 0x8000,
                                         rng.getrandbits(48))
    us = t0 + i * 1000
    ev = {"specversion": "1.0", "id": eid, "type": types[k], "source": sources[k],
          "time": "%s.%06dZ" % (__import__("time").strftime("%Y-%m-%dT%H:%M:%S",
                                __import__("time").gmtime(us // 1000000)), us % 1000000),
          "correlationid": corr, "subject": corr,
          "data": {"orderId": corr, "amount": rng.randint(1, 99999) / 100, "n": i}}
    if k:
        ev["causationid"] = prev
    prev = eid
    out.write(json.dumps(ev, separators=(",", ":")) + "\n")
