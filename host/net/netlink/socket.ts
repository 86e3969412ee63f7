// The rtnetlink request socket: one message out, the kernel's answer (an ack, an error with its
// extended-ack text, or every part of a dump) back as a promise.
import { hostLittleEndian as LE, sockaddrNl } from '../sockaddr.ts';
import {
  AddressExistsError, AddressNotFoundError, NetlinkError, NetPermissionError, NetTimeoutError, NoSuchInterfaceError, mapOsError,
} from '../errors.ts';
import { K, shim } from '../shim.ts';
import { NLM_F, NLMSG, errnoName, parseAttrs, parseMessages, readStr, type NlBuilder, type NlMessage } from './codec.ts';

const NLMSGERR_ATTR_MSG = 1;

/** NLMSG_ERROR payload: 0 is an ack; otherwise a named error with the extended-ack text. */
function ackError(msg: NlMessage, what: string, ifname?: string): Error | undefined {
  const dv = new DataView(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength);
  const err = -dv.getInt32(0, LE);
  if (err === 0) return undefined;
  let detail: string | undefined;
  if (msg.flags & NLM_F.ACK_TLVS) {
    // With NLM_F_CAPPED only the offending header (16 bytes) follows the errno.
    const skip = msg.flags & NLM_F.CAPPED ? 20 : 4 + dv.getUint32(4, LE);
    detail = readStr(parseAttrs(msg.data, skip).get(NLMSGERR_ATTR_MSG));
  }
  const name = errnoName(err);
  if (name === 'EPERM' || name === 'EACCES') return new NetPermissionError(what, 'CAP_NET_ADMIN');
  if (name === 'ENODEV' && ifname !== undefined) return new NoSuchInterfaceError(ifname);
  if (name === 'EEXIST') return new AddressExistsError(what, detail);
  if (name === 'EADDRNOTAVAIL') return new AddressNotFoundError(what, detail);
  return new NetlinkError(what, name, detail);
}

/**
 * A request built once and sent any number of times (NetlinkSocket.send; one at a time: each send
 * stamps its sequence number into the same buffer). The engine keeps its VIPs' RTM_NEWADDR
 * requests ready, so a takeover's first syscall is not behind an address parse and a build
 * (~0.1-0.2 ms measured in the engine's interpreter-only V8).
 */
export interface PreparedRequest { b: NlBuilder; what: string; ifname: string | undefined }

export const RECV_SIZE = 64 * 1024;

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
export class NetlinkSocket {
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
}
