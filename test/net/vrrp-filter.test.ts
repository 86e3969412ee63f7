// The VRRP receive socket's kernel filter (host/net/vrrp-filter.ts): crafted packets from a
// neighbour, one of each kind the filter drops and good adverts between them; what reaches the
// socket, and what the filter counted by reason; then the program's shape, without a kernel.
// An agent's sockets and its /status: test/agent/kernel-filter.test.ts (not here: `make asan`
// runs test/net under AddressSanitizer, where a whole agent is too slow to start).
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { skipReason, Topology } from './netns.ts';
import { filterProgram, FILTER_REASONS } from '../../host/net/vrrp-filter.ts';
import { shim } from '../../host/net/shim.ts';
import { SEND, advert } from './vrrp-packets.ts';

const PEER = join(import.meta.dirname, 'filter-peer.ts');
const skip = skipReason();

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
