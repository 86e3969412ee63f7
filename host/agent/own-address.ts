// One rule for which configured VIP vigil may remove: a VIP that is its interface's only primary
// IPv4 address is the box's own (a config naming the interface's address as a VIP: warned of at
// the instance's start), never a VIP a run left. Removing it would leave the interface without
// an address to speak VRRP, or anything else, from. A VIP vigil adds never is one: an IPv4
// VRRP interface has a primary address of its own, beside which a VIP is secondary or a second
// primary. Applied wherever VIPs are removed without the engine having added them: the engine's
// start (engine-wire.ts), the supervisor when the engine dies (supervisor.ts), a restart's
// removal of a killed run's VIPs (stale-vips.ts) and the list bin/vigil removes (left-vips.ts).
import type { AddrInfo } from '../net/netlink/addresses.ts';
import { parseAddr } from '../net/netlink/addresses.ts';
import { NLM_F, NLMSG, NlBuilder, RTM, parseMessages } from '../net/netlink/codec.ts';
import { shim, K } from '../net/shim.ts';

type Present = Pick<AddrInfo, 'address' | 'family' | 'secondary'>;

/** Whether `vip` is, among `present` (one interface's addresses), that interface's own. */
export function isBoxOwn(present: readonly Present[], vip: string): boolean {
  const a = present.find((x) => x.address === vip);
  return a !== undefined && a.family === 4 && !a.secondary && !present.some((x) => x !== a && x.family === 4 && !x.secondary);
}

/**
 * Every interface's addresses now, by interface index: one RTM_GETADDR dump, synchronously (the
 * kernel makes each part of a dump as the previous one is read). For the paths that run before
 * anything async is up; the engine lists them on its own netlink socket.
 */
export function addressesNow(): Map<number, AddrInfo[]> {
  const s = shim();
  const fd = s.socket(K('AF_NETLINK'), K('SOCK_RAW'), K('NETLINK_ROUTE'));
  const out = new Map<number, AddrInfo[]>();
  try {
    const sa = new Uint8Array(12);
    new DataView(sa.buffer).setUint16(0, K('AF_NETLINK'), true);
    const m = new NlBuilder(RTM.GETADDR, NLM_F.DUMP).u8(0).u8(0).u8(0).u8(0).u32(0).finish(1);
    s.sendTo(fd, m, 0, m.length, sa);
    const buf = new Uint8Array(65536), src = new Uint8Array(128), meta = new Int32Array(16);
    for (let spins = 0; spins < 10_000; spins++) {
      const n = s.recvMsg(fd, buf, 0, buf.length, src, meta);
      if (n < 0) continue;   // the next part not made yet: asked again
      for (const msg of parseMessages(buf, n)) {
        if (msg.type === NLMSG.DONE || msg.type === NLMSG.ERROR) return out;
        if (msg.type !== RTM.NEWADDR) continue;
        const a = parseAddr(msg.data);
        if (a) out.set(a.index, [...(out.get(a.index) ?? []), a]);
      }
    }
    return out;
  } finally {
    s.close(fd);
  }
}
