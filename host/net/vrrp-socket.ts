// VRRP sockets, one pair per interface and family (RFC 5798 section 5.1.1 / 5.1.2):
// IP protocol 112, to 224.0.0.18 / ff02::12 or unicast peers, TTL / hop limit 255 out,
// source the interface's primary IPv4 address or its IPv6 link-local, and the received
// TTL / hop limit, source and destination handed to the caller with every packet.
//
// Two sockets, as keepalived does: an IPv4 raw socket bound to a source address only
// receives datagrams addressed to that address (never the group), so the sender is bound
// and receives nothing (a "ret #0" filter), and the receiver is bound to the device only.
import { hostLittleEndian, sockaddrIn, sockaddrIn6 } from './sockaddr.ts';
import { addressBytes, familyOf, formatAddress, isLinkLocal6, type Family } from '../core/addr.ts';
import { NetError, NoSourceAddressError, mapOsError, mapSendError } from './errors.ts';
import { Netlink } from './netlink.ts';
import { K, shim } from './shim.ts';

export const IPPROTO_VRRP = 112;
export const VRRP_GROUP4 = '224.0.0.18';
export const VRRP_GROUP6 = 'ff02::12';

/** BPF "ret #0": accept nothing. */
const DROP_ALL = new Uint8Array([0x06, 0, 0, 0, 0, 0, 0, 0]);

export interface VrrpSocketOptions {
  /** interface the adverts go out of and come in on (a VMAC interface for VMAC instances) */
  ifname: string;
  family: Family;
  /**
   * Source address; default: the primary IPv4 address / the link-local IPv6 address of
   * `sourceIfname` (default `ifname`), read over rtnetlink.
   */
  source?: string;
  /** where the source comes from when `source` is not given (e.g. the VMAC's parent) */
  sourceIfname?: string;
  /** join the VRRP group (multicast). Default true; unicast-only instances pass false. */
  multicast?: boolean;
  /** outgoing TTL / hop limit (RFC 5798: 255). Tests may lower it to prove the check. */
  ttl?: number;
  /** have the kernel compute and verify the IPv6 checksum (offset 6) instead of the core */
  kernelChecksum6?: boolean;
}

/**
 * One received packet, reused across receives (no allocation per packet). Read the fields
 * inside the callback; copy what must outlive it.
 */
export class ReceivedPacket {
  /** the caller's buffer */
  buf: Uint8Array = new Uint8Array(0);
  /** offset of the VRRP header (after the IPv4 header, which a raw IPv4 socket includes) */
  offset = 0;
  /** VRRP bytes (header + addresses + auth) */
  length = 0;
  /** the datagram did not fit in the buffer */
  truncated = false;
  ttl = -1;
  ifindex = -1;
  /**
   * Microseconds from the kernel's receive stamp to recv(); -1 when the kernel gave none.
   * Subtract it from the time the packet is handled at to get when it arrived.
   */
  ageUs = -1;
  family: Family = 4;
  /** sockaddr the kernel wrote; the address starts at srcOffset */
  readonly srcSockaddr = new Uint8Array(128);
  /** recvMsg's metadata; slot 8 is the age, 9 and 10 the kernel's stamp (see the shim) */
  readonly meta = new Int32Array(11);
  /** destination address bytes (4 or 16) from IP_PKTINFO / IPV6_PKTINFO */
  readonly dst = new Uint8Array(this.meta.buffer, 16, 16);

  /**
   * The kernel's receive stamp (CLOCK_REALTIME, seconds modulo 2^32 and nanoseconds): the same
   * on every socket that got a copy of the datagram. 0, 0 when the kernel gave none.
   */
  get stampSec(): number { return this.meta[9]! >>> 0; }
  get stampNsec(): number { return this.meta[10]!; }

  // Views made once: a subarray per packet was an allocation per packet.
  private readonly src4 = this.srcSockaddr.subarray(4, 8);
  private readonly src6 = this.srcSockaddr.subarray(8, 24);
  get srcBytes(): Uint8Array {
    return this.family === 4 ? this.src4 : this.src6;
  }
  /** the source as text (allocates: for logs and tests, not the hot path) */
  get src(): string {
    return formatAddress(this.srcBytes, this.family);
  }
  get dstText(): string {
    return formatAddress(this.dst, this.family);
  }
}

export class VrrpSocket {
  readonly ifname: string;
  readonly ifindex: number;
  readonly family: Family;
  readonly source: string;
  readonly tx: number;
  readonly rx: number;
  /** sockaddr of the group, prebuilt */
  readonly group: Uint8Array;
  private readonly pkt = new ReceivedPacket();
  private closed = false;
  // Looked up once: these sit on the receive path.
  private readonly msgTrunc = K('MSG_TRUNC');

  private constructor(o: { ifname: string; ifindex: number; family: Family; source: string; tx: number; rx: number }) {
    this.ifname = o.ifname;
    this.ifindex = o.ifindex;
    this.family = o.family;
    this.source = o.source;
    this.tx = o.tx;
    this.rx = o.rx;
    this.group = o.family === 4 ? sockaddrIn(VRRP_GROUP4) : sockaddrIn6(VRRP_GROUP6, o.ifindex);
    this.pkt.family = o.family;
  }

  /** Open the pair; every failure closes what was opened and says why. */
  static async open(o: VrrpSocketOptions): Promise<VrrpSocket> {
    const ifindex = ifIndex(o.ifname);
    const source = o.source ?? (await sourceAddress(o.sourceIfname ?? o.ifname, o.family));
    if (familyOf(source) !== o.family) throw new NetError(`source ${source} is not an IPv${o.family} address`, 'VIGIL_ENET_FAMILY');
    const s = shim();
    const opened: number[] = [];
    const what = `opening the IPv${o.family} VRRP socket on ${o.ifname}`;
    try {
      const domain = o.family === 4 ? K('AF_INET') : K('AF_INET6');
      const tx = s.socket(domain, K('SOCK_RAW'), IPPROTO_VRRP);
      opened.push(tx);
      const rx = s.socket(domain, K('SOCK_RAW'), IPPROTO_VRRP);
      opened.push(rx);
      const ttl = o.ttl ?? 255;
      const dev = new TextEncoder().encode(o.ifname + '\0');
      for (const fd of [tx, rx]) s.setsockoptBuf(fd, K('SOL_SOCKET'), K('SO_BINDTODEVICE'), dev);
      // Kernel arrival stamps: Master_Down_Interval runs from the last advert's arrival, not
      // from when a busy loop got round to it (RFC 5798 6.4.2).
      s.setsockoptInt(rx, K('SOL_SOCKET'), K('SO_TIMESTAMPNS'), 1);
      s.attachFilter(tx, DROP_ALL);
      if (o.family === 4) {
        const IP = K('IPPROTO_IP');
        s.setsockoptInt(tx, IP, K('IP_TTL'), ttl);
        s.setsockoptInt(tx, IP, K('IP_MULTICAST_TTL'), ttl);
        s.setsockoptInt(tx, IP, K('IP_MULTICAST_LOOP'), 0);
        s.setsockoptBuf(tx, IP, K('IP_MULTICAST_IF'), mreqn('0.0.0.0', '0.0.0.0', ifindex));
        s.bind(tx, sockaddrIn(source));
        s.setsockoptInt(rx, IP, K('IP_RECVTTL'), 1);
        s.setsockoptInt(rx, IP, K('IP_PKTINFO'), 1);
        // Only the groups this socket joined, not every group any socket on the host joined.
        s.setsockoptInt(rx, IP, K('IP_MULTICAST_ALL'), 0);
        if (o.multicast !== false) s.setsockoptBuf(rx, IP, K('IP_ADD_MEMBERSHIP'), mreqn(VRRP_GROUP4, '0.0.0.0', ifindex));
      } else {
        const IP6 = K('IPPROTO_IPV6');
        s.setsockoptInt(tx, IP6, K('IPV6_UNICAST_HOPS'), ttl);
        s.setsockoptInt(tx, IP6, K('IPV6_MULTICAST_HOPS'), ttl);
        s.setsockoptInt(tx, IP6, K('IPV6_MULTICAST_LOOP'), 0);
        s.setsockoptInt(tx, IP6, K('IPV6_MULTICAST_IF'), ifindex);
        if (o.kernelChecksum6) {
          s.setsockoptInt(tx, IP6, K('IPV6_CHECKSUM'), 6);
          s.setsockoptInt(rx, IP6, K('IPV6_CHECKSUM'), 6);
        }
        s.bind(tx, sockaddrIn6(source, isLinkLocal6(addressBytes(source)) ? ifindex : 0));
        s.setsockoptInt(rx, IP6, K('IPV6_RECVHOPLIMIT'), 1);
        s.setsockoptInt(rx, IP6, K('IPV6_RECVPKTINFO'), 1);
        s.setsockoptInt(rx, IP6, K('IPV6_MULTICAST_ALL'), 0);
        if (o.multicast !== false) s.setsockoptBuf(rx, IP6, K('IPV6_ADD_MEMBERSHIP'), mreq6(VRRP_GROUP6, ifindex));
      }
      return new VrrpSocket({ ifname: o.ifname, ifindex, family: o.family, source, tx, rx });
    } catch (e) {
      for (const fd of opened) s.close(fd);
      throw mapOsError(e, what, 'CAP_NET_RAW', o.ifname);
    }
  }

  /** The prebuilt sockaddr of a unicast peer (build once per peer, not per packet). */
  peer(ip: string): Uint8Array {
    if (familyOf(ip) !== this.family) throw new NetError(`peer ${ip} is not an IPv${this.family} address`, 'VIGIL_ENET_FAMILY');
    return this.family === 4 ? sockaddrIn(ip) : sockaddrIn6(ip, isLinkLocal6(addressBytes(ip)) ? this.ifindex : 0);
  }

  /**
   * Send VRRP bytes (the core's buffer) to the group, or to `to` (a peer()). Returns the
   * bytes sent, or -1 if the socket buffer is full (the advert is dropped, as on a wire).
   */
  send(buf: Uint8Array, off: number, len: number, to: Uint8Array = this.group): number {
    try {
      return shim().sendTo(this.tx, buf, off, len, to);
    } catch (e) {
      throw mapSendError(e, `sending VRRP on ${this.ifname}`, this.ifname);
    }
  }

  /**
   * Receive one packet into buf[off, off+len) and describe it in the shared ReceivedPacket;
   * null when nothing is queued. For IPv4 the IP header is skipped (pkt.offset).
   */
  recv(buf: Uint8Array, off: number, len: number): ReceivedPacket | null {
    const p = this.pkt;
    const n = shim().recvMsg(this.rx, buf, off, len, p.srcSockaddr, p.meta);
    if (n < 0) return null;
    p.buf = buf;
    p.truncated = n > len || (p.meta[3]! & this.msgTrunc) !== 0;
    const got = Math.min(n, len);
    p.ttl = p.meta[1]!;
    p.ifindex = p.meta[2]!;
    p.ageUs = p.meta[8]!;
    if (this.family === 4) {
      const ihl = got > 0 ? (buf[off]! & 0x0f) * 4 : 0;
      p.offset = off + ihl;
      p.length = Math.max(0, got - ihl);
    } else {
      p.offset = off;
      p.length = got;
    }
    return p;
  }

  /**
   * Call `onPacket` for every packet as it arrives (libuv readiness, no thread). The packet
   * object and `buf` are reused: the callback must finish with them before returning.
   */
  listen(buf: Uint8Array, off: number, len: number, onPacket: (p: ReceivedPacket) => void): void {
    shim().pollStart(this.rx, K('UV_READABLE'), () => this.readQueued(buf, off, len, onPacket));
  }

  /** Every datagram queued now, each to onPacket (as listen does on each readiness). */
  readQueued(buf: Uint8Array, off: number, len: number, onPacket: (p: ReceivedPacket) => void): void {
    for (let p = this.recv(buf, off, len); p; p = this.recv(buf, off, len)) onPacket(p);
  }

  unlisten(): void {
    shim().pollStop(this.rx);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    shim().close(this.rx);
    shim().close(this.tx);
  }
}


export function ifIndex(ifname: string): number {
  try {
    return shim().ifNameToIndex(ifname);
  } catch (e) {
    throw mapOsError(e, `looking up ${ifname}`, 'CAP_NET_RAW', ifname);
  }
}

/** The primary IPv4 address, or the first non-tentative IPv6 link-local, of `ifname`. */
export async function sourceAddress(ifname: string, family: Family): Promise<string> {
  const index = ifIndex(ifname);
  const nl = new Netlink();
  try {
    const addrs = await nl.listAddresses(index, family);
    const pick =
      family === 4
        ? addrs.find((a) => !a.secondary)
        : addrs.find((a) => a.address.startsWith('fe80:') && !a.tentative);
    if (!pick) throw new NoSourceAddressError(ifname, family);
    return pick.address;
  } finally {
    nl.close();
  }
}

/** struct ip_mreqn: group, local address, ifindex. */
function mreqn(group: string, local: string, ifindex: number): Uint8Array {
  const b = new Uint8Array(12);
  b.set(addressBytes(group), 0);
  b.set(addressBytes(local), 4);
  new DataView(b.buffer).setInt32(8, ifindex, hostLittleEndian);
  return b;
}

/** struct ipv6_mreq: group, ifindex. */
function mreq6(group: string, ifindex: number): Uint8Array {
  const b = new Uint8Array(20);
  b.set(addressBytes(group), 0);
  new DataView(b.buffer).setUint32(16, ifindex, hostLittleEndian);
  return b;
}
