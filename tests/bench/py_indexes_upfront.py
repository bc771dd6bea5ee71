#!/usr/bin/env python3
"""What a user would write: CloudEvents JSON lines into SQLite with Python's json and
sqlite3 modules, the same events table and indexes as eventscope, indexes declared up
front. Usage: py_indexes_upfront.py DB FILE. Prints "events N seconds S rate R"."""
import json
import sqlite3
import sys
import time
from datetime import datetime

SCHEMA = """
CREATE TABLE events(seq INTEGER PRIMARY KEY, origin_id INTEGER, location TEXT,
  event_id TEXT, type TEXT, source TEXT, subject TEXT, partition_key TEXT, sequence TEXT,
  time_us INTEGER, time_raw TEXT, observed_us INTEGER, correlation_id TEXT,
  causation_id TEXT, transport TEXT, channel TEXT, direction TEXT, vclock TEXT,
  payload_hash INTEGER, data TEXT, attrs TEXT, UNIQUE(origin_id, location));
"""
INDEXES = """
CREATE INDEX events_correlation ON events(correlation_id);
CREATE INDEX events_causation ON events(causation_id);
CREATE INDEX events_event_id ON events(event_id);
CREATE INDEX events_time ON events(time_us);
"""
KNOWN = {"id", "type", "source", "subject", "time", "correlationid", "causationid", "data"}


def time_us(s):
    # 2026-11-23T00:00:00.001211Z
    if not s:
        return None
    return int(datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1e6)


def main():
    db, path = sys.argv[1], sys.argv[2]
    t0 = time.time()
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.executescript(SCHEMA + INDEXES)
    sql = ("INSERT OR IGNORE INTO events(origin_id, location, event_id, type, source, subject,"
           " time_us, time_raw, correlation_id, causation_id, transport, direction, data, attrs)"
           " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
    rows, n = [], 0
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            ev = json.loads(line)
            attrs = {k: v for k, v in ev.items() if k not in KNOWN}
            rows.append((1, f"{path}:{n}", ev.get("id"), ev.get("type"), ev.get("source"),
                         ev.get("subject"), time_us(ev.get("time")), ev.get("time"),
                         ev.get("correlationid"), ev.get("causationid"), "file", "log",
                         json.dumps(ev.get("data")), json.dumps(attrs)))
            if len(rows) == 10000:
                con.executemany(sql, rows)
                con.commit()
                rows = []
    con.executemany(sql, rows)
    con.commit()
    con.close()
    s = time.time() - t0
    print(f"events {n} seconds {s:.2f} rate {n / s:.0f}")


if __name__ == "__main__":
    main()
