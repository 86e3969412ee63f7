// The VRRP receive socket's kernel filter (host/net/vrrp-filter.ts): crafted packets from a
// neighbour, one of each kind the filter drops and good adverts between them; what reaches the
// socket, and what the filter counted by reason; an agent's sockets and its /status; then the
// program's shape, without a kernel.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { skipReason, Topology, nsExec } from './netns.ts';
import { lab } from '../helpers/agents.ts';
import { filterProgram, FILTER_REASONS } from '../../host/net/vrrp-filter.ts';
import { shim } from '../../host/net/shim.ts';

const PEER = join(import.meta.dirname, 'filter-peer.ts');
const skip = skipReason();

// python3 in the sender's namespace: VRRP payloads to `dst` over a raw socket, TTL per packet.
const SEND = `
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
const advert = (o: { version?: number; type?: number; vrid?: number; len?: number } = {}) => {
  const b = [((o.version ?? 3) << 4) | (o.type ?? 1), o.vrid ?? 51, 100, 1, 0, 100, 0, 0, 192, 0, 2, 100];
  return Buffer.from(b.slice(0, o.len ?? b.length)).toString('hex');
};

for (const family of [4, 6] as const) {
  t.test(`IPv${family}: each bad kind dropped in the kernel and counted by reason; good adverts pass`, { skip }, async (t) => {
    const topo = Topology.create(`vnbf${family}-`, ['a', 'b']);
    t.teardown(() => topo.destroy());
    const [a, b] = topo.hosts;
    const peer = spawn('ip', ['netns', 'exec', a!.ns, process.execPath, PEER, String(family), '51,52', '1'], { stdio: ['pipe', 'pipe', 'inherit'] });
    t.teardown(() => peer.kill());
    const lines = createInterface({ input: peer.stdout! });
    const next = () => new Promise<string>((r) => lines.once('line', r));
    t.equal(await next(), 'ready');
    const good = { hex: advert(), ttl: 255 };
    const pkts = [good, { hex: advert({ len: 4 }), ttl: 255 }, good, { hex: advert({ version: 1 }), ttl: 255 },
      { hex: advert({ type: 2 }), ttl: 255 }, { hex: advert({ vrid: 99 }), ttl: 255 }, { hex: advert({ vrid: 52 }), ttl: 255 },
      { hex: advert(), ttl: 64 }, { hex: advert({ vrid: 99 }), ttl: 64 }, good];
    const sent = spawnSync('ip', ['netns', 'exec', b!.ns, 'python3', '-c', SEND, String(family), family === 4 ? a!.v4 : a!.v6, JSON.stringify(pkts)], { encoding: 'utf8' });
    t.equal(sent.status, 0, sent.stderr);
    await new Promise((r) => setTimeout(r, 200));
    peer.stdin!.end();
    const r = JSON.parse(await next()) as { got: { vrid: number; ttl: number }[]; counts: Record<string, number> };
    t.same(r.got.map((g) => g.vrid), [51, 51, 52, 51], 'only the good adverts reach the socket, in order');
    t.same(r.counts, { truncated: 1, version: 1, type: 1, vrid_unknown: 2, ttl: 1 },
      'each drop counted under the reason the core gives it (VRID before TTL, as the core checks)');
  });
}

t.test('the program: every VRID compared, TTL only when asked, every jump in range', async (t) => {
  const insns = (vrids: number[], ttl: boolean) => {
    const p = filterProgram({ family: 4, vrids, ttl }, 3);
    const dv = new DataView(p.buffer);
    return Array.from({ length: p.length / 8 }, (_, i) => ({ code: dv.getUint8(i * 8), regs: dv.getUint8(i * 8 + 1), off: dv.getInt16(i * 8 + 2, true), imm: dv.getInt32(i * 8 + 4, true) }));
  };
  const one = insns([51], true), many = insns([1, 2, 3, 255, 3], true), noTtl = insns([51], false);
  const vridCompares = (p: typeof one) => p.filter((i) => i.code === 0x15 && i.imm >= 1 && i.imm <= 255 && i.regs === 0).length;
  t.equal(many.length - one.length, 3, 'one compare per distinct VRID');
  t.ok(vridCompares(many) >= 4);
  t.ok(noTtl.length < one.length, 'no TTL load where an instance has unicast peers');
  for (const [pc, i] of one.entries()) if ((i.code & 0x07) === 0x05 && i.code !== 0x85 && i.code !== 0x95) t.ok(pc + 1 + i.off >= 0 && pc + 1 + i.off < one.length, `jump at ${pc} lands inside`);
  t.equal(one.filter((i) => i.code === 0x18).length, 1, 'one map reference');
  t.same(FILTER_REASONS, ['truncated', 'version', 'type', 'vrid_unknown', 'ttl']);
});

t.test('an agent: its sockets filtered, the kernel\'s drops in /status and /metrics, adverts unaffected', { skip }, async (t) => {
  const l = lab(t, 'vnbfa-', ['a', 'b']);
  const [a, b] = l.hosts;
  const pa = l.vigil(a!, 'a.yaml', { priority: 150, interval: '50ms' });
  await pa.waitLine(/"to":"master"/, 10_000);
  const status = () => JSON.parse(nsExec(a!.ns, 'curl', '-sf', 'http://127.0.0.1:9110/status'));
  const before = status();
  t.equal(before.kernelFilter, 'on');
  const bad = [{ hex: advert({ vrid: 99 }), ttl: 255 }, { hex: advert({ vrid: 51 }), ttl: 64 }, { hex: advert({ version: 1 }), ttl: 255 }];
  const pkts = Array.from({ length: 100 }, (_, i) => bad[i % 3]!);
  const sent = spawnSync('ip', ['netns', 'exec', b!.ns, 'python3', '-c', SEND, '4', a!.v4, JSON.stringify(pkts)], { encoding: 'utf8' });
  t.equal(sent.status, 0, sent.stderr);
  await new Promise((r) => setTimeout(r, 300));
  const after = status();
  t.match(after.dropsInKernel, { vrid_unknown: 34, ttl: 33, version: 33 }, 'each counted in the kernel, by reason');
  t.ok(after.drops.vrid_unknown >= 34 && after.drops.ttl >= 33 && after.drops.version >= 33, `and in the totals: ${JSON.stringify(after.drops)}`);
  t.same(after.instances[0].drops, before.instances[0].drops, 'none reached the engine');
  t.match(nsExec(a!.ns, 'curl', '-sf', 'http://127.0.0.1:9110/metrics'), /^vigil_packet_drops_total\{reason="ttl"\} 33$/m);
  t.equal(after.instances[0].state, 'master');
});

t.test('bpfMapLookup: buffers of another size than the map\'s are refused, not written past', { skip }, async (t) => {
  const s = shim() as ReturnType<typeof shim> & { bpfMapCreate(...a: number[]): number; bpfMapLookup(fd: number, k: Uint8Array, v: Uint8Array): void };
  const m = s.bpfMapCreate(2, 4, 8, 5);
  t.teardown(() => s.close(m));
  t.throws(() => s.bpfMapLookup(m, new Uint8Array(4), new Uint8Array(4)), /the map's key and value sizes/);
  t.throws(() => s.bpfMapLookup(m, new Uint8Array(2), new Uint8Array(8)), /the map's key and value sizes/);
  const v = new Uint8Array(8).fill(7);
  s.bpfMapLookup(m, new Uint8Array(4), v);
  t.same([...v], [0, 0, 0, 0, 0, 0, 0, 0], 'the right sizes: the element, zero');
});
