#!/usr/bin/env python3
"""Test helper: a minimal NATS client publishing messages (with headers: HPUB) read as JSON
lines from stdin: {"subject": S, "headers": [[name, value], ...] | null, "body": TEXT}.
usage: nats_pub.py HOST PORT [USER PASS]; waits for the server's PONG before exiting."""
import json
import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((host, port), timeout=10)
f = s.makefile("rb")
if not f.readline().startswith(b"INFO"):
    sys.exit("no INFO from server")
conn = {"verbose": False, "pedantic": False, "headers": True, "no_responders": True, "protocol": 1}
if len(sys.argv) > 4:
    conn["user"], conn["pass"] = sys.argv[3], sys.argv[4]
s.sendall(b"CONNECT " + json.dumps(conn).encode() + b"\r\n")
for line in sys.stdin:
    if not line.strip():
        continue
    m = json.loads(line)
    subj, body, hdrs = m["subject"], m.get("body", "").encode(), m.get("headers")
    if hdrs:
        hb = b"NATS/1.0\r\n" + b"".join(f"{k}: {v}\r\n".encode() for k, v in hdrs) + b"\r\n"
        s.sendall(f"HPUB {subj} {len(hb)} {len(hb) + len(body)}\r\n".encode() + hb + body + b"\r\n")
    else:
        s.sendall(f"PUB {subj} {len(body)}\r\n".encode() + body + b"\r\n")
s.sendall(b"PING\r\n")
while True:
    l = f.readline()
    if not l:
        sys.exit("connection closed")
    if l.startswith(b"PONG"):
        break
    if l.startswith(b"-ERR"):
        sys.exit(l.decode().strip())
