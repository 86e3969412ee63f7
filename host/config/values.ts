// The value types of the file that are more than a number: names, interface names, IP
// addresses with prefixes, host:port. Each check returns the value or the reason it is wrong.
import { familyOf, formatAddress, formatHostPort, parseAddress, type Family } from '../core/addr.ts';
import type { BodyDigest } from './types.ts';

// Instance and sync-group names: bounded and plain (keepalived had a buffer overflow on an
// empty name in its config), since they end up in logs, metrics, file names and scripts.
export const NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;

export function nameProblem(label: string, name: string): string | undefined {
  if (name.length === 0) return `${label} is empty: give 1..64 letters, digits, "_", "." or "-", e.g. VI_1`;
  if (name.length > 64) return `${label} is ${name.length} characters long; at most 64`;
  const bad = /[^A-Za-z0-9_.-]/.exec(name);
  if (bad) return `${label} ${JSON.stringify(name)} has ${JSON.stringify(bad[0])}: use only letters, digits, "_", "." and "-"`;
  return undefined;
}

// Linux's dev_valid_name(): under IFNAMSIZ (16), no "/", ":" or white space, not "." or "..".
export const IFNAME_RE = /^(?!\.{1,2}$)[^/:\s]{1,15}$/;

export function ifnameProblem(label: string, name: string): string | undefined {
  if (IFNAME_RE.test(name)) return undefined;
  const why = name.length === 0 ? 'it is empty'
    : name.length > 15 ? `it is ${name.length} characters long; Linux allows 15`
    : name.includes(':') ? `":" makes it an address label, not an interface; write ${JSON.stringify(name.split(':')[0])}`
    : 'Linux interface names are 1..15 characters without "/", ":" or spaces';
  return `${label} ${JSON.stringify(name)} is not an interface name: ${why}`;
}

export interface Addr {
  address: string;        // canonical text
  family: Family;
  prefixLen: number | null;
  bytes: Uint8Array;
}

// "192.0.2.100", "192.0.2.100/24", "2001:db8::1/64". The reason it is not one, as a string.
export function parseAddr(text: string, prefix: 'allowed' | 'refused'): Addr | string {
  const q = JSON.stringify(text);
  const slash = text.indexOf('/');
  const host = slash < 0 ? text : text.slice(0, slash);
  if (host.includes('%')) return `${q} has a zone ("%"): leave it out, the instance's interface is the zone`;
  const family = familyOf(host);
  if (family === 0) return `${q} is not an IP address`;
  let prefixLen: number | null = null;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    const max = family === 4 ? 32 : 128;
    if (prefix === 'refused') return `${q} takes no prefix: write ${host}`;
    if (!/^\d{1,3}$/.test(p) || Number(p) < 1 || Number(p) > max) return `${q} has a bad prefix length: write /1../${max}, or leave it out for /${max}`;
    prefixLen = Number(p);
  }
  const bytes = parseAddress(host);
  return { address: formatAddress(bytes, family), family, prefixLen, bytes };
}

// Addresses that cannot be a virtual address or a peer.
export function specialAddress(a: Addr): string | undefined {
  const b = a.bytes;
  if (a.family === 4) {
    if (b[0] === 0) return 'in 0.0.0.0/8 ("this network")';
    if (b[0] === 127) return 'a loopback address';
    if (b[0] >= 224 && b[0] < 240) return 'a multicast address';
    if (b[0] >= 240) return b.subarray(0, 4).every((x) => x === 255) ? 'the broadcast address' : 'in the reserved 240.0.0.0/4';
    return undefined;
  }
  if (b.every((x) => x === 0)) return 'the unspecified address';
  if (b.subarray(0, 15).every((x) => x === 0) && b[15] === 1) return 'the loopback address';
  if (b[0] === 0xff) return 'a multicast address';
  return undefined;
}

// An IPv4 address that is the network or broadcast address of its own prefix (up to /30).
export function hostBitsProblem(a: Addr): string | undefined {
  if (a.family !== 4 || a.prefixLen === null || a.prefixLen > 30) return undefined;
  const n = ((a.bytes[0] << 24) | (a.bytes[1] << 16) | (a.bytes[2] << 8) | a.bytes[3]) >>> 0;
  const hostMask = (2 ** (32 - a.prefixLen)) - 1;
  if ((n & hostMask) === 0) return `${a.address}/${a.prefixLen} is the network address of its prefix: give a host address`;
  if ((n & hostMask) >>> 0 === hostMask) return `${a.address}/${a.prefixLen} is the broadcast address of its prefix: give a host address`;
  return undefined;
}

export function isLoopback(a: Addr): boolean {
  return a.family === 4 ? a.bytes[0] === 127 : a.bytes.subarray(0, 15).every((x) => x === 0) && a.bytes[15] === 1;
}

// host:port for the status API: 127.0.0.1:9110, [::1]:9110, localhost:9110.
export function parseListen(text: string): { host: string; port: number; exposed: boolean } | string {
  const q = JSON.stringify(text);
  let host: string, port: string;
  const v6 = /^\[([^\]]*)\]:(\d+)$/.exec(text);
  if (v6) {
    [, host, port] = v6;
    const a = parseAddr(host, 'refused');
    if (typeof a === 'string' || a.family !== 6) return `${q}: "${host}" in brackets is not an IPv6 address`;
    host = a.address;
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return `${q} has no port: write host:port, e.g. 127.0.0.1:9110`;
    host = text.slice(0, colon);
    port = text.slice(colon + 1);
    if (familyOf(host) === 6 || familyOf(text) === 6) return `${q}: write an IPv6 address in brackets, e.g. [::1]:9110`;
    if (host !== 'localhost') {
      const a = parseAddr(host, 'refused');
      if (typeof a === 'string') return `${q}: the host must be an IPv4 address, [IPv6] or localhost (vigil resolves no names)`;
      host = a.address;
    }
  }
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) return `${q}: the port must be 1..65535`;
  const a = host === 'localhost' ? null : parseAddr(host, 'refused') as Addr;
  const exposed = a !== null && !isLoopback(a);
  return { host, port: Number(port), exposed };
}

export function formatListen(l: { host: string; port: number }): string {
  return formatHostPort(l.host, l.port);
}

// An HTTP body digest: "sha256:HEX", "md5:HEX", or bare HEX whose length says which (32 digits:
// MD5, keepalived's HTTP_GET `digest` as its genhash prints it, so it carries over; 64:
// SHA-256). Hex in either case, kept in lower case. Only checked here: the config code runs in
// the engine too, which must not load node:crypto; the checker hashes (host/checks/digest.ts).
const DIGEST_HEX: Record<BodyDigest['algorithm'], number> = { md5: 32, sha256: 64 };
const DIGEST_FIX = 'write sha256: and 64 hex digits, or md5: and 32 (a bare 32-digit value is MD5, as keepalived\'s genhash prints it)';

export function parseDigest(text: string): BodyDigest | string {
  const colon = text.indexOf(':');
  const named = colon >= 0 ? text.slice(0, colon) : undefined;
  const hex = colon >= 0 ? text.slice(colon + 1) : text;
  if (named !== undefined && named !== 'md5' && named !== 'sha256') {
    const lower = named.toLowerCase().replace('-', '');
    if (lower === 'md5' || lower === 'sha256') return `${JSON.stringify(text)}: write the algorithm as ${lower}:`;
    return `algorithm ${JSON.stringify(named)} is not supported: ${DIGEST_FIX}`;
  }
  const bad = /[^0-9A-Fa-f]/.exec(hex);
  if (bad) return `${JSON.stringify(text)} has ${JSON.stringify(bad[0])}, which is not a hex digit: ${DIGEST_FIX}`;
  const algorithm = named as BodyDigest['algorithm'] | undefined ?? (hex.length === 32 ? 'md5' : hex.length === 64 ? 'sha256' : undefined);
  if (algorithm === undefined) return `${JSON.stringify(text)} has ${hex.length} hex digits, which is neither MD5 (32) nor SHA-256 (64): ${DIGEST_FIX}`;
  if (hex.length !== DIGEST_HEX[algorithm]) return `${JSON.stringify(text)}: a ${algorithm} digest has ${DIGEST_HEX[algorithm]} hex digits, not ${hex.length}`;
  return { algorithm, hex: hex.toLowerCase() };
}

// A server as checks and pools write it: ADDRESS, ADDRESS:PORT, [IPv6] or [IPv6]:PORT (vigil
// resolves no names). With bareIPv6 an IPv6 address without brackets (and so without a port)
// is taken too; without, it is refused. The address canonical, the port 1..65535 when given.
export function parseAddrPort(text: string, bareIPv6: boolean): { addr: Addr; port: number | undefined; bracketed: boolean } | { problem: string } {
  const v6 = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  let host: string, port: string | undefined;
  if (v6) [, host, port] = v6;
  else if (text.split(':').length > 2) {
    if (!bareIPv6) return { problem: 'is an IPv6 address: write it in brackets, e.g. [2001:db8::10]:53' };
    [host, port] = [text, undefined];
  } else [host, port] = text.split(':') as [string, string | undefined];
  const addr = parseAddr(host, 'refused');
  if (typeof addr === 'string') return { problem: `names ${JSON.stringify(host)}, which is not an IP address (vigil resolves no names)` };
  if (port !== undefined && (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535)) return { problem: 'has a bad port: 1..65535' };
  return { addr, port: port === undefined ? undefined : Number(port), bracketed: v6 !== null };
}

// A pool's real server: ADDRESS, ADDRESS:PORT or [IPv6]:PORT (a bare IPv6 address has no
// port), canonical, as the load balancer will take it.
export function parseServer(text: string): string | { problem: string } {
  const r = parseAddrPort(text, true);
  if ('problem' in r) return /^names /.test(r.problem) ? { problem: `${r.problem}: write ADDRESS:PORT, e.g. 198.51.100.10:8080` } : r;
  if (r.bracketed && r.addr.family !== 6) return { problem: 'has an IPv4 address in brackets: write it without them' };
  return r.port === undefined ? r.addr.address : formatHostPort(r.addr.address, r.port);
}
