#!/usr/bin/env python3
"""A tiny CloudEvents HTTP receiver for tests/captures: HTTP/1.1 keep-alive, reads
Content-Length and chunked bodies, answers 202; /events/reply answers with a structured
CloudEvent (so a response carries an event too), /events/reply-gzip the same gzip-encoded.
Usage: http_receiver.py PORT"""
import gzip
import http.server
import json
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", ""):
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def do_POST(self):
        self.read_body()
        if self.path in ("/events/reply", "/events/reply-gzip"):
            out = json.dumps({"specversion": "1.0", "id": "http-reply-1", "type": "OrderAccepted",
                              "source": "/receiver", "correlationid": "corr-http-1",
                              "causationid": "http-1", "time": "2026-11-23T22:00:05Z",
                              "data": {"accepted": True}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/cloudevents+json")
            if self.path.endswith("-gzip"):
                out = gzip.compress(out, mtime=0)
                self.send_header("Content-Encoding", "gzip")
        else:
            out = b""
            self.send_response(202)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def do_GET(self):
        out = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
