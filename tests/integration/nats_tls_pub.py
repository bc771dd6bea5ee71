#!/usr/bin/env python3
"""Test helper: publishes JSON lines from stdin (as nats_pub.py: {"subject": S, "headers":
[[name, value], ...] | null, "body": TEXT}) to a NATS server over TLS with a client
certificate. usage: nats_tls_pub.py HOST PORT CA CERT KEY [USER PASS]

nats-server 2.9 sends INFO in plain text first (tls_required: true), then the client
upgrades the same socket; servers configured with handshake_first (2.10.4+) expect the TLS
handshake at once: then INFO comes over TLS. Both are handled. Waits for PONG."""
import json
import socket
import ssl
import sys

host, port, ca, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
ctx = ssl.create_default_context(cafile=ca)
ctx.load_cert_chain(cert, key)
raw = socket.create_connection((host, port), timeout=10)


def readline(sock):
    buf = b""
    while not buf.endswith(b"\r\n"):
        c = sock.recv(1)
        if not c:
            sys.exit("connection closed by the server")
        buf += c
    return buf


raw.settimeout(1.0)
try:
    first = readline(raw)  # plain INFO: upgrade after it
    s = ctx.wrap_socket(raw, server_hostname=host)
except socket.timeout:  # nothing in plain text: handshake first, INFO over TLS
    raw.settimeout(10)
    s = ctx.wrap_socket(raw, server_hostname=host)
    first = readline(s)
s.settimeout(10)
if not first.startswith(b"INFO"):
    sys.exit("no INFO from server")
info = json.loads(first[5:])
if not info.get("tls_required"):
    sys.exit("server does not require TLS: " + first.decode().strip())
conn = {"verbose": False, "pedantic": False, "headers": True, "no_responders": True,
        "protocol": 1, "tls_required": True}
if len(sys.argv) > 7:
    conn["user"], conn["pass"] = sys.argv[6], sys.argv[7]
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
    line = readline(s)
    if line.startswith(b"PONG"):
        break
    if line.startswith(b"-ERR"):
        sys.exit(line.decode().strip())
