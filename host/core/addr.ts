// IP addresses as the core sees them: 16-byte slots, IPv4 in the first four bytes.
// Builtins through process.getBuiltinModule, not an ES import, which reads every export of the
// builtin, lazy getters included (node:fs's promises and the like): ~3 MB of the engine's RSS.
const { isIPv4, isIPv6 } = process.getBuiltinModule('node:net');

export type Family = 4 | 6;

export function familyOf(text: string): Family | 0 {
  return isIPv4(text) ? 4 : isIPv6(text) ? 6 : 0;
}

export function parseAddress(text: string, into: Uint8Array = new Uint8Array(16), at = 0): Uint8Array {
  into.fill(0, at, at + 16);
  if (isIPv4(text)) {
    const parts = text.split('.');
    for (let i = 0; i < 4; i++) into[at + i] = Number(parts[i]);
    return into;
  }
  if (!isIPv6(text)) throw new TypeError(`not an IP address: ${JSON.stringify(text)}`);
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
