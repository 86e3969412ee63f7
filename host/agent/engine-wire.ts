// What the engine's driver keeps per virtual router beside its state (host/agent/engine-state.ts):
// its socket, unicast peers as socket addresses, the VIPs' prepared netlink requests, the VIP work
// queue, its announcement and its last notify hook; and the VIP operations it carries out.
import { VrrpSocket } from '../net/vrrp-socket.ts';
import { VrrpFilter } from '../net/vrrp-filter.ts';
import type { Announcer } from '../net/announce.ts';
import type { Core } from '../core/core.ts';
import { addressRequest, type Netlink, type PreparedRequest } from '../net/netlink.ts';
import { createVmac, type Vmac } from '../net/vmac.ts';
import { isLinkLocal6, parseAddress } from '../core/addr.ts';
import { parseMac, sockaddrIn, sockaddrIn6 } from '../net/sockaddr.ts';
import type { Logger } from './log.ts';
import type { InstanceSpec } from './spec.ts';
import type { LinkInput, RouterEnv, VirtualRouter } from './engine-state.ts';
import { isBoxOwn } from './own-address.ts';

// A socket shared by the routers on one interface, family and source; the receive stamp of the
// last datagram read, while journaling (host/agent/handover.ts); its kernel filter
// (host/net/vrrp-filter.ts), null where the kernel refused one.
export interface SocketEntry {
  sock: VrrpSocket; users: number; key: string; lastStamp?: [number, number];
  where: string; filter?: VrrpFilter | null;
}

/** The VRRP sockets, one per interface, family and source, shared by the routers that speak there. */
export class SocketTable {
  private readonly map = new Map<string, SocketEntry>();
  // Per interface and family, what its filters let through: the VRIDs of every instance that
  // has spoken there, and whether any has unicast peers (their adverts come at any TTL). Only
  // ever widened: a filter wider than the core's view drops nothing the core would take, and
  // what it lets by, the core drops and counts as before.
  private readonly accept = new Map<string, { vrids: Set<number>; anyTtl: boolean }>();
  private readonly closedDrops: Record<string, number> = {};
  /** Why the kernel refused a filter (the sockets then go unfiltered), once. */
  filterRefused: string | undefined;

  async use(s: InstanceSpec, ifname: string, listen?: (e: SocketEntry) => void): Promise<SocketEntry> {
    const k = `${ifname}/${s.family}/${s.unicastSource ?? ''}`, where = `${ifname}/${s.family}`;
    let e = this.map.get(k);
    if (!e) {
      const sock = await VrrpSocket.open({ ifname, family: s.family, source: s.unicastSource ?? undefined, sourceIfname: s.interface });
      e = { sock, users: 0, key: k, where };
      this.map.set(k, e);
      listen?.(e);
    }
    e.users++;
    const a = this.accept.get(where) ?? { vrids: new Set<number>(), anyTtl: false };
    this.accept.set(where, a);
    if (!a.vrids.has(s.vrid) || (s.unicastPeers !== null && !a.anyTtl) || e.filter === undefined) {
      a.vrids.add(s.vrid);
      a.anyTtl ||= s.unicastPeers !== null;
      for (const x of this.map.values()) if (x.where === where) this.refilter(x, s.family, a);
    }
    return e;
  }
  private refilter(e: SocketEntry, family: 4 | 6, a: { vrids: Set<number>; anyTtl: boolean }): void {
    if (e.filter === null) return;
    const spec = { family, vrids: [...a.vrids], ttl: !a.anyTtl };
    try {
      if (e.filter) e.filter.update(e.sock.rx, spec);
      else e.filter = VrrpFilter.attach(e.sock.rx, spec);
    } catch (err) {
      e.filter?.close();
      e.filter = null;
      this.filterRefused ??= (err as Error).message;
    }
  }
  /** What the kernel filters dropped, by reason, over the engine's life. */
  kernelDrops(): Record<string, number> {
    const out = { ...this.closedDrops };
    for (const e of this.map.values()) for (const [r, n] of Object.entries(e.filter?.counts() ?? {})) out[r] = (out[r] ?? 0) + n;
    return out;
  }
  unuse(e: SocketEntry): void {
    if (--e.users > 0) return;
    for (const [r, n] of Object.entries(e.filter?.counts() ?? {})) this.closedDrops[r] = (this.closedDrops[r] ?? 0) + n;
    e.filter?.close();
    e.sock.unlisten();
    e.sock.close();
    this.map.delete(e.key);
  }
  values(): IterableIterator<SocketEntry> { return this.map.values(); }
  clear(): void {
    for (const e of this.map.values()) e.filter?.close();
    this.map.clear();
  }
}

export class Wire {
  readonly sock: SocketEntry;
  readonly vmac: Vmac | undefined;
  readonly mac: Uint8Array;
  peerSockaddrs: Uint8Array[] = [];
  vipAdds: PreparedRequest[] = [];
  vipOp: Promise<void> = Promise.resolve();
  private vipBusy = 0;
  announcement: { readonly sent: number; stop(): void } | undefined;
  lastNotify: Promise<unknown> = Promise.resolve();
  constructor(spec: InstanceSpec, env: RouterEnv, sock: SocketEntry, vmac: Vmac | undefined) {
    this.sock = sock;
    this.vmac = vmac;
    this.mac = env.mac ? parseMac(env.mac) : new Uint8Array(6);
    this.configure(spec, env);
  }

  /**
   * The peers' socket addresses (in the order of the spec's list: the state names a peer by its
   * index) and the VIPs' RTM_NEWADDR requests, built when the router is (re)configured rather
   * than on the takeover's path (host/net/netlink.ts, addressRequest).
   */
  configure(spec: InstanceSpec, env: RouterEnv): void {
    this.peerSockaddrs = (spec.unicastPeers ?? []).map((p) => spec.family === 4
      ? sockaddrIn(p) : sockaddrIn6(p, isLinkLocal6(parseAddress(p)) ? env.ifindex : 0));
    this.vipAdds = spec.virtualAddresses.map((v) =>
      addressRequest('add', { index: env.ifindex, address: v.address, prefixlen: v.prefixLen, nodad: spec.family === 6, ifname: env.ifname }));
  }

  // VIP work for this router, in order, one operation at a time. With nothing in flight it
  // starts now, synchronously up to its first await (the netlink request is sent in the
  // caller's turn, not a promise turn later: a takeover is timed to the VIP on the box).
  queue(fn: () => unknown, onError?: (err: unknown) => void): void {
    const run = async () => {
      try { await fn(); } catch (err) { if (onError) onError(err); else throw err; } finally { this.vipBusy--; }
    };
    this.vipOp = ++this.vipBusy === 1 ? run() : this.vipOp.then(run, run);
  }
}

type Router = VirtualRouter<Wire>;

export async function addVips(nl: Netlink, r: Router, log: Logger): Promise<void> {
  const { vipAdds: adds } = r.wire!, spec = r.spec;   // a reload meanwhile replaces both, together
  for (let i = 0; i < adds.length; i++) {
    try {
      await nl.send(adds[i]!);
    } catch (err) {
      const v = spec.virtualAddresses[i]!;
      if ((err as { code?: string }).code !== 'VIGIL_ENET_EXISTS') {
        log.error(`${spec.name}: adding VIP ${v.address}/${v.prefixLen} failed: ${(err as Error).message}`, { instance: spec.name });
      }
    }
  }
}

export async function releaseVips(nl: Netlink, r: { spec: InstanceSpec; env: Pick<RouterEnv, 'ifindex' | 'ifname'> }, log: Logger, list = r.spec.virtualAddresses): Promise<void> {
  for (const v of list) {
    if (foreign.has(`${r.env.ifindex}/${v.address}`)) continue;   // the interface's own: never ours to remove
    try {
      await nl.deleteAddress({ index: r.env.ifindex, address: v.address, prefixlen: v.prefixLen, ifname: r.env.ifname });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== 'VIGIL_ENET_NOADDR' && code !== 'VIGIL_ENET_NOIF') {
        log.error(`${r.spec.name}: removing VIP ${v.address} failed: ${(err as Error).message}`, { instance: r.spec.name });
      }
    }
  }
}

export async function swapVips(nl: Netlink, r: Router, old: InstanceSpec, log: Logger): Promise<void> {
  const keep = new Set(r.spec.virtualAddresses.map((v) => `${v.address}/${v.prefixLen}`));
  await releaseVips(nl, r, log, old.virtualAddresses.filter((v) => !keep.has(`${v.address}/${v.prefixLen}`)));
  await addVips(nl, r, log);
}

// A VIP of ours on the box before we start was left by a run that died (kill -9, power loss):
// removed before the election so a restart never makes a second master.
export async function removeStaleVips(nl: Netlink, spec: InstanceSpec, env: Pick<RouterEnv, 'ifindex' | 'ifname'>, log: Logger): Promise<void> {
  const present = await nl.listAddresses(env.ifindex, spec.family);
  for (const v of spec.virtualAddresses) {
    const a = present.find((x) => x.address === v.address);
    // The box's own address, not one a dead run left (own-address.ts): kept, and never removed.
    if (isBoxOwn(present, v.address)) {
      foreign.add(`${env.ifindex}/${v.address}`);
      log.warn(`${spec.name}: virtual address ${v.address} is ${env.ifname}'s own primary address: left alone (a virtual address should be one the box does not already have)`, { instance: spec.name });
      continue;
    }
    if (a) {
      log.warn(`${spec.name}: removing stale VIP ${v.address} from ${env.ifname} (left by an earlier run)`, { instance: spec.name });
      await releaseVips(nl, { spec, env }, log, [v]);
    }
  }
}

// Addresses (ifindex/address) that are an interface's own while a VIP names them too.
const foreign = new Set<string>();


// A VMAC of ours left by a run that died is removed and made again, so its settings are ours.
export async function makeVmac(nl: Netlink, s: InstanceSpec, log: Logger): Promise<Vmac> {
  const name = `${s.family === 4 ? 'vrrp' : 'vrrp6'}.${s.vrid}`;
  const old = await nl.getLink(name).catch(() => undefined);
  if (old) {
    log.warn(`${s.name}: removing stale VMAC ${name} (left by an earlier run)`, { instance: s.name });
    await nl.deleteLink(old.index);
  }
  return createVmac({ parent: s.interface, vrid: s.vrid, family: s.family, name }, nl);
}

// The tracked interfaces' state, in track.interfaces' order: down or missing counts as failing.
export async function tracksFailing(nl: Netlink, s: InstanceSpec, log: Logger): Promise<boolean[]> {
  const out: boolean[] = [];
  for (const t of s.track.interfaces) {
    try {
      const l = await nl.getLink(t.name);
      out.push(!(l.up && l.lowerUp));
    } catch {
      log.warn(`instance ${s.name}: tracked interface ${t.name} does not exist; counted as down`, { instance: s.name });
      out.push(true);
    }
  }
  return out;
}

// Every link the routers speak on or track, as an event: after the kernel dropped some.
export async function linkStates(nl: Netlink, routers: Iterable<Router>): Promise<LinkInput[]> {
  const names = new Map<string, number>();
  for (const r of routers) {
    names.set(r.env.ifname, r.env.ifindex);
    for (const t of r.spec.track.interfaces) if (!names.has(t.name)) names.set(t.name, 0);
  }
  const out: LinkInput[] = [];
  for (const [name, known] of names) {
    const l = await nl.getLink(name).catch(() => undefined);
    out.push({ index: l?.index ?? known, name, up: !!l?.up, lowerUp: !!l?.lowerUp, deleted: !l });
  }
  return out;
}

// The router's GARP / NA: `count` frames of each, then the refresh, its config's.
export function announce(a: Announcer, core: Core, r: Router, o: { count: number; startMs?: number }): void {
  const w = r.wire!;
  const frames = r.spec.virtualAddresses.map((v) => r.spec.family === 4
    ? core.garp(w.mac, v.address)
    : core.na(w.mac, r.env.source, v.address, true));
  w.announcement?.stop();
  w.announcement = a.announce(frames, {
    count: o.count, startMs: o.startMs, intervalMs: r.spec.garp.intervalUs / 1000,
    refreshMs: r.spec.garp.refreshUs / 1000,
  });
}
