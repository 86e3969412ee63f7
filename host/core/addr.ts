// vigil's one address module: the text forms, one Family, one familyOf, one parse and one format.
// The core sees addresses as 16-byte slots, IPv4 in the first four bytes; the kernel's structs
// (host/net/sockaddr.ts) take 4 or 16 bytes (addressBytes). Pure: the core and the engine load it.
//
// Builtins, where a module needs one, through process.getBuiltinModule, not an ES import, which
// reads every export of the builtin, lazy getters included (node:fs's promises and the like):
// ~3 MB of the engine's RSS.

import { VigilError } from '../errors.ts';

export type Family = 4 | 6;

// Text that is not an IPv4 or IPv6 address where one was required.
export class AddressError extends VigilError {
  constructor(text: string) { super('VIGIL_EADDRESS', `not an IP address: ${JSON.stringify(text)}`); }
}

// Hand-written, not node:net's isIPv4 / isIPv6: those are regular expressions, IPv6's built of
// dozens of alternatives, and compiling it at first use took ~13 ms here, on the way of every
// start (the supervisor's parse) and of `vigil check`. The same language as node:net's:
// test/core/addr.test.ts holds them to it.

/** Dotted quad, each part 0-255 in decimal without leading zeros (as node:net's isIPv4). */
export function isIPv4(s: string): boolean {
  let i = 0;
  for (let part = 0; ; part++) {
    const start = i;
    let v = 0;
    while (i < s.length && i - start < 3) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
      i++;
    }
    if (i === start || (i - start > 1 && s.charCodeAt(start) === 48) || v > 255) return false;
    if (part === 3) return i === s.length;
    if (s.charCodeAt(i) !== 46) return false;
    i++;
  }
}

const hexGroup = (g: string) => g.length >= 1 && g.length <= 4 && /^[0-9a-fA-F]+$/.test(g);
// Groups of a run with no '::' in it; a dotted quad may end the address and counts two.
function groups(run: string, last: boolean): number {
  if (run === '') return 0;
  const parts = run.split(':');
  let n = 0;
  for (let k = 0; k < parts.length; k++) {
    if (hexGroup(parts[k]!)) n++;
    else if (last && k === parts.length - 1 && isIPv4(parts[k]!)) n += 2;
    else return -1;
  }
  return n;
}

/** RFC 4291 §2.2 text, an optional zone (%eth0) after it (as node:net's isIPv6). */
export function isIPv6(s: string): boolean {
  const pct = s.indexOf('%');
  if (pct >= 0 && !/^[0-9a-zA-Z\-.:]+$/.test(s.slice(pct + 1))) return false;
  const a = pct >= 0 ? s.slice(0, pct) : s;
  const gap = a.indexOf('::');
  if (gap < 0) return groups(a, true) === 8;
  if (a.indexOf('::', gap + 1) >= 0) return false;
  const head = groups(a.slice(0, gap), false), tail = groups(a.slice(gap + 2), true);
  return head >= 0 && tail >= 0 && head + tail <= 7;
}

/** 4, 6, or 0 when the text is not an address (a test, never a throw: parseAddress throws). */
export function familyOf(text: string): Family | 0 {
  return isIPv4(text) ? 4 : isIPv6(text) ? 6 : 0;
}

/** The address into a 16-byte slot at `at` (IPv4 in its first four bytes, the rest zero). */
export function parseAddress(text: string, into: Uint8Array = new Uint8Array(16), at = 0): Uint8Array {
  into.fill(0, at, at + 16);
  if (isIPv4(text)) {
    const parts = text.split('.');
    for (let i = 0; i < 4; i++) into[at + i] = Number(parts[i]);
    return into;
  }
  if (!isIPv6(text)) throw new AddressError(text);
  let s = text;
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  // A trailing dotted quad (::ffff:192.0.2.1) becomes two groups.
  const dot = s.lastIndexOf('.');
  if (dot >= 0) {
    const colon = s.lastIndexOf(':');
    const v4 = s.slice(colon + 1).split('.').map(Number);
    s = s.slice(0, colon + 1) + ((v4[0] << 8) | v4[1]).toString(16) + ':' + ((v4[2] << 8) | v4[3]).toString(16);
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  for (let i = 0; i < 8; i++) {
    const g = parseInt(groups[i], 16);
    into[at + 2 * i] = g >> 8;
    into[at + 2 * i + 1] = g & 0xff;
  }
  return into;
}

/** inet_pton: 4 or 16 bytes, as the kernel's structs hold it. */
export function addressBytes(text: string): Uint8Array {
  const b = parseAddress(text);
  return isIPv4(text) ? b.subarray(0, 4) : b;
}

/** inet_ntop, RFC 5952 for IPv6: the family's bytes at `at`. */
export function formatAddress(bytes: Uint8Array, family: Family, at = 0): string {
  if (family === 4) return `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((bytes[at + 2 * i] << 8) | bytes[at + 2 * i + 1]);
  // RFC 5952 §4.2: compress the longest run (of two or more) of zero groups, the first if tied.
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export function isLinkLocal6(b: Uint8Array, at = 0): boolean {
  return b.length - at >= 16 && b[at] === 0xfe && (b[at + 1]! & 0xc0) === 0x80;
}

/** host:port, an IPv6 host in brackets ([::1]:9110). */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
