# A real server for the load-balancer tests, run inside a test namespace:
#   backend.py http ADDR PORT NAME   any GET -> 200 "NAME CLIENT-ADDRESS\n" (Connection: close)
#   backend.py udp ADDR PORT NAME    any datagram -> "NAME CLIENT-ADDRESS\n" back to its sender
#   backend.py line ADDR PORT NAME   TCP, the connection kept open: each line -> "NAME CLIENT-ADDRESS\n"
# Prints "ready" once listening. ADDR may be 0.0.0.0 (DR: the VIP on lo is answered too), or
# IPv6 (it has a ':').
import socket, socketserver, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

kind, addr, port, name = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
family = socket.AF_INET6 if ":" in addr else socket.AF_INET

if kind == "http":
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def do_GET(self):
            body = f"{name} {self.client_address[0]}\n".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
        def log_message(self, *a):
            pass
    class S(ThreadingHTTPServer):
        # HTTPServer's own server_bind asks DNS for the address's name: never here.
        def server_bind(self):
            socketserver.TCPServer.server_bind(self)
            self.server_name, self.server_port = name, port
        allow_reuse_address = True
        daemon_threads = True
        request_queue_size = 512
        address_family = family
    s = S((addr, port), H)
    print("ready", flush=True)
    s.serve_forever()
elif kind == "line":
    class L(socketserver.StreamRequestHandler):
        def handle(self):
            for _ in self.rfile:
                self.wfile.write(f"{name} {self.client_address[0]}\n".encode())
    class T(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True
        address_family = family
    s = T((addr, port), L)
    print("ready", flush=True)
    s.serve_forever()
else:
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind((addr, port))
    print("ready", flush=True)
    while True:
        data, peer = s.recvfrom(2048)
        s.sendto(f"{name} {peer[0]}\n".encode(), peer)
