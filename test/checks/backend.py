# Small backends for the check tests, run inside a test namespace:
#   backend.py tcp ADDR PORT BANNER   accept, send BANNER\r\n, close
#   backend.py http ADDR PORT BODY    GET /health -> 200 BODY; anything else 404
#   backend.py https ADDR PORT BODY CERT KEY   the same over TLS
#   backend.py http-reset ADDR PORT BODY   answers the first request of a connection; resets
#                                          the connection (RST) on the next one instead
#   backend.py dns ADDR PORT NAME IP  A queries for NAME -> IP; other names NXDOMAIN
# Prints "ready" on stdout once listening.
import socket, struct, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

kind, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])

def ready():
    print("ready", flush=True)

if kind == "tcp":
    banner = sys.argv[4].encode() + b"\r\n"
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen(128); ready()
    while True:
        c, _ = s.accept()
        try: c.sendall(banner)
        except OSError: pass
        c.close()
elif kind in ("http", "https", "http-reset"):
    body = sys.argv[4].encode()
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def do_GET(self):
            self.served = getattr(self, "served", 0) + 1
            if kind == "http-reset" and self.served > 1:
                self.close_connection = True
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                return
            code, b = (200, body) if self.path == "/health" else (404, b"no")
            self.send_response(code); self.send_header("content-length", str(len(b))); self.end_headers(); self.wfile.write(b)
        def log_message(self, *a): pass
    ThreadingHTTPServer.allow_reuse_address = True
    srv = ThreadingHTTPServer((addr, port), H)
    if kind == "https":
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[5], sys.argv[6])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    ready(); srv.serve_forever()
elif kind == "dns":
    name, ip = sys.argv[4].lower().rstrip("."), socket.inet_aton(sys.argv[5])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((addr, port)); ready()
    while True:
        q, src = s.recvfrom(512)
        if len(q) < 12: continue
        qid, = struct.unpack("!H", q[:2])
        o, labels = 12, []
        while q[o]:
            labels.append(q[o + 1:o + 1 + q[o]].decode().lower()); o += 1 + q[o]
        qtype, = struct.unpack("!H", q[o + 1:o + 3]); question = q[12:o + 5]
        ok = ".".join(labels) == name and qtype == 1
        flags = 0x8180 if ok else 0x8183
        r = struct.pack("!HHHHHH", qid, flags, 1, 1 if ok else 0, 0, 0) + question
        if ok: r += struct.pack("!HHHIH", 0xC00C, 1, 1, 5, 4) + ip
        s.sendto(r, src)
