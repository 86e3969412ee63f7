# The load-balancer tests' client, run inside the client namespace: COUNT requests, each on a
# new connection (a new socket for udp), one line per request on stdout: when it started (wall
# clock, s), when it ended, and what the real server answered ("NAME CLIENT-ADDRESS"), or "ERR <reason>".
# Optional PAUSE between requests (s). With PARALLEL=1 in the environment each request starts
# PAUSE after the one before in its own thread, whether that one has finished or not (a probe
# train: an outage does not hold the next start back).
#   client.py http HOST PORT COUNT [PAUSE]
#   client.py udp HOST PORT COUNT [PAUSE]
#   client.py dns HOST PORT COUNT [PAUSE]   an A query for svc.example; the answer's address
import os, socket, struct, sys, threading, time
kind, host, port, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
pause = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
family = socket.AF_INET6 if ":" in host else socket.AF_INET   # HOST may be IPv6
def one(i):
    start = time.time()
    try:
        if kind == "http":
            c = socket.create_connection((host, port), timeout=2)
            c.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while True:
                b = c.recv(4096)
                if not b: break
                data += b
            c.close()
            body = data.split(b"\r\n\r\n", 1)[1].decode().strip() if b"\r\n\r\n" in data else "ERR no body"
        elif kind == "dns":
            c = socket.socket(family, socket.SOCK_DGRAM)
            c.settimeout(1)
            c.connect((host, port))   # a reply from any other address is not taken
            q = struct.pack(">HHHHHH", i & 0xffff, 0x0100, 1, 0, 0, 0) + b"".join(bytes([len(p)]) + p.encode() for p in "svc.example".split(".")) + b"\0" + struct.pack(">HH", 1, 1)
            c.send(q)
            r = c.recv(2048)
            c.close()
            an = struct.unpack(">H", r[6:8])[0]
            body = socket.inet_ntoa(r[-4:]) if an else "ERR no answer"
        else:
            c = socket.socket(family, socket.SOCK_DGRAM)
            c.settimeout(1)
            c.sendto(b"?", (host, port))
            body = c.recv(2048).decode().strip()
            c.close()
        print(f"{start:.6f} {time.time():.6f} {body}", flush=True)
    except Exception as e:
        print(f"{start:.6f} {time.time():.6f} ERR {type(e).__name__}: {e}", flush=True)

threads = []
for i in range(count):
    if os.environ.get("PARALLEL") == "1":
        th = threading.Thread(target=one, args=(i,))
        th.start()
        threads.append(th)
    else:
        one(i)
    if pause: time.sleep(pause)
for th in threads: th.join()
