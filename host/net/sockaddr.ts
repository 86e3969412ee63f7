// The sockaddr layouts the shim passes to the kernel verbatim, and MAC text. Building sockaddrs
// here keeps C free of address families; they are built once per peer, never per packet.
// Address text is host/core/addr.ts's, the one address module.
// process.getBuiltinModule, not import: the engine loads this (see host/core/addr.ts).
const { endianness } = process.getBuiltinModule('node:os');
import { K } from './shim.ts';
import { addressBytes, familyOf, type Family } from '../core/addr.ts';
import { NetError } from './errors.ts';

const LE = endianness() === 'LE';

function header(len: number, family: number): { buf: Uint8Array; dv: DataView } {
  const buf = new Uint8Array(len);
  const dv = new DataView(buf.buffer);
  dv.setUint16(0, family, LE); // sa_family_t is host order
  return { buf, dv };
}

/** struct sockaddr_in (16 bytes); raw sockets carry no port (0). */
export function sockaddrIn(ip: string | Uint8Array, port = 0): Uint8Array {
  const { buf, dv } = header(16, K('AF_INET'));
  dv.setUint16(2, port, false);   // sin_port is network order
  buf.set(typeof ip === 'string' ? addressBytes(ip) : ip, 4);
  return buf;
}

/** struct sockaddr_in6 (28 bytes); scope id = ifindex for link-local. */
export function sockaddrIn6(ip: string | Uint8Array, scopeId = 0, port = 0): Uint8Array {
  const { buf, dv } = header(28, K('AF_INET6'));
  dv.setUint16(2, port, false);   // sin6_port is network order
  buf.set(typeof ip === 'string' ? addressBytes(ip) : ip, 8);
  dv.setUint32(24, scopeId, LE);
  return buf;
}

export function sockaddrIp(ip: string, scopeId = 0, port = 0): Uint8Array {
  return familyOf(ip) === 4 ? sockaddrIn(ip, port) : sockaddrIn6(ip, scopeId, port);
}

/** struct sockaddr_ll (20 bytes) for sending frames out of ifindex. */
export function sockaddrLl(ifindex: number, ethertype: number, dstMac?: Uint8Array): Uint8Array {
  const { buf, dv } = header(20, K('AF_PACKET'));
  dv.setUint16(2, ethertype, false); // sll_protocol is network order
  dv.setInt32(4, ifindex, LE);
  if (dstMac) {
    buf[11] = dstMac.length;
    buf.set(dstMac, 12);
  }
  return buf;
}

/** struct sockaddr_nl (12 bytes). */
export function sockaddrNl(pid = 0, groups = 0): Uint8Array {
  const { dv, buf } = header(12, K('AF_NETLINK'));
  dv.setUint32(4, pid, LE);
  dv.setUint32(8, groups, LE);
  return buf;
}

/** Offset of the address inside a sockaddr_in / sockaddr_in6 the kernel wrote. */
export function sockaddrAddrOffset(family: Family): number {
  return family === 4 ? 4 : 8;
}

export function parseMac(mac: string): Uint8Array {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-f]{1,2}$/i.test(p))) throw new NetError(`not a MAC address: ${JSON.stringify(mac)}`, 'VIGIL_EMAC');
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}

export function formatMac(b: Uint8Array, off = 0): string {
  return Array.from(b.subarray(off, off + 6), (x) => x.toString(16).padStart(2, '0')).join(':');
}

export const hostLittleEndian = LE;
