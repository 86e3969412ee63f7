# Long-lived TCP connections for the load-balancer tests, run inside the client namespace and
# driven by commands on stdin (each answered by lines, then "ok"):
#   open K    K new connections to HOST PORT, kept: "open I BODY" for each (its first answer)
#   probe K   K connections, each one line and closed: "probe I BODY"
#   ping      a line on each kept connection: "ping I BODY", or "ping I ERR <reason>"
# BODY is what backend.py's line server answers: "NAME CLIENT-ADDRESS". HOST may be IPv6.
#   hold.py HOST PORT
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
kept = []

def ask(c):
    try:
        c.sendall(b"hi\n")
        data = b""
        while not data.endswith(b"\n"):
            b = c.recv(4096)
            if not b: return "ERR closed"
            data += b
        return data.decode().strip()
    except Exception as e:
        return f"ERR {type(e).__name__}: {e}"

def connect():
    try:
        return socket.create_connection((host, port), timeout=2), None
    except Exception as e:
        return None, f"ERR {type(e).__name__}: {e}"

for line in sys.stdin:
    cmd = line.split()
    if not cmd: continue
    if cmd[0] in ("open", "probe"):
        for i in range(int(cmd[1])):
            c, err = connect()
            body = err or ask(c)
            if cmd[0] == "open" and c: kept.append(c)
            elif c: c.close()
            print(f"{cmd[0]} {i} {body}", flush=True)
    elif cmd[0] == "ping":
        for i, c in enumerate(kept):
            print(f"ping {i} {ask(c)}", flush=True)
    print("ok", flush=True)
