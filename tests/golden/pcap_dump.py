#!/usr/bin/env python3
"""Dumps a store's events and rejects as deterministic JSON (golden files of the capture
collector): events in observation order with every column but seq/origin/payload_hash,
attrs parsed so key order does not matter, rejects in insertion order.
    usage: pcap_dump.py DB"""
import json
import sqlite3
import sys

db = sqlite3.connect(sys.argv[1])
db.row_factory = sqlite3.Row
cols = ["location", "event_id", "type", "source", "subject", "partition_key", "sequence",
        "time_raw", "time_us", "observed_us", "correlation_id", "causation_id", "transport",
        "channel", "direction", "vclock", "data", "attrs"]
events = []
for r in db.execute("SELECT %s FROM events ORDER BY seq" % ", ".join(cols)):
    ev = {c: r[c] for c in cols if r[c] is not None}
    if "attrs" in ev:
        ev["attrs"] = json.loads(ev["attrs"])
    events.append(ev)
rejects = [{"location": r["location"], "reason": r["reason"]}
           for r in db.execute("SELECT location, reason FROM rejects ORDER BY rowid")]
print(json.dumps({"events": events, "rejects": rejects}, indent=1, sort_keys=True))
