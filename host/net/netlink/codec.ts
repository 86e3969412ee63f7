// rtnetlink's message codec: the numbers (<linux/netlink.h>, <linux/rtnetlink.h>,
// <linux/if_addr.h>, <linux/if_link.h>), a message builder, and the message and attribute parsers.
import { hostLittleEndian as LE } from '../sockaddr.ts';
import type { Family } from '../../core/addr.ts';
import { K } from '../shim.ts';

export const NLMSG = { NOOP: 1, ERROR: 2, DONE: 3, OVERRUN: 4 } as const;
export const NLM_F = {
  REQUEST: 0x1, MULTI: 0x2, ACK: 0x4, DUMP_INTR: 0x10, DUMP: 0x300,
  REPLACE: 0x100, EXCL: 0x200, CREATE: 0x400, CAPPED: 0x100, ACK_TLVS: 0x200,
} as const;
export const RTM = {
  NEWLINK: 16, DELLINK: 17, GETLINK: 18, SETLINK: 19, NEWADDR: 20, DELADDR: 21, GETADDR: 22,
} as const;
export const RTMGRP = { LINK: 0x1, IPV4_IFADDR: 0x10, IPV6_IFADDR: 0x100 } as const;
export const IFLA = {
  ADDRESS: 1, IFNAME: 3, MTU: 4, LINK: 5, OPERSTATE: 16, LINKINFO: 18, AF_SPEC: 26,
  INFO_KIND: 1, INFO_DATA: 2, MACVLAN_MODE: 1, INET6_ADDR_GEN_MODE: 8,
} as const;
export const IFA = { ADDRESS: 1, LOCAL: 2, LABEL: 3, BROADCAST: 4, FLAGS: 8 } as const;
export const IFA_F = { SECONDARY: 0x01, NODAD: 0x02, DADFAILED: 0x08, TENTATIVE: 0x40, PERMANENT: 0x80 } as const;
export const IFF = { UP: 0x1, RUNNING: 0x40, LOWER_UP: 0x10000 } as const;
export const MACVLAN_MODE = { private: 1, vepa: 2, bridge: 4, passthru: 8 } as const;
export const OPERSTATES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'];

export const AF = (f: Family) => (f === 4 ? K('AF_INET') : K('AF_INET6'));

/** Appends one netlink message into a reusable buffer. Attributes pad to 4 bytes. */
export class NlBuilder {
  buf = new Uint8Array(4096);
  dv = new DataView(this.buf.buffer);
  pos = 0;

  constructor(type: number, flags: number) {
    this.u32(0).u16(type).u16(flags | NLM_F.REQUEST).u32(0).u32(0);
  }
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const b = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    b.set(this.buf);
    this.buf = b;
    this.dv = new DataView(b.buffer);
  }
  u8(v: number): this { this.room(1); this.dv.setUint8(this.pos, v); this.pos += 1; return this; }
  u16(v: number): this { this.room(2); this.dv.setUint16(this.pos, v, LE); this.pos += 2; return this; }
  u32(v: number): this { this.room(4); this.dv.setUint32(this.pos, v >>> 0, LE); this.pos += 4; return this; }
  i32(v: number): this { this.room(4); this.dv.setInt32(this.pos, v, LE); this.pos += 4; return this; }
  bytes(b: Uint8Array): this { this.room(b.length); this.buf.set(b, this.pos); this.pos += b.length; return this; }
  align(): this { while (this.pos & 3) this.u8(0); return this; }

  attr(type: number, data: Uint8Array): this {
    return this.u16(4 + data.length).u16(type).bytes(data).align();
  }
  attrU32(type: number, v: number): this {
    return this.u16(8).u16(type).u32(v);
  }
  attrU8(type: number, v: number): this {
    return this.u16(5).u16(type).u8(v).align();
  }
  attrStr(type: number, s: string): this {
    const b = new TextEncoder().encode(s);
    const z = new Uint8Array(b.length + 1);
    z.set(b);
    return this.attr(type, z);
  }
  /** Open a nested attribute; close it with end(). */
  nest(type: number): number {
    const at = this.pos;
    this.u16(0).u16(type);
    return at;
  }
  end(at: number): this {
    this.dv.setUint16(at, this.pos - at, LE);
    return this;
  }
  finish(seq: number): Uint8Array {
    this.dv.setUint32(0, this.pos, LE);
    this.dv.setUint32(8, seq, LE);
    return this.buf.subarray(0, this.pos);
  }
}
export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** the payload after the 16-byte header (a view, valid until the next receive) */
  data: Uint8Array;
}

export function* parseMessages(buf: Uint8Array, len: number): Generator<NlMessage> {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let off = 0; off + 16 <= len; ) {
    const mlen = dv.getUint32(off, LE);
    if (mlen < 16 || off + mlen > len) return;
    yield {
      type: dv.getUint16(off + 4, LE),
      flags: dv.getUint16(off + 6, LE),
      seq: dv.getUint32(off + 8, LE),
      pid: dv.getUint32(off + 12, LE),
      data: buf.subarray(off + 16, off + mlen),
    };
    off += (mlen + 3) & ~3;
  }
}

/** Attributes from `off` to the end of `b`, by type (nested types keep their own numbering). */
export function parseAttrs(b: Uint8Array, off = 0): Map<number, Uint8Array> {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const m = new Map<number, Uint8Array>();
  while (off + 4 <= b.length) {
    const len = dv.getUint16(off, LE);
    if (len < 4 || off + len > b.length) break;
    m.set(dv.getUint16(off + 2, LE) & 0x3fff, b.subarray(off + 4, off + len));
    off += (len + 3) & ~3;
  }
  return m;
}

/** An attribute's u32 (host order), or undefined when absent. */
export const readU32 = (b: Uint8Array | undefined) => (b ? new DataView(b.buffer, b.byteOffset, 4).getUint32(0, LE) : undefined);
/** An attribute's NUL-terminated string, or undefined when absent. */
export const readStr = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b.subarray(0, b.indexOf(0) < 0 ? b.length : b.indexOf(0))) : undefined);

export function errnoName(n: number): string {
  // The few the kernel returns to rtnetlink requests we make; the rest keep their number.
  const names: Record<number, string> = {
    1: 'EPERM', 2: 'ENOENT', 13: 'EACCES', 16: 'EBUSY', 17: 'EEXIST', 19: 'ENODEV', 22: 'EINVAL',
    95: 'EOPNOTSUPP', 97: 'EAFNOSUPPORT', 7: 'E2BIG', 28: 'ENOSPC', 52: 'EBADE', 61: 'ENODATA', 71: 'EPROTO', 99: 'EADDRNOTAVAIL', 105: 'ENOBUFS', 34: 'ERANGE', 12: 'ENOMEM',
  };
  return names[n] ?? `errno ${n}`;
}
