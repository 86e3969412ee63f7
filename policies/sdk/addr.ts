// IP addresses in one canonical text form (dotted quad; RFC 5952 for IPv6), so "2001:DB8::0:1"
// in a config matches the "2001:db8::1" a resolver prints.
import { parseDecimal } from "./args";

/** The canonical form of an IPv4 address, or null when `s` is not one. */
export function canonicalIPv4(s: string): string | null {
  const parts = s.split(".");
  if (parts.length != 4) return null;
  for (let i = 0; i < 4; i++) {
    const n = parseDecimal(parts[i]);
    if (n < 0 || n > 255 || parts[i].length > 3) return null;
    parts[i] = n.toString();
  }
  return parts.join(".");
}

/** The canonical (RFC 5952) form of an IPv6 address, or null when `s` is not one. */
export function canonicalIPv6(s: string): string | null {
  const g = new Array<i32>(8);
  const halves = s.toLowerCase().split("::");
  if (halves.length > 2) return null;
  const head = groups(halves[0]), tail = halves.length == 2 ? groups(halves[1]) : new Array<i32>(0);
  if (head === null || tail === null) return null;
  const n = head.length + tail.length;
  if (halves.length == 2 ? n > 7 : n != 8) return null;
  for (let i = 0; i < head.length; i++) g[i] = head[i];
  for (let i = 0; i < tail.length; i++) g[8 - tail.length + i] = tail[i];
  // The longest run of two or more zero groups becomes "::" (the first one on a tie).
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] != 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] == 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (i == best) { out += "::"; i += bestLen - 1; continue; }
    if (out.length && !out.endsWith(":")) out += ":";
    out += g[i].toString(16);
  }
  return out;
}

/** An address of either family in canonical form, or null. */
export function canonicalIP(s: string): string | null {
  const v4 = canonicalIPv4(s);
  return v4 !== null ? v4 : canonicalIPv6(s);
}

// "a:b:c" (possibly ending in a dotted quad) as 16-bit groups; null when malformed.
function groups(s: string): i32[] | null {
  const out = new Array<i32>(0);
  if (s.length == 0) return out;
  const parts = s.split(":");
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (i == parts.length - 1 && p.includes(".")) {
      const v4 = canonicalIPv4(p);
      if (v4 === null) return null;
      const b = v4.split(".");
      out.push(<i32>(parseDecimal(b[0]) << 8 | parseDecimal(b[1])));
      out.push(<i32>(parseDecimal(b[2]) << 8 | parseDecimal(b[3])));
      continue;
    }
    if (p.length == 0 || p.length > 4) return null;
    let v = 0;
    for (let k = 0; k < p.length; k++) {
      const c = p.charCodeAt(k);
      const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
      if (d < 0) return null;
      v = v * 16 + d;
    }
    out.push(v);
  }
  return out;
}
