#!/usr/bin/env python3
"""Raw NATS protocol client for tests/captures: a subscriber on orders.> and a publisher
sending HPUB (NATS/1.0 headers carrying ce- attributes) and PUB; waits until the
subscriber got every message. Usage: nats_client.py PORT"""
import socket
import sys
import time

port = int(sys.argv[1])


def connect():
    s = socket.create_connection(("127.0.0.1", port))
    s.recv(4096)  # INFO
    s.sendall(b'CONNECT {"verbose":false,"pedantic":false,"headers":true,"protocol":1,'
              b'"name":"es-capture"}\r\nPING\r\n')
    buf = b""
    while b"PONG" not in buf:
        buf += s.recv(4096)
    return s


sub = connect()
sub.sendall(b"SUB orders.> 1\r\nPING\r\n")
buf = b""
while b"PONG" not in buf:
    buf += sub.recv(4096)

pub = connect()
hdr = (b"NATS/1.0\r\nce-specversion: 1.0\r\nce-id: nats-1\r\nce-type: OrderPlaced\r\n"
       b"ce-source: /shop\r\nce-correlationid: corr-nats-1\r\n"
       b"ce-time: 2026-11-23T22:00:00Z\r\ncontent-type: application/json\r\n\r\n")
body = b'{"orderId":"o-7","total":3}'
msgs = b"HPUB orders.placed %d %d\r\n%s%s\r\n" % (len(hdr), len(hdr) + len(body), hdr, body)
plain = (b'{"id":"nats-2","type":"OrderShipped","source":"/warehouse",'
         b'"correlationId":"corr-nats-1","causationId":"nats-1"}')
msgs += b"PUB orders.shipped reply.1 %d\r\n%s\r\n" % (len(plain), plain)
# Two more in one write: several messages in one segment.
for i in (3, 4):
    p = b'{"id":"nats-%d","type":"OrderUpdated","source":"/shop","correlationId":"corr-nats-1"}' % i
    msgs += b"PUB orders.updated %d\r\n%s\r\n" % (len(p), p)
pub.sendall(msgs + b"PING\r\n")
buf = b""
deadline = time.time() + 10
while buf.count(b"MSG ") < 4 and time.time() < deadline:
    sub.settimeout(1)
    try:
        buf += sub.recv(65536)
    except socket.timeout:
        pass
pub.close()
sub.close()
sys.exit(0 if buf.count(b"MSG ") >= 4 else 1)
