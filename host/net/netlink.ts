// rtnetlink in TypeScript over the shim's generic socket ops: message builder and parser,
// address and link requests with ack/error handling, and an event monitor.
// Numbers are from <linux/netlink.h>, <linux/rtnetlink.h>, <linux/if_addr.h>, <linux/if_link.h>.
// process.getBuiltinModule, not import: see host/core/addr.ts.
const { EventEmitter } = process.getBuiltinModule('node:events');
import { formatMac, hostLittleEndian as LE, sockaddrNl } from './sockaddr.ts';
import { addressBytes, formatAddress, type Family } from '../core/addr.ts';
import {
  AddressExistsError,
  AddressNotFoundError,
  NetlinkError,
  NetPermissionError,
  NetTimeoutError,
  NoSuchInterfaceError,
  mapOsError,
} from './errors.ts';
import { K, shim } from './shim.ts';

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
const NLMSGERR_ATTR_MSG = 1;
const OPERSTATES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'];

const AF = (f: Family) => (f === 4 ? K('AF_INET') : K('AF_INET6'));

// ---------- building ----------

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

// ---------- parsing ----------

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

const u32 = (b: Uint8Array | undefined) => (b ? new DataView(b.buffer, b.byteOffset, 4).getUint32(0, LE) : undefined);
const str = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b.subarray(0, b.indexOf(0) < 0 ? b.length : b.indexOf(0))) : undefined);

export interface LinkInfo {
  index: number;
  name: string;
  mac: string | undefined;
  flags: number;
  up: boolean;
  /** carrier: IFF_LOWER_UP */
  lowerUp: boolean;
  operstate: string;
  mtu: number | undefined;
  parentIndex: number | undefined;
  kind: string | undefined;
}

export function parseLink(data: Uint8Array): LinkInfo {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const a = parseAttrs(data, 16);
  const flags = dv.getUint32(8, LE);
  const info = a.get(IFLA.LINKINFO);
  const op = a.get(IFLA.OPERSTATE)?.[0] ?? 0;
  const mac = a.get(IFLA.ADDRESS);
  return {
    index: dv.getInt32(4, LE),
    name: str(a.get(IFLA.IFNAME)) ?? '',
    mac: mac && mac.length === 6 ? formatMac(mac) : undefined,
    flags,
    up: (flags & IFF.UP) !== 0,
    lowerUp: (flags & IFF.LOWER_UP) !== 0,
    operstate: OPERSTATES[op] ?? String(op),
    mtu: u32(a.get(IFLA.MTU)),
    parentIndex: u32(a.get(IFLA.LINK)),
    kind: info ? str(parseAttrs(info).get(IFLA.INFO_KIND)) : undefined,
  };
}

export interface AddrInfo {
  family: Family;
  index: number;
  prefixlen: number;
  address: string;
  flags: number;
  scope: number;
  label: string | undefined;
  secondary: boolean;
  tentative: boolean;
}

export function parseAddr(data: Uint8Array): AddrInfo | undefined {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const family = data[0] === K('AF_INET') ? 4 : data[0] === K('AF_INET6') ? 6 : undefined;
  if (!family) return undefined;
  const a = parseAttrs(data, 8);
  const addr = a.get(IFA.LOCAL) ?? a.get(IFA.ADDRESS);
  if (!addr) return undefined;
  const flags = u32(a.get(IFA.FLAGS)) ?? data[2]!;
  return {
    family,
    index: dv.getUint32(4, LE),
    prefixlen: data[1]!,
    address: formatAddress(addr, family),
    flags,
    scope: data[3]!,
    label: str(a.get(IFA.LABEL)),
    secondary: (flags & IFA_F.SECONDARY) !== 0,
    tentative: (flags & IFA_F.TENTATIVE) !== 0,
  };
}

function errnoName(n: number): string {
  // The few the kernel returns to rtnetlink requests we make; the rest keep their number.
  const names: Record<number, string> = {
    1: 'EPERM', 2: 'ENOENT', 13: 'EACCES', 16: 'EBUSY', 17: 'EEXIST', 19: 'ENODEV', 22: 'EINVAL',
    95: 'EOPNOTSUPP', 97: 'EAFNOSUPPORT', 7: 'E2BIG', 28: 'ENOSPC', 52: 'EBADE', 61: 'ENODATA', 71: 'EPROTO', 99: 'EADDRNOTAVAIL', 105: 'ENOBUFS', 34: 'ERANGE', 12: 'ENOMEM',
  };
  return names[n] ?? `errno ${n}`;
}

/** NLMSG_ERROR payload: 0 is an ack; otherwise a named error with the extended-ack text. */
function ackError(msg: NlMessage, what: string, ifname?: string): Error | undefined {
  const dv = new DataView(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength);
  const err = -dv.getInt32(0, LE);
  if (err === 0) return undefined;
  let detail: string | undefined;
  if (msg.flags & NLM_F.ACK_TLVS) {
    // With NLM_F_CAPPED only the offending header (16 bytes) follows the errno.
    const skip = msg.flags & NLM_F.CAPPED ? 20 : 4 + dv.getUint32(4, LE);
    detail = str(parseAttrs(msg.data, skip).get(NLMSGERR_ATTR_MSG));
  }
  const name = errnoName(err);
  if (name === 'EPERM' || name === 'EACCES') return new NetPermissionError(what, 'CAP_NET_ADMIN');
  if (name === 'ENODEV' && ifname !== undefined) return new NoSuchInterfaceError(ifname);
  if (name === 'EEXIST') return new AddressExistsError(what, detail);
  if (name === 'EADDRNOTAVAIL') return new AddressNotFoundError(what, detail);
  return new NetlinkError(what, name, detail);
}

// ---------- the socket ----------

const RECV_SIZE = 64 * 1024;

interface Pending {
  what: string;
  ifname: string | undefined;
  out: NlMessage[];
  resolve: (m: NlMessage[]) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * A request socket: each call sends one message and resolves with the kernel's answer
 * (an ack, or every part of a dump). The socket is polled only while a request is pending,
 * so an idle Netlink keeps no libuv handle alive.
 */
export class Netlink {
  readonly fd: number;
  private seq = Math.floor(Date.now() / 1000) & 0xffff;
  private readonly rbuf = new Uint8Array(RECV_SIZE);
  private readonly src = new Uint8Array(128);
  private readonly meta = new Int32Array(8);
  private readonly pending = new Map<number, Pending>();
  private polling = false;
  private closed = false;
  timeoutMs = 5000;

  constructor(groups = 0) {
    const s = shim();
    try {
      this.fd = s.socket(K('AF_NETLINK'), K('SOCK_RAW'), K('NETLINK_ROUTE'));
    } catch (e) {
      throw mapOsError(e, 'opening an rtnetlink socket', 'CAP_NET_ADMIN');
    }
    try {
      s.setsockoptInt(this.fd, K('SOL_SOCKET'), K('SO_RCVBUF'), 1 << 20);
      // Extended acks carry the kernel's reason text; capped acks keep errors short.
      for (const opt of ['NETLINK_EXT_ACK', 'NETLINK_CAP_ACK']) {
        try { s.setsockoptInt(this.fd, K('SOL_NETLINK'), K(opt), 1); } catch { /* older kernels */ }
      }
      s.bind(this.fd, sockaddrNl(0, groups));
    } catch (e) {
      s.close(this.fd);
      throw mapOsError(e, 'binding an rtnetlink socket', 'CAP_NET_ADMIN');
    }
  }

  /** Send `b` (built with seq 0) and resolve with every reply message. */
  request(b: NlBuilder, what: string, ifname?: string): Promise<NlMessage[]> {
    if (this.closed) return Promise.reject(new NetlinkError(what, 'EBADF', 'netlink socket closed'));
    const seq = (this.seq = (this.seq + 1) >>> 0);
    const msg = b.finish(seq);
    return new Promise((resolve, reject) => {
      const p: Pending = { what, ifname, out: [], resolve, reject, timer: undefined };
      this.pending.set(seq, p);
      try {
        shim().sendTo(this.fd, msg, 0, msg.length, sockaddrNl());
      } catch (e) {
        this.pending.delete(seq);
        reject(mapOsError(e, what, 'CAP_NET_ADMIN', ifname));
        return;
      }
      // rtnetlink answers inside sendmsg for most requests: drain before arming a timeout and a
      // poll, which an answered request (a VIP added on a takeover) then never pays for.
      this.drain();
      if (!this.pending.has(seq)) return;
      p.timer = setTimeout(() => {
        this.pending.delete(seq);
        this.idle();
        reject(new NetTimeoutError(what, this.timeoutMs));
      }, this.timeoutMs);
      if (!this.polling) {
        this.polling = true;
        shim().pollStart(this.fd, K('UV_READABLE'), () => this.drain());
      }
    });
  }

  /** Send a request built once (addressRequest) and resolve with the kernel's answer. */
  send(r: PreparedRequest): Promise<NlMessage[]> {
    return this.request(r.b, r.what, r.ifname);
  }

  private drain(): void {
    const s = shim();
    for (;;) {
      const n = s.recvMsg(this.fd, this.rbuf, 0, this.rbuf.length, this.src, this.meta);
      if (n < 0) break;
      for (const m of parseMessages(this.rbuf, Math.min(n, this.rbuf.length))) this.dispatch(m);
    }
    this.idle();
  }

  private dispatch(m: NlMessage): void {
    const p = this.pending.get(m.seq);
    if (!p) return;
    const done = (err?: Error) => {
      clearTimeout(p.timer);
      this.pending.delete(m.seq);
      if (err) p.reject(err);
      else p.resolve(p.out);
    };
    if (m.type === NLMSG.ERROR) return done(ackError(m, p.what, p.ifname));
    if (m.type === NLMSG.DONE) return done();
    // Copy: the receive buffer is reused by the next read.
    p.out.push({ ...m, data: m.data.slice() });
    if (!(m.flags & NLM_F.MULTI)) done();
  }

  private idle(): void {
    if (this.polling && this.pending.size === 0) {
      shim().pollStop(this.fd);
      this.polling = false;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const [seq, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new NetlinkError(p.what, 'ECANCELED', 'netlink socket closed'));
      this.pending.delete(seq);
    }
    shim().close(this.fd);
  }

  // ---------- links ----------

  async getLink(ifname: string | number): Promise<LinkInfo> {
    const b = new NlBuilder(RTM.GETLINK, NLM_F.ACK);
    ifinfomsg(b, 0, typeof ifname === 'number' ? ifname : 0, 0, 0);
    if (typeof ifname === 'string') b.attrStr(IFLA.IFNAME, ifname);
    const [m] = await this.request(b, `looking up interface ${ifname}`, String(ifname));
    if (!m) throw new NoSuchInterfaceError(String(ifname));
    return parseLink(m.data);
  }

  async listLinks(): Promise<LinkInfo[]> {
    const b = new NlBuilder(RTM.GETLINK, NLM_F.DUMP);
    ifinfomsg(b, 0, 0, 0, 0);
    return (await this.request(b, 'listing links')).filter((m) => m.type === RTM.NEWLINK).map((m) => parseLink(m.data));
  }

  async setLinkUp(index: number, up: boolean): Promise<void> {
    const b = new NlBuilder(RTM.NEWLINK, NLM_F.ACK);
    ifinfomsg(b, 0, index, up ? IFF.UP : 0, IFF.UP);
    await this.request(b, `setting link ${index} ${up ? 'up' : 'down'}`, String(index));
  }

  /** A macvlan on `parentIndex` with a fixed MAC (the VRRP virtual MAC), left down. */
  async newMacvlan(o: { name: string; parentIndex: number; mac: Uint8Array; mode: keyof typeof MACVLAN_MODE }): Promise<void> {
    const b = new NlBuilder(RTM.NEWLINK, NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL);
    ifinfomsg(b, 0, 0, 0, 0);
    b.attrStr(IFLA.IFNAME, o.name).attrU32(IFLA.LINK, o.parentIndex).attr(IFLA.ADDRESS, o.mac);
    const li = b.nest(IFLA.LINKINFO);
    b.attrStr(IFLA.INFO_KIND, 'macvlan');
    const data = b.nest(IFLA.INFO_DATA);
    b.attrU32(IFLA.MACVLAN_MODE, MACVLAN_MODE[o.mode]);
    b.end(data).end(li);
    await this.request(b, `creating macvlan ${o.name}`, undefined);
  }

  /**
   * IPv6 address generation off (IN6_ADDR_GEN_MODE_NONE) on an existing, still down link:
   * the kernel refuses IFLA_AF_SPEC while creating one.
   */
  async setAddrGenModeNone(index: number): Promise<void> {
    const b = new NlBuilder(RTM.NEWLINK, NLM_F.ACK);
    ifinfomsg(b, 0, index, 0, 0);
    const spec = b.nest(IFLA.AF_SPEC);
    const v6 = b.nest(K('AF_INET6'));
    b.attrU8(IFLA.INET6_ADDR_GEN_MODE, 1);
    b.end(v6).end(spec);
    await this.request(b, `turning off IPv6 address generation on link ${index}`, String(index));
  }

  async deleteLink(index: number): Promise<void> {
    const b = new NlBuilder(RTM.DELLINK, NLM_F.ACK);
    ifinfomsg(b, 0, index, 0, 0);
    await this.request(b, `deleting link ${index}`, String(index));
  }

  // ---------- addresses ----------

  async listAddresses(index?: number, family?: Family): Promise<AddrInfo[]> {
    const b = new NlBuilder(RTM.GETADDR, NLM_F.DUMP);
    b.u8(family ? AF(family) : 0).u8(0).u8(0).u8(0).u32(0);
    const out: AddrInfo[] = [];
    for (const m of await this.request(b, 'listing addresses')) {
      if (m.type !== RTM.NEWADDR) continue;
      const a = parseAddr(m.data);
      if (a && (index === undefined || a.index === index) && (family === undefined || a.family === family)) out.push(a);
    }
    return out;
  }

  async addAddress(a: AddressSpec): Promise<void> {
    await this.send(addressRequest('add', a));
  }

  async deleteAddress(a: AddressSpec): Promise<void> {
    await this.send(addressRequest('delete', a));
  }

  /**
   * Add every address or none: on the first failure, the ones already added are removed
   * again before the error is thrown.
   */
  async addAddresses(list: AddressSpec[]): Promise<void> {
    const done: AddressSpec[] = [];
    try {
      for (const a of list) {
        await this.addAddress(a);
        done.push(a);
      }
    } catch (e) {
      for (const a of done.reverse()) await this.deleteAddress(a).catch(() => {});
      throw e;
    }
  }
}

export interface AddressSpec {
  index: number;
  address: string;
  prefixlen: number;
  /** IPv6: skip duplicate address detection (a VIP must answer at once). */
  nodad?: boolean;
  /** IPv4 label, e.g. "eth0:vip" (must start with the interface name). */
  label?: string;
  /** for error messages */
  ifname?: string;
}

function ifinfomsg(b: NlBuilder, family: number, index: number, flags: number, change: number): void {
  b.u8(family).u8(0).u16(0).i32(index).u32(flags).u32(change);
}

/**
 * A request built once and sent any number of times (Netlink.send; one at a time: each send
 * stamps its sequence number into the same buffer). The engine keeps its VIPs' RTM_NEWADDR
 * requests ready, so a takeover's first syscall is not behind an address parse and a build
 * (~0.1-0.2 ms measured in the engine's interpreter-only V8).
 */
export interface PreparedRequest { b: NlBuilder; what: string; ifname: string | undefined }

export function addressRequest(op: 'add' | 'delete', a: AddressSpec): PreparedRequest {
  return op === 'add'
    ? { b: addrMessage(RTM.NEWADDR, a), what: `adding ${a.address}/${a.prefixlen} to link ${a.index}`, ifname: a.ifname }
    : { b: addrMessage(RTM.DELADDR, a), what: `deleting ${a.address}/${a.prefixlen} from link ${a.index}`, ifname: a.ifname };
}

function addrMessage(type: number, a: AddressSpec): NlBuilder {
  const bytes = addressBytes(a.address);   // throws AddressError on text that is no address
  const family: Family = bytes.length === 4 ? 4 : 6;
  const flags = type === RTM.NEWADDR ? NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL : NLM_F.ACK;
  const b = new NlBuilder(type, flags);
  const ifaFlags = family === 6 && a.nodad ? IFA_F.NODAD : 0;
  const scope = family === 6 && a.address.toLowerCase().startsWith('fe80') ? 253 : 0;
  b.u8(AF(family)).u8(a.prefixlen).u8(ifaFlags).u8(scope).u32(a.index);
  b.attr(IFA.LOCAL, bytes).attr(IFA.ADDRESS, bytes);
  if (ifaFlags) b.attrU32(IFA.FLAGS, ifaFlags);
  if (a.label && family === 4) b.attrStr(IFA.LABEL, a.label);
  return b;
}

// ---------- events ----------

export type LinkEvent = LinkInfo & { deleted: boolean; at: bigint };
export type AddrEvent = AddrInfo & { op: 'add' | 'del'; at: bigint };

/**
 * Link and address events from the kernel (RTMGRP_LINK | IPV4_IFADDR | IPV6_IFADDR).
 * Emits 'link' (LinkEvent), 'address' (AddrEvent) and 'overrun' (the kernel dropped events:
 * the owner must re-read state). `at` is process.hrtime.bigint() when the event was read.
 */
export class NetlinkMonitor extends EventEmitter<{ link: [LinkEvent]; address: [AddrEvent]; overrun: [] }> {
  private readonly nl: Netlink;
  private readonly rbuf = new Uint8Array(RECV_SIZE);
  private readonly src = new Uint8Array(128);
  private readonly meta = new Int32Array(8);
  private readonly srcDv = new DataView(this.src.buffer);

  constructor(groups: number = RTMGRP.LINK | RTMGRP.IPV4_IFADDR | RTMGRP.IPV6_IFADDR) {
    super();
    this.nl = new Netlink(groups);
    shim().pollStart(this.nl.fd, K('UV_READABLE'), () => this.drain());
  }

  private drain(): void {
    const s = shim();
    for (;;) {
      let n: number;
      try {
        n = s.recvMsg(this.nl.fd, this.rbuf, 0, this.rbuf.length, this.src, this.meta);
      } catch (e) {
        if ((e as { code?: string }).code === 'ENOBUFS') {
          this.emit('overrun');
          continue;
        }
        throw e;
      }
      if (n < 0) return;
      if (this.srcDv.getUint32(4, LE) !== 0) continue; // only the kernel speaks on these groups
      const at = process.hrtime.bigint();
      for (const m of parseMessages(this.rbuf, Math.min(n, this.rbuf.length))) {
        if (m.type === RTM.NEWLINK || m.type === RTM.DELLINK) {
          this.emit('link', { ...parseLink(m.data), deleted: m.type === RTM.DELLINK, at });
        } else if (m.type === RTM.NEWADDR || m.type === RTM.DELADDR) {
          const a = parseAddr(m.data);
          if (a) this.emit('address', { ...a, op: m.type === RTM.NEWADDR ? 'add' : 'del', at });
        }
      }
    }
  }

  close(): void {
    this.nl.close();
  }
}
