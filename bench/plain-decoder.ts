// The VRRP decoder of core-wasm/assembly/codec.ts (decodeIpPacket + decodeVrrp), written in plain
// TypeScript over a Uint8Array: the baseline the benchmark holds the WASM core against.
//
// Same checks, same order, same drop codes (core-wasm/assembly/codes.ts), same fields as the
// core's infoBuf — into a preallocated PlainInfo, so decoding a packet allocates nothing.
// bench/core.ts decodes valid, corrupted and randomly mutated packets with both decoders and
// asserts they agree field by field.
//
// One deliberate difference: the v3 pseudo-header sum here keeps every carry (RFC 1071). The
// core adds the packet length and protocol to a folded 32-bit sum in u32 arithmetic
// (core-wasm/assembly/checksum.ts pseudoHeaderSum), which drops a carry when the folded address
// sum is within (length + 112) of 2^32; the self-check shows that case separately.

// Drop codes: core-wasm/assembly/codes.ts (names: host/core/codes.ts DROP_REASONS).
export const DROP_NONE = 0;
export const DROP_TRUNCATED = 1;
export const DROP_IP_VERSION = 2;
export const DROP_IP_HEADER = 3;
export const DROP_IP_PROTO = 4;
export const DROP_TTL = 5;
export const DROP_VERSION = 6;
export const DROP_TYPE = 7;
export const DROP_FAMILY = 8;
export const DROP_LENGTH = 9;
export const DROP_NO_ADDRESSES = 10;
export const DROP_CHECKSUM = 11;
export const DROP_AUTH_AH = 12;
export const DROP_AUTH_UNKNOWN = 13;

export const IPPROTO_VRRP = 112;
const VRRP_TYPE_ADVERTISEMENT = 1;
const HEADER_LEN = 8;
const V2_AUTH_LEN = 8;
const MAX_PACKET = 4096;          // the core's IN_SIZE: longer lengths decode as 0 bytes

// The decoded fields: the core's infoBuf (core-wasm/assembly/layout.ts INFO_*), one to one.
export class PlainInfo {
  version = 0;
  type = 0;
  vrid = 0;
  priority = 0;
  count = 0;
  authType = 0;
  family = 0;
  ttl = 0;
  advertInt = 0;
  checksum = 0;
  checksumOk = 0;
  drop = 0;
  ipProto = 0;
  vrrpOff = 0;
  vrrpLen = 0;
  addrOff = 0;
  authOff = 0;
  // Source and destination share one 32-byte block so clearing them is eight word stores
  // (TypedArray#fill is a C++ builtin: ~40 ns a call, more than the rest of the decode).
  readonly addrWords = new Uint32Array(8);
  readonly src = new Uint8Array(this.addrWords.buffer, 0, 16);
  readonly dst = new Uint8Array(this.addrWords.buffer, 16, 16);

  clear(): void {
    this.clearFields();
    this.family = 0; this.ttl = 0; this.ipProto = 0;
    const w = this.addrWords;
    w[0] = 0; w[1] = 0; w[2] = 0; w[3] = 0; w[4] = 0; w[5] = 0; w[6] = 0; w[7] = 0;
  }

  // What decodeVrrp clears: everything but the carrier (family, TTL, protocol, addresses).
  clearFields(): void {
    this.version = 0; this.type = 0; this.vrid = 0; this.priority = 0; this.count = 0;
    this.authType = 0; this.advertInt = 0; this.checksum = 0; this.checksumOk = 0; this.drop = 0;
    this.vrrpOff = 0; this.vrrpLen = 0; this.addrOff = 0; this.authOff = 0;
  }
}

// A DataView over the buffer being decoded, made again only when the buffer changes: a host
// decodes out of one receive buffer, so this allocates once, not per packet.
let viewOf: Uint8Array | null = null;
let view: DataView = new DataView(new ArrayBuffer(0));
function viewFor(b: Uint8Array): DataView {
  if (b !== viewOf) { view = new DataView(b.buffer, b.byteOffset, b.byteLength); viewOf = b; }
  return view;
}

// One's-complement sum of big-endian 16-bit words of b[off, off + len), added to acc: 32 bits
// at a time, each added as its two halves, so acc stays a small integer (< 2^30 for 4 KiB).
function sum16(b: Uint8Array, off: number, len: number, acc: number): number {
  const dv = viewFor(b);
  const end = off + len;
  let i = off;
  for (; i + 4 <= end; i += 4) {
    const w = dv.getUint32(i);
    acc += (w >>> 16) + (w & 0xffff);
  }
  if (i + 2 <= end) { acc += dv.getUint16(i); i += 2; }
  if (i < end) acc += b[i] << 8;
  return acc;
}

// The same over a small address (4 or 16 bytes), byte by byte: no view needed.
function sumAddr(a: Uint8Array, n: number, acc: number): number {
  for (let i = 0; i < n; i += 2) acc += (a[i] << 8) | a[i + 1];
  return acc;
}

function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  return ~acc & 0xffff;
}

// Addresses go into PlainInfo's word block as they lie in the packet (little-endian words
// read little-endian keep the byte order).
function copyAddr(r: PlainInfo, to: number, dv: DataView, at: number, words: number): void {
  const w = r.addrWords;
  for (let i = 0; i < words; i++) w[to + i] = dv.getUint32(at + 4 * i, true);
}

function drop(r: PlainInfo, reason: number): number {
  r.drop = reason;
  return reason;
}

// An IPv4 or IPv6 packet in b[0, len): fills family, TTL, source and destination, then decodes
// the VRRP message it carries. Returns the drop reason (0 = valid); fields in r.
export function decodeIp(b: Uint8Array, len: number, r: PlainInfo): number {
  if (len < 0 || len > MAX_PACKET) len = 0;
  if (len > b.length) len = b.length;
  r.clear();
  if (len < 1) return drop(r, DROP_TRUNCATED);
  const ver = b[0] >> 4;
  if (ver === 4) {
    if (len < 20) return drop(r, DROP_TRUNCATED);
    const ihl = (b[0] & 0xf) * 4;
    const total = (b[2] << 8) | b[3];
    if (ihl < 20 || total < ihl || total > len) return drop(r, DROP_IP_HEADER);
    const headerOk = fold(sum16(b, 0, ihl, 0)) === 0;
    r.family = 4;
    r.ttl = b[8];
    r.ipProto = b[9];
    const src = r.src, dst = r.dst;
    src[0] = b[12]; src[1] = b[13]; src[2] = b[14]; src[3] = b[15];
    dst[0] = b[16]; dst[1] = b[17]; dst[2] = b[18]; dst[3] = b[19];
    // Fragments cannot be reassembled and VRRP never fragments (DF is fine).
    if ((((b[6] << 8) | b[7]) & 0x3fff) !== 0) return drop(r, DROP_IP_HEADER);
    if (b[9] !== IPPROTO_VRRP) return drop(r, headerOk ? DROP_IP_PROTO : DROP_IP_HEADER);
    // A bad header checksum still drops the packet, but the fields are decoded for the report.
    const reason = decodeVrrp(b, ihl, total - ihl, r);
    return headerOk ? reason : drop(r, DROP_IP_HEADER);
  }
  if (ver === 6) {
    if (len < 40) return drop(r, DROP_TRUNCATED);
    const payload = (b[4] << 8) | b[5];
    if (40 + payload > len) return drop(r, DROP_IP_HEADER);
    r.family = 6;
    r.ttl = b[7];
    r.ipProto = b[6];
    const dv = viewFor(b);
    copyAddr(r, 0, dv, 8, 4);
    copyAddr(r, 4, dv, 24, 4);
    // VRRP is sent without extension headers; anything else is refused, not walked.
    if (b[6] !== IPPROTO_VRRP) return drop(r, DROP_IP_PROTO);
    return decodeVrrp(b, 40, payload, r);
  }
  return drop(r, DROP_IP_VERSION);
}

// A VRRP message at b[off, off + len). The carrier's family, TTL, source and destination are
// already in r (decodeIp put them there, or the caller for a bare IPv6 payload).
export function decodeVrrp(b: Uint8Array, off: number, len: number, r: PlainInfo): number {
  r.clearFields();
  r.vrrpOff = off;
  r.vrrpLen = len;
  const family = r.family;
  if (len < HEADER_LEN) return drop(r, DROP_TRUNCATED);
  const b0 = b[off];
  const version = b0 >> 4;
  const type = b0 & 0xf;
  const count = b[off + 3];
  r.version = version;
  r.type = type;
  r.vrid = b[off + 1];
  r.priority = b[off + 2];
  r.count = count;
  r.checksum = (b[off + 6] << 8) | b[off + 7];
  r.addrOff = off + HEADER_LEN;
  if (version === 2) {
    r.authType = b[off + 4];
    r.advertInt = b[off + 5];
  } else if (version === 3) {
    r.advertInt = ((b[off + 4] << 8) | b[off + 5]) & 0x0fff;
  }
  // Checksum first, so the result reports its validity whatever else is wrong.
  const alen = family === 6 ? 16 : 4;
  let acc = 0;
  if (version === 3) {
    // RFC 5798 §5.2.8: pseudo-header (RFC 2460 §8.1 / the TCP-style IPv4 one), protocol 112.
    acc = sumAddr(r.src, alen, 0);
    acc = sumAddr(r.dst, alen, acc);
    acc += len + IPPROTO_VRRP;
  }
  const ok = fold(sum16(b, off, len, acc)) === 0 ? 1 : 0;
  r.checksumOk = ok;
  // RFC 5798 §7.1 order: TTL, version, checksum, length; VRID and interval are the FSM's.
  if (r.ttl !== 255) return drop(r, DROP_TTL);
  if (version !== 2 && version !== 3) return drop(r, DROP_VERSION);
  if (type !== VRRP_TYPE_ADVERTISEMENT) return drop(r, DROP_TYPE);
  if (version === 2 && family === 6) return drop(r, DROP_FAMILY);
  if (count === 0) return drop(r, DROP_NO_ADDRESSES);
  if (len < HEADER_LEN + count * alen + (version === 2 ? V2_AUTH_LEN : 0)) return drop(r, DROP_LENGTH);
  if (ok === 0) return drop(r, DROP_CHECKSUM);
  if (version === 2) {
    r.authOff = off + HEADER_LEN + count * alen;
    const auth = b[off + 4];
    if (auth === 2) return drop(r, DROP_AUTH_AH);
    if (auth > 2) return drop(r, DROP_AUTH_UNKNOWN);
  }
  return drop(r, DROP_NONE);
}

// The Internet checksum of b[off, off + len) after an optional pseudo-header sum: what goes in
// the field (compute with the field zeroed). Used by the self-check to build packets.
export function internetChecksum(b: Uint8Array, off: number, len: number, acc = 0): number {
  return fold(sum16(b, off, len, acc));
}

export function pseudoHeaderSum(family: 4 | 6, src: Uint8Array, dst: Uint8Array, len: number): number {
  const alen = family === 6 ? 16 : 4;
  return sumAddr(dst, alen, sumAddr(src, alen, 0)) + len + IPPROTO_VRRP;
}
