// A restart after the whole agent was killed (kill -9, an OOM kill, a crash): the VIPs the killed
// run held are still on the box, and until they go two routers answer for them. So the first
// thing `vigil run` does, when it has a record of the config it last accepted
// (host/agent/accepted.ts: the killed run's), is remove them: before the config is read, the core
// loaded or an engine started. Only the netlink socket and the shim are loaded for it; the
// RTM_DELADDR requests are carried out by the kernel as they are sent. The engine's own check at
// its start (removeStaleVips, host/agent/engine-wire.ts) stays, for a config that differs.
// Its own few lines of netlink, not host/net/netlink/: loading that is ~6 ms more on this path.
//
// Not while another vigil runs the same config file (started twice by mistake): its VIPs are
// live. One run per config file holds an abstract unix socket named after the file, which the
// kernel frees whatever way the process ends.
import type { AgentConfig } from '../config/types.ts';
import type { Logger } from './log.ts';
import { addressBytes } from '../core/addr.ts';
import { shim, K } from '../net/shim.ts';
import { addressesNow, isBoxOwn } from './own-address.ts';

const AF_UNIX = 1;   // the same on every Linux architecture
const RTM_DELADDR = 21, NLM_F_REQUEST = 1, NLM_F_ACK = 4, NLMSG_ERROR = 2, IFA_ADDRESS = 1, IFA_LOCAL = 2;

/**
 * Holds this process's claim on `file` for its life. False: another process holds it, or the
 * claim could not be made.
 */
export function claimConfig(file: string): boolean {
  const s = shim();
  const name = new TextEncoder().encode(`vigil run ${process.getBuiltinModule('node:path').resolve(file)}`).subarray(0, 100);
  const addr = new Uint8Array(2 + 1 + name.length);   // sa_family, then a NUL: the abstract namespace
  new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  addr.set(name, 3);
  let fd = -1;
  try {
    fd = s.socket(AF_UNIX, K('SOCK_DGRAM'), 0);   // close-on-exec: no child inherits the claim
    s.bind(fd, addr);
    return true;   // the fd stays open on purpose: the claim lasts as long as this process
  } catch {
    if (fd >= 0) s.close(fd);
    return false;
  }
}

/** A VIP a run may have left on an interface. */
export interface LeftVip { instance: string; address: string; prefixLen: number; ifname: string }

/** The VIPs of `c` a killed run may have left. With a VMAC they were on the macvlan, which the engine removes and makes again. */
export function leftVipsOf(c: AgentConfig): LeftVip[] {
  return c.instances.filter((i) => !i.vmac)
    .flatMap((i) => i.virtualAddresses.map((v) => ({ instance: i.name, address: v.address, prefixLen: v.prefixLen, ifname: i.interface })));
}

/** Removes every VIP of `c` present on its interfaces; says which, once the kernel has. */
export function removeLeftVips(c: AgentConfig, log: Logger): void {
  removeVips(leftVipsOf(c), log);
}

/** Removes each of `vips` that is present; says which, once the kernel has. */
export function removeVips(vips: LeftVip[], log: Logger): number {
  const s = shim();
  const fd = s.socket(K('AF_NETLINK'), K('SOCK_RAW'), K('NETLINK_ROUTE'));
  const asked = new Map<number, LeftVip>();
  let removed = 0;
  try {
    const sa = new Uint8Array(12);
    new DataView(sa.buffer).setUint16(0, K('AF_NETLINK'), true);
    let seq = 1;
    const present = addressesNow();
    for (const v of vips) {
      let index = 0;
      try { index = s.ifNameToIndex(v.ifname); } catch { /* no such interface: nothing left on it */ }
      if (!(index > 0)) continue;
      // Only what is there, and never the box's own address (own-address.ts).
      const here = present.get(index) ?? [];
      if (!here.some((a) => a.address === v.address) || isBoxOwn(here, v.address)) continue;
      const m = delAddr(seq, index, addressBytes(v.address), v.prefixLen);
      // rtnetlink carries a request out in the sender's sendmsg(): gone when this returns.
      s.sendTo(fd, m, 0, m.length, sa);
      asked.set(seq++, v);
    }
    // The acks are queued by then: read without waiting.
    const buf = new Uint8Array(8192), src = new Uint8Array(128), meta = new Int32Array(16);
    const view = new DataView(buf.buffer);
    for (;;) {
      const n = s.recvMsg(fd, buf, 0, buf.length, src, meta);
      if (n < 0) break;
      for (let off = 0; off + 20 <= n;) {
        const len = view.getUint32(off, true);
        const a = asked.get(view.getUint32(off + 8, true));
        if (view.getUint16(off + 4, true) === NLMSG_ERROR && a && view.getInt32(off + 16, true) === 0) {
          removed++;
          log.warn(`${a.instance}: removing stale VIP ${a.address} from ${a.ifname} (left by an earlier run)`,
            { instance: a.instance, startMs: Math.round(performance.now()) });   // since this process began
        }
        if (len < 16) break;
        off += (len + 3) & ~3;
      }
    }
  } finally {
    s.close(fd);
  }
  return removed;
}

// RTM_DELADDR for `addr`/`prefixlen` on link `index`, with an ack, as host/net/netlink/addresses.ts
// builds it (IFA_LOCAL and IFA_ADDRESS both).
function delAddr(seq: number, index: number, addr: Uint8Array, prefixlen: number): Uint8Array {
  const attr = 4 + addr.length;
  const len = 16 + 8 + 2 * attr;
  const m = new Uint8Array(len), d = new DataView(m.buffer);
  d.setUint32(0, len, true); d.setUint16(4, RTM_DELADDR, true); d.setUint16(6, NLM_F_REQUEST | NLM_F_ACK, true); d.setUint32(8, seq, true);
  m[16] = addr.length === 4 ? K('AF_INET') : K('AF_INET6');
  m[17] = prefixlen;
  d.setUint32(20, index, true);
  let off = 24;
  for (const type of [IFA_LOCAL, IFA_ADDRESS]) {
    d.setUint16(off, attr, true); d.setUint16(off + 2, type, true);
    m.set(addr, off + 4);
    off += attr;   // 8 or 20: already a multiple of 4
  }
  return m;
}
