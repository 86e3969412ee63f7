// Benchmark of the protocol core on one CPU core: decode + validate, decode + validate + FSM step,
// the host->core call cost, allocations per packet and per-packet latency percentiles — the
// WASM core against the same decoder in plain TypeScript (bench/plain-decoder.ts).
//
//   node bench/core.ts              standalone: prints the tables
//   node bench/run.ts               every bench module; JSON in bench/results/latest.json
//
// Environment: VIGIL_BENCH_QUICK=1 shortens every measurement (for a smoke run);
// VIGIL_BENCH_WASM=path benches another build of core.wasm (e.g. a candidate fix) instead.
import v8 from 'node:v8';
import os from 'node:os';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Core, coreModule, CORE_WASM_PATH, type RawCore } from '../host/core/core.ts';
import { parseAddress } from '../host/core/addr.ts';
import { DROP_REASONS } from '../host/core/codes.ts';
import { PlainInfo, decodeIp as plainDecodeIp, internetChecksum, pseudoHeaderSum, IPPROTO_VRRP } from './plain-decoder.ts';
import { table, targetsTable, rate, ns, type Target } from './table.ts';

const QUICK = process.env.VIGIL_BENCH_QUICK === '1';
const MEASURE_MS = QUICK ? 30 : 100;     // one timed repetition
const REPS = QUICK ? 3 : 11;             // repetitions; the median is reported
const BATCH = 1000;                      // packets per percentile sample
const SAMPLES = QUICK ? 200 : 2000;      // percentile samples
const ALLOC_N = QUICK ? 100_000 : 1_000_000;
const MUTATIONS = QUICK ? 5_000 : 50_000;

const WASM_PATH = process.env.VIGIL_BENCH_WASM || CORE_WASM_PATH;
const newCore = () => new Core(coreModule(WASM_PATH));

const IFINDEX = 1;
const VRID = 51;

// ---- packets ------------------------------------------------------------------------------------

interface AdvertSpec {
  family: 4 | 6;
  version: 2 | 3;
  vrid: number;
  priority: number;
  addrs: string[];
  advertInt: number;             // v3 centiseconds, v2 seconds
  src: string;
  dst: string;
  authType?: number;
  password?: string;
  ttl?: number;
}

// An advert with its IP header, built here (not by the core's encoder) so the self-check does
// not take the core's word for what a valid packet is.
function buildAdvert(s: AdvertSpec): Uint8Array {
  const alen = s.family === 6 ? 16 : 4;
  const vlen = 8 + s.addrs.length * alen + (s.version === 2 ? 8 : 0);
  const hlen = s.family === 6 ? 40 : 20;
  const p = new Uint8Array(hlen + vlen);
  const tmp = new Uint8Array(16);
  if (s.family === 4) {
    p[0] = 0x45; p[1] = 0xc0; p[2] = (hlen + vlen) >> 8; p[3] = (hlen + vlen) & 0xff;
    p[8] = s.ttl ?? 255; p[9] = IPPROTO_VRRP;
    p.set(parseAddress(s.src, tmp).subarray(0, 4), 12);
    p.set(parseAddress(s.dst, tmp).subarray(0, 4), 16);
  } else {
    p[0] = 0x60; p[4] = vlen >> 8; p[5] = vlen & 0xff; p[6] = IPPROTO_VRRP; p[7] = s.ttl ?? 255;
    p.set(parseAddress(s.src, tmp), 8);
    p.set(parseAddress(s.dst, tmp), 24);
  }
  const v = hlen;
  p[v] = (s.version << 4) | 1; p[v + 1] = s.vrid; p[v + 2] = s.priority; p[v + 3] = s.addrs.length;
  if (s.version === 2) { p[v + 4] = s.authType ?? 0; p[v + 5] = s.advertInt; }
  else { p[v + 4] = (s.advertInt >> 8) & 0x0f; p[v + 5] = s.advertInt & 0xff; }
  s.addrs.forEach((a, i) => p.set(parseAddress(a, tmp).subarray(0, alen), v + 8 + i * alen));
  if (s.version === 2 && s.password !== undefined) {
    p.set(Buffer.from(s.password, 'latin1').subarray(0, 8), v + 8 + s.addrs.length * alen);
  }
  return fixChecksums(p);
}

// Recomputes the IPv4 header checksum and the VRRP checksum from whatever the header now says
// (after a mutation), as far as the packet's own lengths allow.
function fixChecksums(p: Uint8Array): Uint8Array {
  if (p.length < 1) return p;
  const ver = p[0] >> 4;
  let off: number, len: number, family: 4 | 6;
  if (ver === 4 && p.length >= 20) {
    const ihl = (p[0] & 0xf) * 4;
    const total = Math.min((p[2] << 8) | p[3], p.length);
    if (ihl >= 20 && ihl <= p.length) {
      p[10] = 0; p[11] = 0;
      const c = internetChecksum(p, 0, ihl);
      p[10] = c >> 8; p[11] = c & 0xff;
    }
    off = ihl; len = total - ihl; family = 4;
  } else if (ver === 6 && p.length >= 40) {
    off = 40; len = Math.min((p[4] << 8) | p[5], p.length - 40); family = 6;
  } else {
    return p;
  }
  if (len < 8 || off + len > p.length) return p;
  p[off + 6] = 0; p[off + 7] = 0;
  const alen = family === 6 ? 16 : 4;
  const src = family === 6 ? p.subarray(8, 24) : p.subarray(12, 16);
  const dst = family === 6 ? p.subarray(24, 40) : p.subarray(16, 20);
  const acc = p[off] >> 4 === 3 ? pseudoHeaderSum(family, src.subarray(0, alen), dst.subarray(0, alen), len) : 0;
  const c = internetChecksum(p, off, len, acc);
  p[off + 6] = c >> 8; p[off + 7] = c & 0xff;
  return p;
}

const VIPS4 = ['192.0.2.100', '192.0.2.101'];
const VIPS6 = ['2001:db8::100', '2001:db8::101'];

export const PACKETS: Record<string, AdvertSpec> = {
  'v3 IPv4, 2 VIPs': { family: 4, version: 3, vrid: VRID, priority: 150, addrs: VIPS4, advertInt: 100, src: '192.0.2.2', dst: '224.0.0.18' },
  'v3 IPv6, 2 VIPs': { family: 6, version: 3, vrid: VRID, priority: 150, addrs: VIPS6, advertInt: 100, src: 'fe80::2', dst: 'ff02::12' },
  'v2 PASS, 2 VIPs': { family: 4, version: 2, vrid: VRID, priority: 150, addrs: VIPS4, advertInt: 1, authType: 1, password: 'secret', src: '192.0.2.2', dst: '224.0.0.18' },
};

// ---- self-check: the plain decoder and the core agree -------------------------------------------

const FIELDS = ['drop', 'family', 'ttl', 'ipProto', 'version', 'type', 'vrid', 'priority', 'count',
  'authType', 'advertInt', 'checksum', 'checksumOk', 'vrrpOff', 'vrrpLen', 'addrOff', 'authOff', 'src', 'dst'] as const;
type Field = (typeof FIELDS)[number];
type Snapshot = Record<Field, number | string>;

function coreGlobal(raw: RawCore, name: string): number {
  return Number((raw[name] as WebAssembly.Global).value);
}

function coreSnapshot(core: Core): Snapshot {
  const m = core.mem, at = core.infoAt, raw = core.raw;
  const u8 = (n: string) => m[at + coreGlobal(raw, n)];
  const u16 = (n: string) => core.view.getUint16(at + coreGlobal(raw, n), true);
  const hex = (n: string) => Buffer.from(m.subarray(at + coreGlobal(raw, n), at + coreGlobal(raw, n) + 16)).toString('hex');
  return {
    drop: u8('INFO_DROP'), family: u8('INFO_FAMILY'), ttl: u8('INFO_TTL'), ipProto: u8('INFO_IP_PROTO'),
    version: u8('INFO_VERSION'), type: u8('INFO_TYPE'), vrid: u8('INFO_VRID'), priority: u8('INFO_PRIORITY'),
    count: u8('INFO_COUNT'), authType: u8('INFO_AUTH_TYPE'), advertInt: u16('INFO_ADVER_INT'),
    checksum: u16('INFO_CHECKSUM'), checksumOk: u8('INFO_CHECKSUM_OK'), vrrpOff: u16('INFO_VRRP_OFF'),
    vrrpLen: u16('INFO_VRRP_LEN'), addrOff: u16('INFO_ADDR_OFF'), authOff: u16('INFO_AUTH_OFF'),
    src: hex('INFO_SRC'), dst: hex('INFO_DST'),
  };
}

function plainSnapshot(r: PlainInfo): Snapshot {
  return {
    drop: r.drop, family: r.family, ttl: r.ttl, ipProto: r.ipProto, version: r.version, type: r.type,
    vrid: r.vrid, priority: r.priority, count: r.count, authType: r.authType, advertInt: r.advertInt,
    checksum: r.checksum, checksumOk: r.checksumOk, vrrpOff: r.vrrpOff, vrrpLen: r.vrrpLen & 0xffff,
    addrOff: r.addrOff, authOff: r.authOff,
    src: Buffer.from(r.src).toString('hex'), dst: Buffer.from(r.dst).toString('hex'),
  };
}

// The core adds length + protocol to its folded 32-bit address sum in u32 arithmetic
// (core-wasm/assembly/checksum.ts pseudoHeaderSum); this says whether that addition wraps,
// i.e. whether the core loses a carry on this packet's pseudo-header.
function coreLosesPseudoCarry(s: Snapshot): boolean {
  if (s.version !== 3 || (s.family !== 4 && s.family !== 6)) return false;
  const words = (hex: string, n: number) => {
    let t = 0n;
    for (let i = 0; i < n; i += 4) t += BigInt('0x' + hex.slice(2 * i, 2 * i + 8));
    return t;
  };
  const n = s.family === 6 ? 16 : 4;
  let w = words(s.src as string, n) + words(s.dst as string, n);
  w = (w & 0xffffffffn) + (w >> 32n);
  w = (w & 0xffffffffn) + (w >> 32n);
  return w + BigInt(s.vrrpLen as number) + BigInt(IPPROTO_VRRP) > 0xffffffffn;
}

function diff(a: Snapshot, b: Snapshot): Field[] {
  return FIELDS.filter((f) => a[f] !== b[f]);
}

// Deterministic PRNG (mulberry32), so a mismatch found once is found again.
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Vector { name: string; bytes: Uint8Array; len?: number; expect?: string }

function corpus(): Vector[] {
  const v: Vector[] = [];
  const base: Record<string, AdvertSpec> = {
    ...PACKETS,
    'v2 no auth, 1 VIP': { family: 4, version: 2, vrid: 1, priority: 100, addrs: ['192.0.2.10'], advertInt: 1, src: '192.0.2.1', dst: '224.0.0.18' },
    'v3 IPv4, 20 VIPs': { family: 4, version: 3, vrid: 200, priority: 254, addrs: Array.from({ length: 20 }, (_, i) => `192.0.2.${i + 1}`), advertInt: 4095, src: '192.0.2.254', dst: '224.0.0.18' },
    'v3 IPv6, 1 VIP, prio 0': { family: 6, version: 3, vrid: 255, priority: 0, addrs: ['fe80::1'], advertInt: 1, src: 'fe80::1234:5678:9abc:def0', dst: 'ff02::12' },
    'v3 IPv4 unicast': { family: 4, version: 3, vrid: 7, priority: 100, addrs: ['198.51.100.1'], advertInt: 50, src: '198.51.100.2', dst: '198.51.100.3' },
  };
  const add = (name: string, p: Uint8Array, expect?: string, len?: number) => v.push({ name, bytes: p, expect, len });
  for (const [name, spec] of Object.entries(base)) {
    const good = () => buildAdvert(spec);
    const v4 = spec.family === 4;
    const off = v4 ? 20 : 40;
    const m = (what: string, f: (p: Uint8Array) => Uint8Array | void, fix: boolean, expect: string | undefined) => {
      let p = good();
      p = f(p) ?? p;
      add(`${name}: ${what}`, fix ? fixChecksums(p) : p, expect);
    };
    add(`${name}: valid`, good(), 'none');
    m('TTL 254', (p) => { p[v4 ? 8 : 7] = 254; }, true, 'ttl');
    m('TTL 1', (p) => { p[v4 ? 8 : 7] = 1; }, true, 'ttl');
    for (const ver of [0, 1, 4, 15]) m(`VRRP version ${ver}`, (p) => { p[off] = (ver << 4) | 1; }, true, 'version');
    for (const type of [0, 2, 15]) m(`VRRP type ${type}`, (p) => { p[off] = (p[off] & 0xf0) | type; }, true, 'type');
    m('count 0', (p) => { p[off + 3] = 0; }, true, 'no_addresses');
    m('count + 1', (p) => { p[off + 3]++; }, true, 'length');
    m('count 255', (p) => { p[off + 3] = 255; }, true, 'length');
    m('VRRP checksum + 1', (p) => { p[off + 7] ^= 1; }, false, 'checksum');
    m('VIP byte flipped, checksum kept', (p) => { p[off + 8] ^= 0x80; }, false, 'checksum');
    m('VRID 0 (FSM business)', (p) => { p[off + 1] = 0; }, true, 'none');
    m('truncated VRRP header', (p) => {
      const q = p.subarray(0, off + 7);
      if (v4) { q[2] = 0; q[3] = off + 7; } else { q[4] = 0; q[5] = 7; }
      return q;
    }, true, 'truncated');
    m('trailing bytes after the packet', (p) => { const q = new Uint8Array(p.length + 13); q.set(p); q.fill(0xaa, p.length); return q; }, false, 'none');
    m('odd VRRP length (1 byte of padding inside)', (p) => {
      const q = new Uint8Array(p.length + 1); q.set(p); q[p.length] = 0x5a;
      if (v4) { q[2] = q.length >> 8; q[3] = q.length & 0xff; } else { q[4] = (q.length - 40) >> 8; q[5] = (q.length - 40) & 0xff; }
      return q;
    }, true, 'none');
    add(`${name}: empty`, new Uint8Array(0), 'truncated');
    add(`${name}: 1 byte`, good().subarray(0, 1), 'truncated');
    add(`${name}: len > IN_SIZE`, good(), 'truncated', 4097);
    m('IP version 5', (p) => { p[0] = (5 << 4) | (p[0] & 0xf); }, false, 'ip_version');
    m('IP version 0', (p) => { p[0] = p[0] & 0xf; }, false, 'ip_version');
    if (spec.version === 3) {
      m('reserved interval bits set', (p) => { p[off + 4] |= 0xf0; }, true, 'none');
      m('interval 0 (FSM business)', (p) => { p[off + 4] = 0; p[off + 5] = 0; }, true, 'none');
    } else {
      m('auth type 2 (AH)', (p) => { p[off + 4] = 2; }, true, 'auth_ah');
      m('auth type 3', (p) => { p[off + 4] = 3; }, true, 'auth_unknown');
      m('auth type 255', (p) => { p[off + 4] = 255; }, true, 'auth_unknown');
      m('wrong password (FSM business)', (p) => { p[p.length - 1] ^= 0x20; }, true, 'none');
      m('checksum with a v3 pseudo-header', (p) => { p[off] = 0x31; fixChecksums(p); p[off] = 0x21; }, false, 'checksum');
    }
    if (v4) {
      add(`${name}: 19 bytes`, good().subarray(0, 19), 'truncated');
      m('IP header checksum + 1', (p) => { p[11] ^= 1; }, false, 'ip_header');
      m('IHL 4', (p) => { p[0] = 0x44; }, true, 'ip_header');
      m('IHL 15', (p) => { p[0] = 0x4f; }, true, good().length < 60 ? 'ip_header' : undefined);
      m('total length > bytes', (p) => { const t = ((p[2] << 8) | p[3]) + 1; p[2] = t >> 8; p[3] = t & 0xff; }, true, 'ip_header');
      m('total length < IHL', (p) => { p[2] = 0; p[3] = 19; }, true, 'ip_header');
      m('total length = IHL', (p) => { p[2] = 0; p[3] = 20; }, true, 'truncated');
      m('more-fragments flag', (p) => { p[6] = 0x20; }, true, 'ip_header');
      m('fragment offset', (p) => { p[7] = 1; }, true, 'ip_header');
      m('don\'t-fragment flag (fine)', (p) => { p[6] = 0x40; }, true, 'none');
      m('protocol 6', (p) => { p[9] = 6; }, true, 'ip_proto');
      m('IP options (IHL 6, router alert)', (p) => {
        const q = new Uint8Array(p.length + 4);
        q.set(p.subarray(0, 20)); q.set([0x94, 0x04, 0, 0], 20); q.set(p.subarray(20), 24);
        q[0] = 0x46; q[2] = q.length >> 8; q[3] = q.length & 0xff;
        return q;
      }, true, 'none');
    } else {
      add(`${name}: 39 bytes`, good().subarray(0, 39), 'truncated');
      m('payload length > bytes', (p) => { p[5]++; }, true, 'ip_header');
      m('next header 0 (hop-by-hop)', (p) => { p[6] = 0; }, true, 'ip_proto');
      m('payload length 0', (p) => { p[4] = 0; p[5] = 0; }, true, 'truncated');
    }
  }
  // v2 over IPv6
  const v2v6 = buildAdvert({ family: 6, version: 2, vrid: 1, priority: 100, addrs: ['2001:db8::1'], advertInt: 1, src: 'fe80::1', dst: 'ff02::12' });
  add('v2 over IPv6', v2v6, 'family');
  // Captures and RFC vectors, when the test tree has them.
  const golden = fileURLToPath(new URL('../test/golden/', import.meta.url));
  if (existsSync(golden)) {
    for (const f of readdirSync(golden).filter((n) => n.endsWith('.hex')).sort()) {
      readFileSync(golden + f, 'utf8').split(/\s+/).filter((l) => /^[0-9a-f]+$/i.test(l))
        .forEach((hex, i) => add(`golden ${f}#${i + 1}`, Uint8Array.from(Buffer.from(hex, 'hex'))));
    }
    if (existsSync(golden + 'rfc-vectors.json')) {
      try {
        const vec = JSON.parse(readFileSync(golden + 'rfc-vectors.json', 'utf8')) as { name: string; hex: string }[];
        for (const x of vec) if (typeof x.hex === 'string') add(`rfc ${x.name}`, Uint8Array.from(Buffer.from(x.hex, 'hex')));
      } catch { /* not ours to police */ }
    }
  }
  return v;
}

// Addresses whose pseudo-header makes the core's u32 sum wrap (see coreLosesPseudoCarry).
function carryVectors(core: Core): Vector[] {
  const spec: AdvertSpec = { family: 4, version: 3, vrid: 9, priority: 100, addrs: ['31.255.255.1'], advertInt: 100, src: '31.255.255.200', dst: '224.0.0.18' };
  const spec6: AdvertSpec = { family: 6, version: 3, vrid: 9, priority: 100, addrs: ['2001:db8::1'], advertInt: 100, src: 'fe80::ffff:ffff:27d:ffa0', dst: 'ff02::12' };
  const byCore = (s: AdvertSpec) => core.encode({ version: 3, family: s.family, vrid: s.vrid, priority: s.priority,
    advertInterval: s.advertInt, addresses: s.addrs, source: s.src, destination: s.dst, ipHeader: true, ttl: 255 });
  return [
    { name: 'v3 IPv4 31.255.255.200 -> 224.0.0.18, RFC 1071 checksum', bytes: buildAdvert(spec) },
    { name: 'v3 IPv4 31.255.255.200 -> 224.0.0.18, checksum by core encode()', bytes: byCore(spec) },
    { name: 'v3 IPv6 fe80::ffff:ffff:27d:ffa0 -> ff02::12, RFC 1071 checksum', bytes: buildAdvert(spec6) },
    { name: 'v3 IPv6 fe80::ffff:ffff:27d:ffa0 -> ff02::12, checksum by core encode()', bytes: byCore(spec6) },
  ];
}

export interface SelfCheck {
  vectors: number;
  vectorsAgreed: number;
  expectationsMet: number;           // vectors whose drop reason is the one the corpus expects
  dropsSeen: string[];
  mutations: number;
  mutationsAgreed: number;
  mismatches: string[];              // failures: decoders disagree (not explained below)
  carryCases: { name: string; core: string; plain: string; coreLosesCarry: boolean }[];
}

function decodeBoth(core: Core, plain: PlainInfo, bytes: Uint8Array, len = bytes.length): [Snapshot, Snapshot] {
  core.inBuf.fill(0, 0, Math.min(core.inBuf.length, bytes.length + 64));
  core.inBuf.set(bytes.subarray(0, Math.min(bytes.length, core.inBuf.length)));
  core.raw.decodeIp(len);
  plainDecodeIp(bytes, len, plain);
  return [coreSnapshot(core), plainSnapshot(plain)];
}

function selfCheck(core: Core): SelfCheck {
  const plain = new PlainInfo();
  const mismatches: string[] = [];
  const seen = new Set<string>();
  const vectors = corpus();
  let agreed = 0, expected = 0;
  const explain = (c: Snapshot, p: Snapshot, fields: Field[]) =>
    fields.map((f) => `${f}: core ${f === 'drop' ? DROP_REASONS[c[f] as number] : c[f]}, plain ${f === 'drop' ? DROP_REASONS[p[f] as number] : p[f]}`).join('; ');
  for (const vec of vectors) {
    const [c, p] = decodeBoth(core, plain, vec.bytes, vec.len);
    const d = diff(c, p);
    seen.add(DROP_REASONS[c.drop as number]);
    if (d.length === 0) agreed++;
    else mismatches.push(`${vec.name}: ${explain(c, p, d)}`);
    if (vec.expect === undefined || DROP_REASONS[c.drop as number] === vec.expect) expected++;
    else mismatches.push(`${vec.name}: expected ${vec.expect}, both said ${DROP_REASONS[c.drop as number]}`);
  }
  // Random mutations of valid packets: flipped bytes, changed lengths, sometimes with the
  // checksums repaired so the later checks are reached.
  const rnd = prng(0x5eed);
  const bases = vectors.filter((x) => x.expect === 'none' && x.len === undefined).map((x) => x.bytes);
  let mAgreed = 0;
  const carry: SelfCheck['carryCases'] = [];
  for (let i = 0; i < MUTATIONS; i++) {
    const src = bases[Math.floor(rnd() * bases.length)];
    let p = Uint8Array.from(src);
    const edits = 1 + Math.floor(rnd() * 3);
    for (let e = 0; e < edits; e++) {
      const what = rnd();
      if (what < 0.7) p[Math.floor(rnd() * p.length)] = Math.floor(rnd() * 256);
      else if (what < 0.85) p = p.subarray(0, Math.floor(rnd() * (p.length + 1)));
      else p[Math.floor(rnd() * Math.min(p.length, 48))] ^= 1 << Math.floor(rnd() * 8);
    }
    if (rnd() < 0.5) fixChecksums(p);
    const [c, q] = decodeBoth(core, plain, p);
    const d = diff(c, q);
    seen.add(DROP_REASONS[c.drop as number]);
    if (d.length === 0) { mAgreed++; continue; }
    const carryOnly = d.every((f) => f === 'checksumOk' || f === 'drop') && coreLosesPseudoCarry(c);
    if (carryOnly) carry.push({ name: `mutation ${i}: ${Buffer.from(p).toString('hex')}`, core: DROP_REASONS[c.drop as number], plain: DROP_REASONS[q.drop as number], coreLosesCarry: true });
    else if (mismatches.length < 20) mismatches.push(`mutation ${i} (${Buffer.from(p).toString('hex')}): ${explain(c, q, d)}`);
    else if (mismatches.length === 20) mismatches.push('… (further mismatches not listed)');
  }
  // The pseudo-header carry: reported, not asserted (a core bug, see the report).
  for (const vec of carryVectors(core)) {
    const [c, p] = decodeBoth(core, plain, vec.bytes);
    const d = diff(c, p);
    if (d.length === 0) { carry.push({ name: vec.name, core: DROP_REASONS[c.drop as number], plain: DROP_REASONS[p.drop as number], coreLosesCarry: coreLosesPseudoCarry(c) }); continue; }
    if (d.every((f) => f === 'checksumOk' || f === 'drop') && coreLosesPseudoCarry(c)) {
      carry.push({ name: vec.name, core: DROP_REASONS[c.drop as number], plain: DROP_REASONS[p.drop as number], coreLosesCarry: true });
    } else {
      mismatches.push(`${vec.name}: ${explain(c, p, d)}`);
    }
  }
  return {
    vectors: vectors.length, vectorsAgreed: agreed, expectationsMet: expected, dropsSeen: [...seen].sort(),
    mutations: MUTATIONS, mutationsAgreed: mAgreed, mismatches, carryCases: carry,
  };
}

// ---- timing -------------------------------------------------------------------------------------

// One specialised loop per path, so each call site stays monomorphic and TurboFan optimises
// each on its own. Every loop returns the sum of the results, which the caller checks.
function loopWasmInPlace(decode: (len: number) => number, len: number, n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) acc += decode(len);
  return acc;
}

function loopWasmCopy(decode: (len: number) => number, inBuf: Uint8Array, pkt: Uint8Array, n: number): number {
  let acc = 0;
  const len = pkt.length;
  for (let i = 0; i < n; i++) {
    inBuf.set(pkt);
    acc += decode(len);
  }
  return acc;
}

function loopPlain(pkt: Uint8Array, info: PlainInfo, n: number): number {
  let acc = 0;
  const len = pkt.length;
  for (let i = 0; i < n; i++) acc += plainDecodeIp(pkt, len, info);
  return acc;
}

// handleIp with the packet already in inBuf: decode + validate + FSM step.
// step 0 holds `now` still, for the allocation runs (bytesPerOp): a double that changes is a
// new HeapNumber at every step wherever V8 has not optimized or inlined the loop's call, 16 B a
// packet of the harness's own (seen in one `make bench` out of several), not of the code measured.
const clock = { now: 0, step: 1e6 };
function loopHandleIp(handle: (now: number, ifindex: number, len: number) => number, len: number, n: number): number {
  let acc = 0;
  let now = clock.now;
  const step = clock.step;
  for (let i = 0; i < n; i++) {
    acc += handle(now, IFINDEX, len);
    if (step !== 0) now += step;       // the master's 1 s interval, in microseconds
  }
  clock.now = now;
  return acc;
}

// Through the host wrapper: Core#handleIp(now, ifindex, packet) copies the packet in.
function loopCoreHandleIp(core: Core, pkt: Uint8Array, n: number): number {
  let acc = 0;
  let now = clock.now;
  const step = clock.step;
  for (let i = 0; i < n; i++) {
    if (core.handleIp(now, IFINDEX, pkt) !== 'none') acc++;
    if (step !== 0) now += step;
  }
  clock.now = now;
  return acc;
}

function loopHandleVrrp(handle: (now: number, ifindex: number, family: number, ttl: number, len: number) => number, len: number, n: number): number {
  let acc = 0;
  let now = clock.now;
  const step = clock.step;
  for (let i = 0; i < n; i++) {
    acc += handle(now, IFINDEX, 6, 255, len);
    if (step !== 0) now += step;
  }
  clock.now = now;
  return acc;
}

function loopCoreHandleVrrp(core: Core, src: Uint8Array, dst: Uint8Array, message: Uint8Array, n: number): number {
  let acc = 0;
  let now = clock.now;
  const step = clock.step;
  for (let i = 0; i < n; i++) {
    if (core.handleVrrp(now, IFINDEX, 6, 255, src, dst, message) !== 'none') acc++;
    if (step !== 0) now += step;
  }
  clock.now = now;
  return acc;
}

// Core#handleVrrpInPlace is new in host/core/core.ts; the bench runs without it (row left out).
interface VrrpInPlace {
  handleVrrpInPlace(now: number, ifindex: number, family: 4 | 6, ttl: number, source: Uint8Array, destination: Uint8Array, len: number): string;
}

function loopCoreHandleVrrpInPlace(core: VrrpInPlace, src: Uint8Array, dst: Uint8Array, len: number, n: number): number {
  let acc = 0;
  let now = clock.now;
  const step = clock.step;
  for (let i = 0; i < n; i++) {
    if (core.handleVrrpInPlace(now, IFINDEX, 6, 255, src, dst, len) !== 'none') acc++;
    if (step !== 0) now += step;
  }
  clock.now = now;
  return acc;
}

function loopTrivialExport(f: () => number, n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) acc += f();
  return acc;
}

function emptyJs(x: number): number { return x & 1; }
function loopEmptyJs(n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) acc += emptyJs(i);
  return acc;
}

function elapsedNs(f: () => unknown): number {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0);
}

export interface Timing {
  nsPerOp: number;              // the best round's wall time per operation
  perSecond: number;
  medianNsPerOp: number;        // median round, wall time
  cpuNsPerOp: number;           // median round, this thread's CPU time (immune to being descheduled)
  cpuShare: number;             // thread CPU time / wall time over all rounds: < 1 = shared CPU
  iterations: number;
  reps: number;
  spreadPct: number;            // (worst - best) / median, wall time
}
type Loop = (n: number) => number;
type Expect = (acc: number, n: number) => boolean;

// Every timed stretch of the run, for the overall CPU share.
const share = { wallNs: 0, cpuNs: 0 };

// Warm-up (long enough for TurboFan, OSR included), a calibration to ~MEASURE_MS per
// repetition, then REPS rounds in which every loop of the set runs once, interleaved, so a
// noisy neighbour slows all of them alike. Reported: the best round by wall clock
// (process.hrtime.bigint()), i.e. the machine's own speed when the bench had the CPU; the median
// round, the thread-CPU-time figure and the spread are kept alongside.
function measureSet<K extends string>(loops: Record<K, Loop>, expect: Expect): Record<K, Timing> {
  const keys = Object.keys(loops) as K[];
  const check = (acc: number, k: number) => {
    if (!expect(acc, k)) throw new Error(`bench loop returned ${acc} for ${k} iterations: not measuring the path it claims to`);
  };
  const iterations = {} as Record<K, number>;
  for (const k of keys) {
    const loop = loops[k];
    for (let w = 0; w < 5; w++) check(loop(20_000), 20_000);
    let n = 10_000, t = 0;
    while ((t = elapsedNs(() => check(loop(n), n))) < 20e6) n *= 2;
    iterations[k] = Math.max(10_000, Math.round(n * (MEASURE_MS * 1e6) / t));
  }
  const wall = {} as Record<K, number[]>, cpu = {} as Record<K, number[]>;
  for (const k of keys) { wall[k] = []; cpu[k] = []; }
  for (let r = 0; r < REPS; r++) {
    for (const k of keys) {
      const n = iterations[k], loop = loops[k];
      const c0 = process.threadCpuUsage();
      const t0 = process.hrtime.bigint();
      const acc = loop(n);
      const t = Number(process.hrtime.bigint() - t0);
      const c1 = process.threadCpuUsage(c0);
      check(acc, n);
      const c = (c1.user + c1.system) * 1e3;
      share.wallNs += t; share.cpuNs += c;
      wall[k].push(t / n); cpu[k].push(c / n);
    }
  }
  const out = {} as Record<K, Timing>;
  for (const k of keys) {
    const v = [...wall[k]].sort((a, b) => a - b), c = [...cpu[k]].sort((a, b) => a - b);
    const best = v[0], med = v[Math.floor(v.length / 2)];
    const sumWall = wall[k].reduce((a, b) => a + b, 0), sumCpu = cpu[k].reduce((a, b) => a + b, 0);
    out[k] = { nsPerOp: best, perSecond: 1e9 / best, medianNsPerOp: med, cpuNsPerOp: c[Math.floor(c.length / 2)],
      cpuShare: sumCpu / sumWall, iterations: iterations[k], reps: REPS, spreadPct: ((v[v.length - 1] - best) / med) * 100 };
  }
  return out;
}

export interface Percentiles { p50: number; p99: number; p999: number; max: number; samples: number; batch: number }

function percentiles(loop: (n: number) => number): Percentiles {
  for (let w = 0; w < 50; w++) loop(BATCH);
  const s = new Float64Array(SAMPLES);
  for (let i = 0; i < SAMPLES; i++) {
    const t0 = process.hrtime.bigint();
    loop(BATCH);
    s[i] = Number(process.hrtime.bigint() - t0) / BATCH;
  }
  s.sort();
  const at = (p: number) => s[Math.min(SAMPLES - 1, Math.ceil(p * SAMPLES) - 1)];
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999), max: s[SAMPLES - 1], samples: SAMPLES, batch: BATCH };
}

// ---- allocations --------------------------------------------------------------------------------

type AllocMethod = 'v8.getHeapStatistics().total_allocated_bytes' | 'process.memoryUsage().heapUsed with gc()' | 'unavailable';

function allocMethod(): AllocMethod {
  const h = v8.getHeapStatistics() as v8.HeapInfo & { total_allocated_bytes?: number };
  if (typeof h.total_allocated_bytes === 'number') return 'v8.getHeapStatistics().total_allocated_bytes';
  if (typeof globalThis.gc === 'function') return 'process.memoryUsage().heapUsed with gc()';
  return 'unavailable';
}

function totalAllocated(): number {
  return (v8.getHeapStatistics() as v8.HeapInfo & { total_allocated_bytes: number }).total_allocated_bytes;
}

// Bytes allocated per iteration of loop over n iterations, less what the measuring costs; the
// least of three tries, so a compiler thread installing code mid-loop is not charged to it.
function bytesPerOp(method: AllocMethod, loop: (n: number) => number, n: number): number {
  const step = clock.step;
  clock.step = 0;
  try {
    loop(10_000); loop(10_000);
    return Math.min(bytesPerOpOnce(method, loop, n), bytesPerOpOnce(method, loop, n), bytesPerOpOnce(method, loop, n));
  } finally {
    clock.step = step;
  }
}

function bytesPerOpOnce(method: AllocMethod, loop: (n: number) => number, n: number): number {
  if (method === 'v8.getHeapStatistics().total_allocated_bytes') {
    const e0 = totalAllocated(), e1 = totalAllocated();
    const overhead = e1 - e0;
    const a0 = totalAllocated();
    loop(n);
    const a1 = totalAllocated();
    return Math.max(0, a1 - a0 - overhead) / n;
  }
  if (method === 'process.memoryUsage().heapUsed with gc()') {
    const gc = globalThis.gc as () => void;
    gc();
    const h0 = process.memoryUsage().heapUsed;
    loop(n);
    const h1 = process.memoryUsage().heapUsed;
    gc();
    return Math.max(0, h1 - h0) / n;
  }
  return NaN;
}

// A loop that allocates a known amount, to show the method sees allocations at all.
let sink: unknown;
function loopAllocating(n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) { const a = new Float64Array(4); a[0] = i; sink = a; acc += a.length; }
  return acc;
}

// ---- the run ------------------------------------------------------------------------------------

export interface PathFigures { perSecond: number; nsPerPacket: number; medianNsPerPacket: number; cpuNsPerPacket: number; spreadPct: number; bytesPerPacket: number; pct: Percentiles }

export interface DecodeRow {
  packet: string;
  bytes: number;
  wasmInPlace: PathFigures;        // raw decodeIp(len), packet already in inBuf
  wasmCopy: PathFigures;           // inBuf.set(packet) + raw decodeIp(len)
  plainTs: PathFigures;            // bench/plain-decoder.ts
  ratioInPlace: number;            // wasm in place / plain TS, packets per second (best rounds, wall clock)
  ratioCopy: number;
  ratioInPlaceCpu: number;         // the same from median thread CPU time per packet
  ratioCopyCpu: number;
}

export interface HostPath { path: string; perSecond: number; nsPerCall: number; medianNsPerCall: number; cpuNsPerCall: number; bytesPerCall: number }

export interface Result {
  module: 'core';
  when: string;
  env: { node: string; v8: string; cpu: string; cpus: number; platform: string; quick: boolean; wasm: string; loadavgBefore: number[]; loadavgAfter: number[] };
  method: { timer: string; cpuShare: number; reps: number; measureMs: number; percentileBatch: number; percentileSamples: number; allocation: AllocMethod; allocIterations: number; allocCalibrationBytesPerOp: number };
  selfCheck: SelfCheck;
  decode: DecodeRow[];
  fsm: { packet: string; instance: string; advertsPerSecond: number; nsPerAdvert: number; medianNsPerAdvert: number; cpuNsPerAdvert: number; spreadPct: number; bytesPerAdvert: number; pct: Percentiles; advertsReceived: number; state: string; dropsTotal: number; actionsQueued: number };
  host: HostPath[];
  calls: { trivialExportNs: number; handleIpNs: number; emptyJsNs: number; timerOverheadNs: number };
  targets: Target[];
}

export async function run(): Promise<Result> {
  const loadavgBefore = os.loadavg();
  const core = newCore();
  const raw = core.raw;
  const method = allocMethod();
  const allocCalibration = bytesPerOp(method, loopAllocating, 100_000);

  // 1. The decoders agree.
  const check = selfCheck(core);
  if (check.mismatches.length > 0) {
    throw new Error(`self-check failed: the plain TS decoder and the core disagree on ${check.mismatches.length} packet(s):\n  ${check.mismatches.join('\n  ')}`);
  }

  // 2. Decode + validate.
  const decodeIp = raw.decodeIp;
  const info = new PlainInfo();
  const decode: DecodeRow[] = [];
  const allValid = (acc: number) => acc === 0;
  for (const [name, spec] of Object.entries(PACKETS)) {
    const pkt = buildAdvert(spec);
    const [c, p] = decodeBoth(core, info, pkt);
    if (c.drop !== 0 || p.drop !== 0) throw new Error(`${name}: bench packet does not decode (${DROP_REASONS[c.drop as number]} / ${DROP_REASONS[p.drop as number]})`);
    core.inBuf.set(pkt);
    const inPlace = (n: number) => loopWasmInPlace(decodeIp, pkt.length, n);
    const copy = (n: number) => loopWasmCopy(decodeIp, core.inBuf, pkt, n);
    const plain = (n: number) => loopPlain(pkt, info, n);
    const t = measureSet({ inPlace, copy, plain }, allValid);
    const figures = (loop: Loop, tm: Timing): PathFigures => ({
      perSecond: tm.perSecond, nsPerPacket: tm.nsPerOp, medianNsPerPacket: tm.medianNsPerOp, cpuNsPerPacket: tm.cpuNsPerOp, spreadPct: tm.spreadPct,
      bytesPerPacket: bytesPerOp(method, loop, ALLOC_N), pct: percentiles(loop),
    });
    const wasmInPlace = figures(inPlace, t.inPlace);
    const wasmCopy = figures(copy, t.copy);
    const plainTs = figures(plain, t.plain);
    decode.push({ packet: name, bytes: pkt.length, wasmInPlace, wasmCopy, plainTs,
      ratioInPlace: wasmInPlace.perSecond / plainTs.perSecond, ratioCopy: wasmCopy.perSecond / plainTs.perSecond,
      ratioInPlaceCpu: plainTs.cpuNsPerPacket / wasmInPlace.cpuNsPerPacket, ratioCopyCpu: plainTs.cpuNsPerPacket / wasmCopy.cpuNsPerPacket });
  }

  // 3. Decode + validate + FSM step: a backup (v3, VRID 51, priority 100) hearing a master at 150.
  // Also an IPv6 twin (the bare message an IPv6 raw socket delivers) and the host wrappers.
  const slot = core.addInstance({ ifindex: IFINDEX, vrid: VRID, version: 3, family: 4, priority: 100,
    advertIntervalCs: 100, preempt: true, primary: '192.0.2.1', vips: VIPS4 });
  const slot6 = core.addInstance({ ifindex: IFINDEX, vrid: VRID, version: 3, family: 6, priority: 100,
    advertIntervalCs: 100, preempt: true, primary: 'fe80::1', vips: VIPS6 });
  clock.now = 1e6;
  core.start(slot, clock.now);
  core.start(slot6, clock.now);
  if (core.state(slot) !== 'backup' || core.state(slot6) !== 'backup') throw new Error(`instances started in ${core.state(slot)} / ${core.state(slot6)}, not backup`);
  raw.actionsClear();
  const advert = buildAdvert(PACKETS['v3 IPv4, 2 VIPs']);
  const message6 = buildAdvert(PACKETS['v3 IPv6, 2 VIPs']).slice(40);
  const src6 = parseAddress('fe80::2'), dst6 = parseAddress('ff02::12');
  const handleIp = raw.handleIp, handleVrrp = raw.handleVrrp;
  const received0 = core.counter(slot, 'advertsReceived'), received60 = core.counter(slot6, 'advertsReceived');
  let fed = 0, fed6 = 0;
  const step = (n: number) => { fed += n; core.inBuf.set(advert); return loopHandleIp(handleIp, advert.length, n); };
  const step6 = (n: number) => {
    fed6 += n;
    core.inBuf.set(message6);
    core.mem.set(src6, core.infoAt + core.L.INFO_SRC);
    core.mem.set(dst6, core.infoAt + core.L.INFO_DST);
    return loopHandleVrrp(handleVrrp, message6.length, n);
  };
  const wrap = (n: number) => { fed += n; return loopCoreHandleIp(core, advert, n); };
  const wrap6 = (n: number) => { fed6 += n; return loopCoreHandleVrrp(core, src6, dst6, message6, n); };
  const hostLoops: Record<string, Loop> = {
    'raw.handleIp(now, ifindex, len), IPv4 packet in inBuf': step,
    'raw.handleVrrp(now, ifindex, 6, 255, len), IPv6 message in inBuf': step6,
    'Core#handleIp(now, ifindex, packet)': wrap,
  };
  const withInPlace = core as Core & Partial<VrrpInPlace>;
  if (typeof withInPlace.handleVrrpInPlace === 'function') {
    const c6 = withInPlace as VrrpInPlace;
    hostLoops['Core#handleVrrpInPlace(now, ifindex, 6, 255, src, dst, len)'] =
      (n: number) => { fed6 += n; core.inBuf.set(message6); return loopCoreHandleVrrpInPlace(c6, src6, dst6, message6.length, n); };
  }
  hostLoops['Core#handleVrrp(now, ifindex, 6, 255, src, dst, message)'] = wrap6;
  const hostT = measureSet(hostLoops, allValid);
  const host: HostPath[] = Object.entries(hostLoops).map(([name, loop]) => ({
    path: name, perSecond: hostT[name].perSecond, nsPerCall: hostT[name].nsPerOp, medianNsPerCall: hostT[name].medianNsPerOp,
    cpuNsPerCall: hostT[name].cpuNsPerOp, bytesPerCall: bytesPerOp(method, loop, ALLOC_N),
  }));
  const fsmT = hostT['raw.handleIp(now, ifindex, len), IPv4 packet in inBuf'];
  const fsmBytes = host[0].bytesPerCall;
  const fsmPct = percentiles(step);
  const received = core.counter(slot, 'advertsReceived') - received0;
  const received6 = core.counter(slot6, 'advertsReceived') - received60;
  if (received !== fed || received6 !== fed6 || core.state(slot) !== 'backup' || core.state(slot6) !== 'backup' || raw.actionCount() !== 0) {
    throw new Error(`FSM bench did not stay on the path: received ${received} of ${fed} (IPv4), ${received6} of ${fed6} (IPv6), ` +
      `states ${core.state(slot)} / ${core.state(slot6)}, ${raw.actionCount()} actions`);
  }
  const drops = Object.values(core.dropTotals()).reduce((a, b) => a + (b ?? 0), 0);

  // 4. Call cost.
  const actionCount = raw.actionCount;
  const trivial = measureSet({ trivial: (n: number) => loopTrivialExport(actionCount, n) }, (acc) => acc === 0).trivial;
  const emptyJsT = measureSet({ emptyJs: loopEmptyJs }, (acc, n) => acc === Math.floor(n / 2)).emptyJs;
  let timerOverheadNs = Infinity;
  for (let i = 0; i < 10_000; i++) {
    const t0 = process.hrtime.bigint();
    const t1 = process.hrtime.bigint();
    timerOverheadNs = Math.min(timerOverheadNs, Number(t1 - t0));
  }
  core.remove(slot, clock.now);
  core.remove(slot6, clock.now);

  const rawHost = host.filter((h) => h.path.startsWith('raw.')), wrappers = host.filter((h) => !h.path.startsWith('raw.'));
  const worstAlloc = Math.max(...decode.flatMap((d) => [d.wasmInPlace.bytesPerPacket, d.wasmCopy.bytesPerPacket]), ...rawHost.map((h) => h.bytesPerCall));
  const worstWrapper = wrappers.reduce((w, h) => (h.bytesPerCall > w.bytesPerCall ? h : w), wrappers[0]);
  const worstPlainAlloc = Math.max(...decode.map((d) => d.plainTs.bytesPerPacket));
  const targets: Target[] = [
    { name: 'decode + FSM step (handleIp, in place)', target: '>= 5 M adverts/s', value: `${rate(fsmT.perSecond)}/s`, met: fsmT.perSecond >= 5e6 },
    { name: 'host->core call, trivial export', target: '<= 100 ns', value: `${ns(trivial.nsPerOp)} ns`, met: trivial.nsPerOp <= 100 },
    { name: 'host->core call, raw.handleIp', target: '<= 100 ns', value: `${ns(fsmT.nsPerOp)} ns`, met: fsmT.nsPerOp <= 100 },
    { name: 'allocation per packet, core (raw exports)', target: '0 B', value: `${worstAlloc.toFixed(2)} B`, met: worstAlloc < 0.5 },
    { name: `allocation per packet, host wrapper (worst: ${worstWrapper.path.replace(/\(.*/, '')})`, target: '0 B', value: `${worstWrapper.bytesPerCall.toFixed(2)} B`, met: worstWrapper.bytesPerCall < 0.5 },
    { name: 'allocation per packet, plain TS', target: '0 B', value: `${worstPlainAlloc.toFixed(2)} B`, met: worstPlainAlloc < 0.5 },
    { name: 'plain TS decoder agrees with the core', target: 'all vectors', value: `${check.vectorsAgreed + check.mutationsAgreed}/${check.vectors + check.mutations}`, met: check.mismatches.length === 0 },
  ];

  return {
    module: 'core',
    when: new Date().toISOString(),
    env: { node: process.version, v8: process.versions.v8, cpu: os.cpus()[0]?.model ?? 'unknown', cpus: os.cpus().length, platform: `${process.platform}-${process.arch}`, quick: QUICK, wasm: WASM_PATH, loadavgBefore, loadavgAfter: os.loadavg() },
    method: { timer: 'process.hrtime.bigint() (wall); process.threadCpuUsage() alongside', cpuShare: share.cpuNs / share.wallNs, reps: REPS, measureMs: MEASURE_MS, percentileBatch: BATCH, percentileSamples: SAMPLES,
      allocation: method, allocIterations: ALLOC_N, allocCalibrationBytesPerOp: allocCalibration },
    selfCheck: check,
    decode,
    fsm: { packet: 'v3 IPv4, 2 VIPs, priority 150', instance: 'backup, v3, VRID 51, priority 100, preempt',
      advertsPerSecond: fsmT.perSecond, nsPerAdvert: fsmT.nsPerOp, medianNsPerAdvert: fsmT.medianNsPerOp, cpuNsPerAdvert: fsmT.cpuNsPerOp, spreadPct: fsmT.spreadPct, bytesPerAdvert: fsmBytes, pct: fsmPct,
      advertsReceived: received, state: 'backup', dropsTotal: drops, actionsQueued: 0 },
    host,
    calls: { trivialExportNs: trivial.nsPerOp, handleIpNs: fsmT.nsPerOp, emptyJsNs: emptyJsT.nsPerOp, timerOverheadNs },
    targets,
  };
}

// ---- report -------------------------------------------------------------------------------------

export function format(r: Result): string {
  const out: string[] = [];
  const b = (x: number) => x.toFixed(2);
  out.push(`vigil core benchmark — ${r.env.node} (V8 ${r.env.v8}), ${r.env.cpu} x${r.env.cpus}, one thread${r.env.quick ? ' [QUICK]' : ''}; ` +
    `load average ${r.env.loadavgBefore[0].toFixed(2)} -> ${r.env.loadavgAfter[0].toFixed(2)}`);
  if (r.env.wasm !== CORE_WASM_PATH) out.push(`core.wasm: ${r.env.wasm} (VIGIL_BENCH_WASM)`);
  out.push(`Throughput: best of ${r.method.reps} interleaved rounds of ~${r.method.measureMs} ms per path (medians, CPU-time figures and spread in the JSON).`);
  out.push(`The bench thread got ${(r.method.cpuShare * 100).toFixed(0)}% of a CPU while timed` +
    (r.method.cpuShare < 0.9 ? ' — the machine is shared: medians and tail percentiles include time spent descheduled.' : '.'));
  out.push('');
  const sc = r.selfCheck;
  out.push(`Self-check: ${sc.vectorsAgreed}/${sc.vectors} vectors and ${sc.mutationsAgreed}/${sc.mutations} random mutations decode identically ` +
    `(all fields, drop reasons: ${sc.dropsSeen.join(', ')}); ${sc.expectationsMet}/${sc.vectors} drop reasons as expected.`);
  const diverging = sc.carryCases.filter((c) => c.core !== c.plain);
  if (diverging.length > 0) {
    out.push('Known divergence, not counted above (core bug): the core drops a carry in the v3 pseudo-header sum');
    out.push('(core-wasm/assembly/checksum.ts pseudoHeaderSum) when the folded address sum is within length + 112 of 2^32:');
    for (const c of diverging) out.push(`  ${c.name}: core ${c.core}, plain TS (RFC 1071) ${c.plain}`);
  } else if (sc.carryCases.length > 0) {
    out.push(`Pseudo-header carry vectors (${sc.carryCases.length}): the core and RFC 1071 agree.`);
  }
  out.push('');
  out.push('Decode + validate, one core: packets/s and ns/packet of the best round (wall clock); in brackets the median');
  out.push('thread-CPU ns/packet, which time spent descheduled does not inflate. ratio = WASM speed / plain TS speed, wall [CPU].');
  const cell = (f: PathFigures) => `${rate(f.perSecond)}/s  ${ns(f.nsPerPacket)} ns [${ns(f.cpuNsPerPacket)}]`;
  out.push(table(
    ['packet', 'WASM in place', 'WASM copy+decode', 'plain TS', 'ratio in place', 'ratio copy'],
    r.decode.map((d) => [
      `${d.packet} (${d.bytes} B)`, cell(d.wasmInPlace), cell(d.wasmCopy), cell(d.plainTs),
      `${d.ratioInPlace.toFixed(2)}x [${d.ratioInPlaceCpu.toFixed(2)}x]`, `${d.ratioCopy.toFixed(2)}x [${d.ratioCopyCpu.toFixed(2)}x]`,
    ])));
  out.push('');
  out.push(`Decode + validate + FSM step: ${r.fsm.instance}, hearing a master at priority 150 (v3, 2 VIPs); one advert per call`);
  out.push(table(['path', 'adverts/s', 'ns/advert', '[CPU ns]', 'B/advert'],
    r.host.map((h) => [h.path, `${rate(h.perSecond)}/s`, ns(h.nsPerCall), `[${ns(h.cpuNsPerCall)}]`, b(h.bytesPerCall)])));
  out.push('');
  out.push('Call cost (ns per call)');
  out.push(table(['call', 'ns'], [
    ['raw.actionCount() (trivial WASM export)', ns(r.calls.trivialExportNs)],
    ['raw.handleIp(now, ifindex, len) (decode + FSM)', ns(r.calls.handleIpNs)],
    ['empty JS function (V8 inlines it)', ns(r.calls.emptyJsNs)],
    ['process.hrtime.bigint() pair (timer)', ns(r.calls.timerOverheadNs)],
  ]));
  out.push('');
  out.push(`Allocations (bytes/packet over ${r.method.allocIterations.toLocaleString('en')} packets; ${r.method.allocation}; ` +
    `calibration: new Float64Array(4) measures ${r.method.allocCalibrationBytesPerOp.toFixed(1)} B)`);
  out.push(table(['packet', 'WASM in place', 'WASM copy+decode', 'plain TS'],
    r.decode.map((d) => [d.packet, b(d.wasmInPlace.bytesPerPacket), b(d.wasmCopy.bytesPerPacket), b(d.plainTs.bytesPerPacket)])));
  out.push('(decode + FSM paths: the B/advert column above)');
  out.push('');
  out.push(`Per-packet latency percentiles (ns; ${r.method.percentileSamples} samples of ${r.method.percentileBatch} packets each)`);
  const pr = (name: string, p: Percentiles) => [name, ns(p.p50), ns(p.p99), ns(p.p999), ns(p.max)];
  out.push(table(['path', 'p50', 'p99', 'p99.9', 'max'], [
    ...r.decode.flatMap((d) => [
      pr(`${d.packet}: WASM in place`, d.wasmInPlace.pct),
      pr(`${d.packet}: WASM copy+decode`, d.wasmCopy.pct),
      pr(`${d.packet}: plain TS`, d.plainTs.pct),
    ]),
    pr('raw.handleIp (decode + FSM)', r.fsm.pct),
  ]));
  out.push('');
  out.push('Targets');
  out.push(targetsTable(r.targets));
  return out.join('\n');
}

if (import.meta.main) {
  const r = await run();
  console.log(format(r));
}
