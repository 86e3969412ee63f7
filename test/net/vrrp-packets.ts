// Crafted VRRP packets from a neighbour, for the kernel filter's tests (test/net/vrrp-filter,
// test/agent/kernel-filter).

// python3 in the sender's namespace: VRRP payloads to `dst` over a raw socket, TTL per packet.
export const SEND = `
import socket, sys, json
fam, dst, pkts = int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
s = socket.socket(socket.AF_INET if fam == 4 else socket.AF_INET6, socket.SOCK_RAW, 112)
if fam == 4: s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton('0.0.0.0'))
for p in pkts:
    if fam == 4: s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, p['ttl']); s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, p['ttl'])
    else: s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, p['ttl'])
    s.sendto(bytes.fromhex(p['hex']), (dst, 0))
`;

// A VRRPv3 advert (the checksum is the core's business, not the filter's).
export const advert = (o: { version?: number; type?: number; vrid?: number; len?: number } = {}) => {
  const b = [((o.version ?? 3) << 4) | (o.type ?? 1), o.vrid ?? 51, 100, 1, 0, 100, 0, 0, 192, 0, 2, 100];
  return Buffer.from(b.slice(0, o.len ?? b.length)).toString('hex');
};
