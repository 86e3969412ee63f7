// The codec against the world: RFC-derived vectors, adverts captured from the real Debian
// keepalived, tshark's dissector, and every drop reason provoked on purpose.
import t from 'tap';
import { readFileSync, readdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Core } from '../../host/core/core.ts';
import { writePcap, readPcap } from '../../host/pcap.ts';
import { needTools } from '../helpers/tools.ts';

const golden = new URL('../golden/', import.meta.url);
const core = new Core();
const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));

t.test('RFC-derived vectors decode valid with their fields', async (t) => {
  const vectors = JSON.parse(readFileSync(new URL('rfc-vectors.json', golden), 'utf8')) as { name: string; hex: string }[];
  t.ok(vectors.length >= 9);
  for (const v of vectors) {
    const d = core.decodeIp(hex(v.hex));
    t.equal(d.drop, 'none', v.name);
    t.ok(d.checksumValid, `${v.name}: checksum`);
    t.equal(d.version, v.name.startsWith('rfc3768') ? 2 : 3, `${v.name}: version`);
    if (v.name.includes('prio0')) t.equal(d.priority, 0);
    if (v.name.includes('maxint')) t.equal(d.advertInterval, 4095);
    if (v.name.includes('auth-pass')) t.equal(d.authType, 1);
  }
});

const captures = readdirSync(golden).filter((f) => f.endsWith('.hex'));

t.test('keepalived 2.2.7 captures decode valid', async (t) => {
  t.ok(captures.length >= 5, 'golden captures present');
  const expect: Record<string, Partial<ReturnType<Core['decodeIp']>>> = {
    'v2-noauth.hex': { version: 2, vrid: 51, priority: 150, count: 2, authType: 0, advertInterval: 1 },
    'v2-pass.hex': { version: 2, vrid: 52, authType: 1, authData: 's3cret' },
    'v2-prio0.hex': { version: 2, priority: 0 },
    'v3-ipv4.hex': { version: 3, vrid: 53, count: 2, advertInterval: 50, family: 4 },
    'v3-ipv6.hex': { version: 3, vrid: 54, family: 6, source: 'fe80::1', destination: 'ff02::12', addresses: ['2001:db8::100'] },
    'v3-ipv4-unicast.hex': { version: 3, vrid: 55, destination: '192.0.2.2' },
  };
  for (const f of captures) {
    const lines = readFileSync(new URL(f, golden), 'utf8').split('\n').filter(Boolean);
    for (const l of lines) {
      const d = core.decodeIp(hex(l));
      t.equal(d.drop, 'none', `${f}: valid`);
      t.equal(d.ttl, 255);
      t.match(d, expect[f] ?? {}, `${f}: fields`);
    }
  }
});

t.test('re-encoding a keepalived advert gives the same VRRP bytes', async (t) => {
  for (const f of captures) {
    const pkt = hex(readFileSync(new URL(f, golden), 'utf8').split('\n')[0]);
    const d = core.decodeIp(pkt);
    const again = core.encode({
      version: d.version as 2 | 3, family: d.family, vrid: d.vrid, priority: d.priority,
      advertInterval: d.advertInterval, addresses: d.addresses, source: d.source, destination: d.destination,
      authType: d.authType, authData: d.authData,
    });
    const ihl = d.family === 6 ? 40 : (pkt[0] & 0xf) * 4;
    t.same(Buffer.from(again).toString('hex'), Buffer.from(pkt.subarray(ihl, ihl + d.length)).toString('hex'), f);
  }
});

t.test('pcap and pcapng captures read back', async (t) => {
  for (const f of readdirSync(golden).filter((x) => x.endsWith('.pcap'))) {
    const pkts = readPcap(readFileSync(new URL(f, golden)), f);
    t.ok(pkts.length >= 1, `${f}: packets`);
    for (const p of pkts) t.equal(core.decodeIp(p.ip!).drop, 'none', `${f} frame ${p.index}`);
  }
});

t.test('tshark decodes every advert and frame the core encodes, with no warnings', { skip: needTools('tshark') ?? false }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-codec-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const mk = (p: Parameters<Core['encode']>[0]) => core.encode({ ...p, ipHeader: true });
  const adverts = [
    mk({ version: 3, family: 4, vrid: 1, priority: 100, advertInterval: 1, addresses: ['192.0.2.10'], source: '192.0.2.1', destination: '224.0.0.18' }),
    mk({ version: 3, family: 4, vrid: 255, priority: 255, advertInterval: 4095, addresses: ['192.0.2.10', '198.51.100.1', '203.0.113.9'], source: '192.0.2.1', destination: '192.0.2.2' }),
    mk({ version: 3, family: 6, vrid: 7, priority: 0, advertInterval: 100, addresses: ['2001:db8::1', '2001:db8::2'], source: 'fe80::1', destination: 'ff02::12' }),
    mk({ version: 2, family: 4, vrid: 9, priority: 200, advertInterval: 1, addresses: ['192.0.2.10'], source: '192.0.2.1', destination: '224.0.0.18' }),
    mk({ version: 2, family: 4, vrid: 9, priority: 200, advertInterval: 3, addresses: ['192.0.2.10'], source: '192.0.2.1', destination: '224.0.0.18', authType: 1, authData: 'secret12' }),
  ];
  writeFileSync(join(dir, 'adverts.pcap'), writePcap(adverts));
  const mac = Uint8Array.of(0, 0, 0x5e, 0, 1, 51);
  writeFileSync(join(dir, 'frames.pcap'), writePcap([core.garp(mac, '192.0.2.100'), core.na(mac, 'fe80::1', '2001:db8::100', true)], 1));
  for (const f of ['adverts.pcap', 'frames.pcap']) {
    const r = spawnSync('tshark', ['-r', join(dir, f), '-o', 'ip.check_checksum:TRUE', '-V'], { encoding: 'utf8' });
    t.equal(r.status, 0, `${f}: tshark ran`);
    t.notMatch(r.stdout, /Malformed|\[incorrect|Bad\]|Expert Info \((Warning|Error)/, `${f}: no malformed or bad checksums`);
    const good = (r.stdout.match(/\[Checksum Status: Good\]/g) ?? []).length;
    t.equal(good, f === 'adverts.pcap' ? adverts.length : 1, `${f}: every checksum tshark checks is good`);
    if (f === 'frames.pcap') {
      t.match(r.stdout, /\[Is gratuitous: True\]/);
      t.match(r.stdout, /Neighbor Advertisement/);
      t.match(r.stdout, /Override/);
    }
  }
  const hdr = spawnSync('tshark', ['-r', join(dir, 'adverts.pcap'), '-o', 'ip.check_checksum:TRUE', '-T', 'fields', '-e', 'ip.checksum.status'], { encoding: 'utf8' });
  // Wireshark's checksum status: 1 = good, 0 = bad, 2 = unverified. The IPv6 advert has none.
  t.same(hdr.stdout.trim().split('\n').filter(Boolean), ['1', '1', '1', '1'], 'IPv4 header checksums good');
});

// One packet per drop reason, each built by damaging a valid one.
t.test('every form drop has a named reason', async (t) => {
  const base = () => core.encode({ version: 3, family: 4, vrid: 1, priority: 100, advertInterval: 1, addresses: ['192.0.2.10'], source: '192.0.2.1', destination: '224.0.0.18', ipHeader: true });
  const v2 = () => core.encode({ version: 2, family: 4, vrid: 1, priority: 100, advertInterval: 1, addresses: ['192.0.2.10'], source: '192.0.2.1', destination: '224.0.0.18', ipHeader: true });
  // Fix the IPv4 header checksum after editing the header, so only the intended check fails.
  const fixIp = (p: Uint8Array) => {
    p[10] = 0; p[11] = 0;
    let s = 0;
    for (let i = 0; i < 20; i += 2) s += (p[i] << 8) | p[i + 1];
    while (s > 0xffff) s = (s & 0xffff) + (s >> 16);
    const c = ~s & 0xffff; p[10] = c >> 8; p[11] = c & 0xff;
    return p;
  };
  // Re-checksum the VRRP part (v2 style: no pseudo-header) after editing it.
  const fixV2 = (p: Uint8Array) => {
    p[26] = 0; p[27] = 0;
    let s = 0;
    for (let i = 20; i < p.length; i += 2) s += (p[i] << 8) | (p[i + 1] ?? 0);
    while (s > 0xffff) s = (s & 0xffff) + (s >> 16);
    const c = ~s & 0xffff; p[26] = c >> 8; p[27] = c & 0xff;
    return p;
  };
  const cases: [string, Uint8Array][] = [
    ['truncated', base().subarray(0, 10)],
    ['ip_version', (() => { const p = base(); p[0] = 0x55; return p; })()],
    ['ip_header', (() => { const p = base(); p[10] ^= 1; return p; })()],
    ['ip_proto', (() => { const p = base(); p[9] = 17; return fixIp(p); })()],
    ['ttl', (() => { const p = base(); p[8] = 64; return fixIp(p); })()],
    ['version', (() => { const p = v2(); p[20] = 0x41; return fixV2(p); })()],
    ['type', (() => { const p = v2(); p[20] = 0x22; return fixV2(p); })()],
    ['length', (() => { const p = v2(); p[23] = 3; return fixV2(p); })()],
    ['no_addresses', (() => { const p = v2(); p[23] = 0; return fixV2(p); })()],
    ['checksum', (() => { const p = base(); p[22] ^= 1; return p; })()],
    ['auth_ah', (() => { const p = v2(); p[24] = 2; return fixV2(p); })()],
    ['auth_unknown', (() => { const p = v2(); p[24] = 7; return fixV2(p); })()],
  ];
  for (const [reason, pkt] of cases) t.equal(core.decodeIp(pkt).drop, reason, reason);
  // v2 over IPv6: build a v3 IPv6 packet and relabel it.
  const six = core.encode({ version: 3, family: 6, vrid: 1, priority: 100, advertInterval: 1, addresses: ['2001:db8::1'], source: 'fe80::1', destination: 'ff02::12', ipHeader: true });
  six[40] = 0x21;
  t.equal(core.decodeIp(six).drop, 'family');
  t.equal(core.decodeIp(new Uint8Array(0)).drop, 'truncated', 'empty input');
  t.equal(core.decodeIp(new Uint8Array(5000).fill(0x45)).valid, false, 'oversized input is cut, not overrun');
});
