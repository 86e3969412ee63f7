// rtnetlink events: link and address changes from the kernel's multicast groups.
// process.getBuiltinModule, not import: the engine loads this (see host/core/addr.ts).
const { EventEmitter } = process.getBuiltinModule('node:events');
import { hostLittleEndian as LE } from '../sockaddr.ts';
import { K, shim } from '../shim.ts';
import { RTM, RTMGRP, parseMessages } from './codec.ts';
import { NetlinkSocket, RECV_SIZE } from './socket.ts';
import { parseLink, type LinkInfo } from './links.ts';
import { parseAddr, type AddrInfo } from './addresses.ts';

export type LinkEvent = LinkInfo & { deleted: boolean; at: bigint };
export type AddrEvent = AddrInfo & { op: 'add' | 'del'; at: bigint };

/**
 * Link and address events from the kernel (RTMGRP_LINK | IPV4_IFADDR | IPV6_IFADDR).
 * Emits 'link' (LinkEvent), 'address' (AddrEvent) and 'overrun' (the kernel dropped events:
 * the owner must re-read state). `at` is process.hrtime.bigint() when the event was read.
 */
export class NetlinkMonitor extends EventEmitter<{ link: [LinkEvent]; address: [AddrEvent]; overrun: [] }> {
  private readonly nl: NetlinkSocket;
  private readonly rbuf = new Uint8Array(RECV_SIZE);
  private readonly src = new Uint8Array(128);
  private readonly meta = new Int32Array(8);
  private readonly srcDv = new DataView(this.src.buffer);

  constructor(groups: number = RTMGRP.LINK | RTMGRP.IPV4_IFADDR | RTMGRP.IPV6_IFADDR) {
    super();
    this.nl = new NetlinkSocket(groups);
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
