#!/usr/bin/env python3
# Monotonic stamps for the faults that cannot use the wall clock (a realtime jump) or want the
# checker's rhythm, one line per event, CLOCK_MONOTONIC seconds (Node's process.hrtime too):
#   probe.py adverts IFACE SRC   each VRRP packet from IPv4 SRC seen on IFACE (AF_PACKET)
#   probe.py listen ADDR PORT    each TCP connection accepted on ADDR:PORT (a check's target)
# Prints "ready" once it listens; runs until killed.
import socket, sys, time

kind = sys.argv[1]
if kind == "adverts":
    iface, src = sys.argv[2], socket.inet_aton(sys.argv[3])
    # ETH_P_ALL: on a bridge port the bridge takes IPv4 frames before a per-protocol socket would.
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind((iface, 0))
    print("ready", flush=True)
    while True:
        f = s.recv(2048)
        # IPv4 (0x0800) header from byte 14: protocol at 23 (112: VRRP), source at 26..30.
        if len(f) >= 34 and f[12:14] == b"\x08\x00" and f[23] == 112 and f[26:30] == src:
            print(f"{time.monotonic():.6f}", flush=True)
elif kind == "listen":
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[2], int(sys.argv[3])))
    s.listen(128)
    print("ready", flush=True)
    while True:
        c, _ = s.accept()
        print(f"{time.monotonic():.6f}", flush=True)
        c.close()
