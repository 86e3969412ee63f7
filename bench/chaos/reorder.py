#!/usr/bin/env python3
# A reordering relay for bench/chaos, run in the bridge's namespace: `reorder.py IN OUT SECONDS`
# reads the VRRP frames entering the bridge on port IN (an nft rule keeps the bridge from
# forwarding them to OUT) and sends them out of port OUT in swapped pairs (2, 1, 4, 3, ...),
# each held up to 30 ms for its partner. Prints "ready" once listening, then how many it relayed.
import socket, struct, sys, time, select

ETH_P_ALL = 0x0003
inp, out, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
rx.bind((inp, 0))
tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
tx.bind((out, 0))
print('ready', flush=True)
held, relayed, end = None, 0, time.time() + secs
while time.time() < end:
    r, _, _ = select.select([rx], [], [], 0.005)
    if held and time.time() - held[1] > 0.03:
        tx.send(held[0]); relayed += 1; held = None
    if not r:
        continue
    frame, addr = rx.recvfrom(2048)
    if addr[2] == socket.PACKET_OUTGOING:
        continue
    # IPv4 (ethertype 0x0800), protocol 112 (VRRP)
    if len(frame) < 34 or struct.unpack('!H', frame[12:14])[0] != 0x0800 or frame[23] != 112:
        continue
    if held is None:
        held = (frame, time.time())
    else:
        tx.send(frame); tx.send(held[0]); relayed += 2; held = None
if held:
    tx.send(held[0]); relayed += 1
print(relayed)
