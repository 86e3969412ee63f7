// Minimal frame builders for the net tests: in production the core builds these; the host
// layer only moves bytes, so the tests build their own to prove exactly that.
import { parseMac } from '../../host/net/sockaddr.ts';
import { addressBytes as parseIp } from '../../host/core/addr.ts';

const BROADCAST = 'ff:ff:ff:ff:ff:ff';

/** RFC 1071 ones' complement sum over the chunks, folded. */
export function inetChecksum(...chunks: Uint8Array[]): number {
  let sum = 0;
  for (const c of chunks) {
    for (let i = 0; i + 1 < c.length; i += 2) sum += (c[i]! << 8) | c[i + 1]!;
    if (c.length & 1) sum += c[c.length - 1]! << 8;
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function pseudo(src: string, dst: string, len: number, proto: number): Uint8Array {
  const s = parseIp(src);
  const d = parseIp(dst);
  if (s.length === 4) {
    return Uint8Array.of(...s, ...d, 0, proto, len >> 8, len & 0xff);
  }
  return Uint8Array.of(...s, ...d, 0, 0, len >> 8, len & 0xff, 0, 0, 0, proto);
}

/** Gratuitous ARP request (sender IP = target IP = vip), RFC 5227 / keepalived style. */
export function garp(mac: string, vip: string): Uint8Array {
  const m = parseMac(mac);
  const ip = parseIp(vip);
  return Uint8Array.of(
    ...parseMac(BROADCAST), ...m, 0x08, 0x06,
    0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01, // Ethernet/IPv4, request
    ...m, ...ip,
    0, 0, 0, 0, 0, 0, ...ip,
  );
}

/** Unsolicited Neighbor Advertisement (RFC 4861 7.2.6): to ff02::1, Override set, TLLA option. */
export function unsolicitedNa(mac: string, src: string, vip: string, router = true): Uint8Array {
  const m = parseMac(mac);
  const dst = 'ff02::1';
  const icmp = Uint8Array.of(
    136, 0, 0, 0,
    (router ? 0x80 : 0) | 0x20, 0, 0, 0, // R, O
    ...parseIp(vip),
    2, 1, ...m, // target link-layer address
  );
  const ck = inetChecksum(pseudo(src, dst, icmp.length, 58), icmp);
  icmp[2] = ck >> 8;
  icmp[3] = ck & 0xff;
  const ip6 = Uint8Array.of(0x60, 0, 0, 0, icmp.length >> 8, icmp.length & 0xff, 58, 255, ...parseIp(src), ...parseIp(dst));
  return Uint8Array.of(0x33, 0x33, 0, 0, 0, 1, ...m, 0x86, 0xdd, ...ip6, ...icmp);
}

/** VRRPv3 advertisement (RFC 5798 5.2) with its checksum over the pseudo-header. */
export function vrrp3(o: { vrid: number; priority: number; intervalCs: number; vips: string[]; src: string; dst: string }): Uint8Array {
  const addrs = o.vips.flatMap((v) => [...parseIp(v)]);
  const p = Uint8Array.of(0x31, o.vrid, o.priority, o.vips.length, (o.intervalCs >> 8) & 0x0f, o.intervalCs & 0xff, 0, 0, ...addrs);
  const ck = inetChecksum(pseudo(o.src, o.dst, p.length, 112), p);
  p[6] = ck >> 8;
  p[7] = ck & 0xff;
  return p;
}

export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
export const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
