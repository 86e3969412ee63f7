// Regenerates the generated seeds of the fuzz corpus:
//   fuzz/corpus/fuzz_decode/golden-*  the first advert of each capture in test/golden/*.hex
//   fuzz/corpus/fuzz_decode/gen-*     adverts from the core's own encoder, valid and broken
//   fuzz/corpus/fuzz_events/gen-*     event scripts in fuzz_events.c's input format
// Other files in the corpus (crash reproducers, inputs kept from runs) are left alone.
// Run: node_modules/.bin/node fuzz/make-seeds.ts
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Core } from '../host/core/core.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CORPUS = join(ROOT, 'fuzz', 'corpus');
const GOLDEN = join(ROOT, 'test', 'golden');

const core = new Core();

function writeSeeds(target: string, seeds: Map<string, Uint8Array>): void {
  const dir = join(CORPUS, target);
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) {
    if (f.startsWith('gen-') || f.startsWith('golden-')) rmSync(join(dir, f));
  }
  for (const [name, bytes] of seeds) {
    if (bytes.length > 4096) throw new Error(`${target}/${name}: ${bytes.length} bytes > 4096`);
    writeFileSync(join(dir, name), bytes);
  }
  console.log(`${target}: ${seeds.size} generated seeds`);
}

// ---- fuzz_decode -----------------------------------------------------------------------------

function ipv4Checksum(h: Uint8Array): void {
  const ihl = (h[0] & 0xf) * 4;
  h[10] = 0; h[11] = 0;
  let sum = 0;
  for (let i = 0; i < ihl; i += 2) sum += (h[i] << 8) | h[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff;
  h[10] = c >> 8; h[11] = c & 0xff;
}

const concat = (...parts: ArrayLike<number>[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};

const decode = new Map<string, Uint8Array>();

// Real captures, when test/golden has them: one per scenario.
if (existsSync(GOLDEN)) {
  for (const f of readdirSync(GOLDEN).filter((f) => f.endsWith('.hex')).sort()) {
    const line = readFileSync(join(GOLDEN, f), 'utf8').split('\n').map((l) => l.trim()).find((l) => /^[0-9a-f]+$/i.test(l));
    if (line) decode.set(`golden-${f.replace(/\.hex$/, '')}`, Uint8Array.from(Buffer.from(line, 'hex')));
  }
}

const v4 = { source: '192.0.2.1', destination: '224.0.0.18', ipHeader: true } as const;
const v6 = { source: 'fe80::1', destination: 'ff02::12', ipHeader: true } as const;
const valid: Record<string, Uint8Array> = {
  'v3-ipv4': core.encode({ version: 3, family: 4, vrid: 51, priority: 150, advertInterval: 100, addresses: ['192.0.2.100'], ...v4 }),
  'v3-ipv4-2vips': core.encode({ version: 3, family: 4, vrid: 1, priority: 255, advertInterval: 4095, addresses: ['192.0.2.100', '198.51.100.7'], ...v4 }),
  'v3-ipv4-unicast': core.encode({ version: 3, family: 4, vrid: 55, priority: 150, advertInterval: 100, addresses: ['192.0.2.100'], source: '192.0.2.1', destination: '192.0.2.2', ipHeader: true }),
  'v3-ipv4-prio0': core.encode({ version: 3, family: 4, vrid: 51, priority: 0, advertInterval: 100, addresses: ['192.0.2.100'], ...v4 }),
  'v3-ipv6': core.encode({ version: 3, family: 6, vrid: 51, priority: 200, advertInterval: 50, addresses: ['fe80::100', '2001:db8::100'], ...v6 }),
  'v3-ipv6-20vips': core.encode({ version: 3, family: 6, vrid: 255, priority: 100, advertInterval: 1, addresses: Array.from({ length: 20 }, (_, i) => `2001:db8::${i + 1}`), ...v6 }),
  'v2-noauth': core.encode({ version: 2, family: 4, vrid: 10, priority: 100, advertInterval: 1, addresses: ['192.0.2.10', '192.0.2.11'], ...v4 }),
  'v2-pass': core.encode({ version: 2, family: 4, vrid: 10, priority: 100, advertInterval: 1, addresses: ['192.0.2.10'], authType: 1, authData: 'vigil123', ...v4 }),
};
for (const [name, bytes] of Object.entries(valid)) decode.set(`gen-${name}`, bytes);

const base = valid['v3-ipv4'];
const mutate = (b: Uint8Array, f: (c: Uint8Array) => void, fixHeader = true): Uint8Array => {
  const c = b.slice();
  f(c);
  if (fixHeader && (c[0] >> 4) === 4) ipv4Checksum(c);
  return c;
};
// Broken in one way each: the drop reasons, one per seed.
decode.set('gen-bad-ttl', mutate(base, (c) => { c[8] = 254; }));
decode.set('gen-bad-proto', mutate(base, (c) => { c[9] = 17; }));
decode.set('gen-bad-header-checksum', mutate(base, (c) => { c[10] ^= 0xff; }, false));
decode.set('gen-fragment', mutate(base, (c) => { c[6] = 0x20; }));
decode.set('gen-bad-vrrp-checksum', mutate(base, (c) => { c[c.length - 1] ^= 1; }));
decode.set('gen-bad-version', mutate(base, (c) => { c[20] = 0x41; }));
decode.set('gen-bad-type', mutate(base, (c) => { c[20] = 0x32; }));
decode.set('gen-count0', mutate(base, (c) => { c[23] = 0; }));
decode.set('gen-count-too-big', mutate(base, (c) => { c[23] = 9; }));
decode.set('gen-v2-auth-ah', mutate(valid['v2-noauth'], (c) => { c[24] = 2; }));
decode.set('gen-truncated-ipv4', base.subarray(0, 24));
decode.set('gen-truncated-ipv6', valid['v3-ipv6'].subarray(0, 44));
decode.set('gen-ipv6-payload-too-long', mutate(valid['v3-ipv6'], (c) => { c[5] += 8; }));
decode.set('gen-ip-version-5', mutate(base, (c) => { c[0] = 0x55; }, false));
// IPv4 with options (IHL 6): three NOPs and an end-of-list.
{
  const hdr = base.slice(0, 20);
  hdr[0] = 0x46;
  const total = base.length + 4;
  hdr[2] = total >> 8; hdr[3] = total & 0xff;
  const p = concat(hdr, [1, 1, 1, 0], base.subarray(20));
  ipv4Checksum(p);
  decode.set('gen-ipv4-options', p);
}
// Bare messages for decodeBare: [family, ttl] then the VRRP message, whose v3 checksum covers a
// zero source and destination (what the target passes when decodeIp found no IP header).
decode.set('gen-bare-v3-ipv6', concat([6, 255], core.encode({ version: 3, family: 6, vrid: 51, priority: 200, advertInterval: 50, addresses: ['fe80::100'], source: '::', destination: '::' })));
decode.set('gen-bare-v3-ipv4', concat([4, 255], core.encode({ version: 3, family: 4, vrid: 51, priority: 150, advertInterval: 100, addresses: ['192.0.2.100'], source: '0.0.0.0', destination: '0.0.0.0' })));
decode.set('gen-bare-v2-pass', concat([4, 255], core.encode({ version: 2, family: 4, vrid: 10, priority: 100, advertInterval: 1, addresses: ['192.0.2.10'], authType: 1, authData: 'vigil123', source: '0.0.0.0', destination: '0.0.0.0' })));
decode.set('gen-empty', new Uint8Array(0));

writeSeeds('fuzz_decode', decode);

// ---- fuzz_events -------------------------------------------------------------------------
// A tiny assembler for fuzz_events.c's input format (see the comment at the top of that file).

class Script {
  readonly b: number[] = [];
  constructor(setup = 0, prio1 = 0) { this.b.push(setup, prio1); }
  private op(kind: number, p: number, ...args: number[]): this { this.b.push(((p & 15) << 4) | kind, ...args); return this; }
  advance(us: number): this { const d = Math.min(0xffff, Math.round(us / 250)); return this.op(0, 0, d & 0xff, d >> 8); }
  jump(extraMs = 0): this { return this.op(1, extraMs); }
  // t: bits 0-1 like-slot, 2 bare, 3 wrong password, 4 v2 auth 0, 5 other addresses, 6 flip, 7 TTL 254
  // src: bits 0-1 lower / higher / own / given, 2-3 ifindex, 4 unicast destination
  advert(t: number, priority: number, src: number, interval = 0, ...extra: number[]): this {
    return this.op(2, 0, t, priority, src, interval, ...extra);
  }
  rawIp(ifindex: number, bytes: Uint8Array): this { return this.op(3, ifindex, bytes.length & 0xff, bytes.length >> 8, ...bytes); }
  rawBare(ifindex: number, family: number, ttl: number, sel: number, bytes: Uint8Array): this {
    return this.op(4, ifindex, family === 6 ? 1 : 0, ttl, sel, bytes.length, ...bytes);
  }
  track(slot: number, index: number, weight: number, failing: boolean): this {
    return this.op(5, slot, index, weight & 0xff, (failing ? 1 : 0) | (weight === 0 ? 2 : 0));
  }
  stop(slot: number): this { return this.op(6, slot); }
  start(slot: number): this { return this.op(7, slot); }
  reconf(slot: number, priority: number, interval: number, flags: number): this { return this.op(8, slot, priority, interval, flags); }
  group(slot: number, g: number): this { return this.op(9, slot, g + 1); }
  remove(slot: number): this { return this.op(10, slot); }
  fire(): this { return this.op(11, 0); }
  bytes(): Uint8Array { return Uint8Array.from(this.b); }
}

const SLOT0 = 0, SLOT1 = 1, SLOT2 = 2;           // advert 't' low bits: which instance it imitates
const HIGHER = 1, LOWER = 0, OWN = 2;            // advert 'src' low bits
const IF1 = 1 << 2, IF2 = 2 << 2;                // advert 'src' ifindex bits
const events = new Map<string, Uint8Array>();
const rep = (n: number, f: (s: Script) => void, s: Script): Script => { for (let i = 0; i < n; i++) f(s); return s; };

// Everyone starts Backup (slot 2's priority is not 255) and becomes Master when nobody talks.
events.set('gen-startup', rep(6, (s) => s.jump(), new Script()).bytes());
// A better master on each VRID keeps us Backup; then it goes quiet and we take over.
events.set('gen-backup-then-master-down', rep(5, (s) => s
  .advert(SLOT1, 200, HIGHER | IF1).advert(SLOT2, 250, HIGHER | IF2).advert(SLOT0, 200, HIGHER | IF1)
  .advance(500_000), new Script()).jump().jump().jump().bytes());
// Master, then preempted by a higher priority, then a priority-0 resignation.
events.set('gen-preempt-and-prio0', new Script().jump().jump().jump()
  .advert(SLOT1, 200, HIGHER | IF1).advert(SLOT1, 0, HIGHER | IF1).jump().advert(SLOT1, 0, HIGHER | IF1)
  .advert(SLOT1, 150, HIGHER | IF1).advert(SLOT1, 150, LOWER | IF1).jump().bytes());
// VRRPv2 with a password: right, wrong, no auth, wrong interval.
events.set('gen-v2-auth', new Script().advert(SLOT0, 200, HIGHER | IF1).advert(SLOT0 | 8, 200, HIGHER | IF1)
  .advert(SLOT0 | 16, 200, HIGHER | IF1).advert(SLOT0, 200, HIGHER | IF1, 3).advance(2_000_000)
  .advert(SLOT0, 200, HIGHER | IF1).jump().jump().bytes());
// IPv6 bare adverts (as an IPv6 raw socket delivers them), own packets, TTL 254.
events.set('gen-ipv6-bare', new Script().advert(SLOT2 | 4, 250, HIGHER | IF2).advert(SLOT2 | 4, 250, OWN | IF2)
  .advert(SLOT2 | 4 | 128, 250, HIGHER | IF2).advert(SLOT2, 250, HIGHER | IF2).jump().jump()
  .advert(SLOT2 | 4, 100, LOWER | IF2).advert(SLOT2 | 4 | 32, 255, HIGHER | IF2).jump().bytes());
// Tracking: weights move the effective priority; weight 0 faults; recovery.
events.set('gen-track', new Script().jump().jump().track(SLOT1, 0, -60, true).track(SLOT1, 1, 100, true)
  .track(SLOT1, 0, -60, false).track(SLOT2, 3, 0, true).jump().track(SLOT2, 3, 0, false).jump()
  .track(SLOT0, 31, -128, true).track(SLOT0, 33, 5, true).jump().bytes());
// Sync group (slots 1 and 2, then all three): a fault in one faults the group, recovery brings it back.
events.set('gen-sync-group', new Script(1).jump().jump().track(SLOT2, 0, 0, true).jump()
  .track(SLOT2, 0, 0, false).jump().advert(SLOT1, 254, HIGHER | IF1).jump().bytes());
events.set('gen-sync-group-all', new Script(3).jump().advert(SLOT0, 254, HIGHER | IF1).track(SLOT1, 2, 0, true)
  .stop(SLOT0).start(SLOT0).track(SLOT1, 2, 0, false).jump().jump().bytes());
// Stop / start / reconfigure while running, a refused identity change, groups while stopped.
events.set('gen-lifecycle', new Script().jump().jump().stop(SLOT1).reconf(SLOT1, 200, 10, 1).start(SLOT1)
  .reconf(SLOT2, 255, 20, 0).jump().reconf(SLOT0, 50, 2, 1 | 2 | 4).reconf(SLOT0, 0, 0, 0)
  .reconf(SLOT1, 0, 0, 128).stop(SLOT0).reconf(SLOT0, 0, 0, 128).group(SLOT0, 1).start(SLOT0)
  .stop(SLOT2).stop(SLOT2).start(SLOT2).start(SLOT2).jump().fire().bytes());
// Removal and re-creation (a config reload) of a Master, a Backup and a stopped instance.
events.set('gen-remove', new Script(1).jump().jump().jump().remove(SLOT2).start(SLOT2).track(SLOT1, 0, -10, true)
  .remove(SLOT1).remove(SLOT1).start(SLOT1).stop(SLOT0).remove(SLOT0).start(SLOT0).jump().jump().bytes());
// Unicast peers, no preempt, preempt delay.
events.set('gen-unicast-nopreempt', new Script(4 | 8).jump().jump().advert(SLOT1, 100, LOWER | IF1 | 16)
  .advert(SLOT1, 200, HIGHER | IF1 | 16).jump().bytes());
events.set('gen-preempt-delay', new Script(16, 200).advert(SLOT1, 100, LOWER | IF1).advance(1_000_000)
  .advert(SLOT1, 100, LOWER | IF1).advance(1_000_000).advert(SLOT1, 100, LOWER | IF1).advance(2_000_000)
  .advert(SLOT1, 100, LOWER | IF1).jump().jump().bytes());
// Owners (priority 255) start as Master.
events.set('gen-owners', new Script(32 | 64 | 128).advert(SLOT1, 255, HIGHER | IF1).advert(SLOT2 | 4, 0, LOWER | IF2)
  .jump().stop(SLOT2).start(SLOT2).jump().bytes());
// Packets not built by the encoder: the golden captures and a few mangled ones, whole and bare.
{
  const s = new Script();
  for (const [name, bytes] of decode) if (name.startsWith('golden-') || name.startsWith('gen-v')) s.rawIp(1, bytes);
  s.rawBare(2, 6, 255, 0, valid['v3-ipv6'].subarray(40)).rawBare(1, 4, 255, 1, valid['v2-pass'].subarray(20));
  s.advert(SLOT1 | 64, 200, HIGHER | IF1, 0, 25, 0x80).advert(3, 200, HIGHER | IF1, 0, 3, 51);
  events.set('gen-packets', s.jump().bytes());
}

writeSeeds('fuzz_events', events);
