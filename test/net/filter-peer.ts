// The receiving end of test/net/vrrp-filter.test.ts, inside a namespace: a raw VRRP socket on
// eth0 with the filter for argv's VRIDs, read until stdin closes; then one JSON line: the
// packets that reached the socket (VRID, TTL) and the filter's counts.
// Run as: ip netns exec NS node test/net/filter-peer.ts FAMILY VRID,VRID TTL(0|1)
import { shim, K } from '../../host/net/shim.ts';
import { VrrpFilter } from '../../host/net/vrrp-filter.ts';

const [family, vrids, ttl] = [Number(process.argv[2]) as 4 | 6, process.argv[3]!.split(',').map(Number), process.argv[4] === '1'];
const s = shim();
const fd = s.socket(family === 4 ? K('AF_INET') : K('AF_INET6'), K('SOCK_RAW'), 112);
s.setsockoptBuf(fd, K('SOL_SOCKET'), K('SO_BINDTODEVICE'), new TextEncoder().encode('eth0\0'));
if (family === 6) s.setsockoptInt(fd, K('IPPROTO_IPV6'), K('IPV6_RECVHOPLIMIT'), 1);
const filter = VrrpFilter.attach(fd, { family, vrids, ttl });
process.stdout.write('ready\n');
const got: { vrid: number; ttl: number }[] = [];
const buf = new Uint8Array(2048), src = new Uint8Array(128), meta = new Int32Array(16);
const off = (n: number) => (family === 4 ? (buf[0]! & 0x0f) * 4 : 0) + n;
const drain = () => {
  for (let n = s.recvMsg(fd, buf, 0, buf.length, src, meta); n >= 0; n = s.recvMsg(fd, buf, 0, buf.length, src, meta)) {
    got.push({ vrid: n > off(1) ? buf[off(1)]! : -1, ttl: family === 4 ? buf[8]! : meta[1]! });
  }
};
const timer = setInterval(drain, 5);
process.stdin.resume();
process.stdin.on('end', () => {
  drain();
  clearInterval(timer);
  process.stdout.write(JSON.stringify({ got, counts: filter.counts() }) + '\n');
  filter.close();
  s.close(fd);
});
