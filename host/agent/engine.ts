// The VRRP engine's driver: it owns the clock, every socket, netlink and the timer, feeds their
// events to the engine's state machine (host/agent/engine-state.ts) and carries out its commands
// on the wire and in the kernel. One OS timer (the core's earliest deadline), readiness
// callbacks from libuv for the sockets, nothing else.
import { ifIndex, type ReceivedPacket } from '../net/vrrp-socket.ts';
import { Netlink, NetlinkMonitor, type AddrEvent, type LinkEvent } from '../net/netlink.ts';
import { Announcer } from '../net/announce.ts';
import type { Logger } from './log.ts';
import { runNotify } from './notify.ts';
import type { EngineSpec, InstanceSpec } from './spec.ts';
import type { CheckReport } from '../checks/protocol.ts';
import { EngineState, type Commands, type RouterEnv, type VirtualRouter } from './engine-state.ts';
import { groupIndex, reloadPlan } from './engine-plan.ts';
import { EngineLoop, wakeClock } from './engine-loop.ts';
import { engineStatus } from './engine-status.ts';
import { SocketTable, Wire, addVips, announce, linkStates, makeVmac, releaseVips, removeStaleVips, swapVips, tracksFailing, type SocketEntry } from './engine-wire.ts';
import { after, HandoverError, monotonicUs, replay, type Handover } from './handover.ts';

// A received packet's age (queue wait, µs) beyond this is taken for a realtime clock step.
const MAX_AGE_US = 1_000_000;


type Router = VirtualRouter<Wire>;

export interface EngineOptions {
  log: Logger;
  // CLOCK_MONOTONIC in microseconds (shared with the engine a warm start hands over to); tests
  // may pass their own clock.
  now?: () => number;
}

export class Engine implements Commands<Wire> {
  state: EngineState<Wire>;
  private readonly logger: Logger;
  private readonly now: () => number;
  // The shim's CLOCK_MONOTONIC (no test clock): a wake-up's time comes with its callback.
  private readonly kernelClock: boolean;
  // Set by every command but an advert sent and the timer armed: a timer callback that leaves it
  // 0 queued no promise or tick, and its microtask checkpoint is skipped (host/native/poll.c).
  private effects = 0;
  private nl: Netlink | undefined;
  private monitor: NetlinkMonitor | undefined;
  private loop: EngineLoop | undefined;
  private readonly sockets = new SocketTable();
  private readonly announcers = new Map<string, Announcer>();
  private stopping = false;
  readonly startedAt = new Date();
  /** Lock the code once the memory trim is done (set when realtime is on). */
  lockMemory = false;

  constructor(o: EngineOptions) {
    this.logger = o.log;
    this.now = o.now ?? monotonicUs;
    this.kernelClock = o.now === undefined;
    this.state = new EngineState<Wire>({ commands: this, wallOffsetMs: Date.now() - this.now() / 1000 });
  }

  get core() { return this.state.core; }

  // ---- life cycle ------------------------------------------------------------------------------

  async start(spec: EngineSpec): Promise<void> {
    this.open(spec);
    this.state.setChecks(spec.checks ?? []);
    try {
      for (const s of spec.instances) await this.add(s, groupIndex(spec, s.name));
    } catch (err) {
      await this.stop();
      throw err;
    }
    const now = this.now();
    for (const r of this.state.routers.values()) this.state.start(now, r.spec.name);
    this.loop!.trimLater();
  }

  // What a start and a takeover both begin with: netlink, the one timer, the events.
  private open(_spec: EngineSpec): void {
    this.nl = new Netlink();
    this.loop = new EngineLoop({ log: this.logger, now: this.now, absolute: this.kernelClock, onTimer: this.onTimerFd });
    this.loop.lockMemory = this.lockMemory;
    this.monitor = new NetlinkMonitor();
    this.monitor.on('link', (e) => this.onLink(e));
    this.monitor.on('address', (e) => this.onAddress(e));
    this.monitor.on('overrun', () => { if (this.held) this.held.push(() => void this.resync()); else void this.resync(); });
  }

  // Graceful stop: masters send priority 0, every VIP is removed, sockets closed.
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.loop?.close();
    this.state.stop(this.now());
    const routers = [...this.state.routers.values()];
    for (const r of routers) {
      r.wire!.announcement?.stop();
      await r.wire!.vipOp;
      await releaseVips(this.nl!, r, this.logger);
    }
    await Promise.allSettled(routers.map((r) => r.wire!.lastNotify));
    for (const r of routers) await this.forget(r);
    for (const a of this.announcers.values()) a.close();
    this.announcers.clear();
    this.monitor?.close();
    this.nl?.close();
  }

  // A reload: removed instances stop (and release their VIPs), added ones start, changed ones
  // are reconfigured in place when their identity is the same, so they keep state and VIPs.
  async reload(spec: EngineSpec): Promise<{ added: string[]; removed: string[]; changed: string[]; restarted: string[] }> {
    const plan = reloadPlan(this.state.routers, spec);
    this.state.setChecks(spec.checks ?? []);
    for (const name of plan.remove) await this.forget(this.state.router(name)!, true);
    for (const { spec: s, group } of plan.add) {
      await this.add(s, group);
      this.state.start(this.now(), s.name);
    }
    for (const { spec: s, group } of plan.configure) {
      const r = this.state.router(s.name)!;
      // The wire first: a swap of the VIPs the state asks for uses the new requests.
      r.wire!.configure(s, r.env);
      this.state.configure(this.now(), s, group, await tracksFailing(this.nl!, s, this.logger));
    }
    this.loop?.trimLater();
    return {
      added: plan.add.map((a) => a.spec.name).filter((n) => !plan.restart.has(n)),
      removed: plan.remove.filter((n) => !plan.restart.has(n)),
      changed: plan.configure.map((c) => c.spec.name),
      restarted: [...plan.restart],
    };
  }

  private async add(s: InstanceSpec, group: number): Promise<Router> {
    // With a VMAC the instance speaks on a macvlan carrying the virtual MAC (RFC 5798 §7.3);
    // its VIPs live there, and its source address is still the parent's.
    const vmac = s.vmac ? await makeVmac(this.nl!, s, this.logger) : undefined;
    const ifname = vmac?.name ?? s.interface;
    let sock: SocketEntry | undefined;
    try {
      const ifindex = ifIndex(ifname);
      sock = await this.socketFor(s, ifname);
      const link = await this.nl!.getLink(ifindex);
      const env: RouterEnv = {
        ifindex, ifname, mac: link.mac ?? null, source: sock.sock.source, linkFailing: !(link.up && link.lowerUp),
        tracksFailing: await tracksFailing(this.nl!, s, this.logger), vmac: vmac ? { name: vmac.name, mac: vmac.mac } : null,
      };
      const wire = new Wire(s, env, sock, vmac);
      await removeStaleVips(this.nl!, s, env, this.logger);
      return this.state.add(this.now(), s, group, env, wire);
    } catch (err) {
      if (sock) this.sockets.unuse(sock);
      await vmac?.remove().catch(() => {});
      throw err;
    }
  }

  // Unless `listen` is false (an engine taking over: it listens once it runs, adopt()).
  private async socketFor(s: InstanceSpec, ifname: string, listen = true): Promise<SocketEntry> {
    return this.sockets.use(s, ifname, listen ? (e) => this.listen(e) : undefined);
  }

  private listen(e: SocketEntry): void {
    const inBuf = this.core.inBuf;
    e.sock.listen(inBuf, 0, inBuf.length, (p) => this.onPacket(e, p));
  }

  // The router leaves the state (priority 0 first when `stop`: a reload's), its VIPs released,
  // its socket and VMAC closed.
  private async forget(r: Router, stop = false): Promise<void> {
    const w = r.wire!;
    this.state.remove(this.now(), r.spec.name);
    if (stop) {
      await w.vipOp;
      await releaseVips(this.nl!, r, this.logger);
    }
    this.sockets.unuse(w.sock);
    if (w.vmac) {
      this.announcers.get(r.env.ifname)?.close();
      this.announcers.delete(r.env.ifname);
      await w.vmac.remove().catch((err) => this.logger.error(`${r.spec.name}: removing VMAC ${r.env.ifname} failed: ${(err as Error).message}`));
    }
  }

  // ---- a warm start (host/agent/handover.ts) ----------------------------------------------------

  // Every input to the state, while this engine runs before handing over to another.
  private journal: Handover['journal'] | undefined;
  /** From now on, every input to the state is recorded for a handover (call before start). */
  startJournal(): void {
    const j: Handover['journal'] = this.journal = [];
    this.state.record = (e) => { j.push(e); };
  }

  /**
   * Resolves right after this engine's next event (a deadline met, say an advert sent), or
   * after `maxMs`: the moment with the most time before the next deadline, for a handover.
   */
  afterNextEvent(maxMs: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.afterEvent = undefined; resolve(); }, maxMs);
      this.afterEvent = () => { clearTimeout(t); resolve(); };
    });
  }
  private afterEvent: (() => void) | undefined;
  private eventDone(): void {
    const f = this.afterEvent;
    if (f) { this.afterEvent = undefined; f(); }
  }

  /**
   * The first half of a handover: this engine stops without a word on the wire (no priority 0,
   * VIPs and notify hooks as they are) and says what the next one needs to go on from here.
   * `config`: the config line it ran, for the next engine to check against its own.
   */
  async handOver(config: string): Promise<Handover> {
    if (!this.journal || this.stopping) throw new HandoverError('this engine was not started for a handover');
    // What is queued to its sockets is this engine's to handle; what comes after, the next's.
    const inBuf = this.core.inBuf;
    for (const e of this.sockets.values()) e.sock.readQueued(inBuf, 0, inBuf.length, (p) => this.onPacket(e, p));
    this.stopping = true;
    this.loop?.close();
    for (const e of this.sockets.values()) e.sock.unlisten();
    this.monitor?.close();
    const instances: Handover['instances'] = {};
    for (const r of this.state.routers.values()) {
      const w = r.wire!;
      w.announcement?.stop();
      await w.vipOp;
      const frames = r.spec.virtualAddresses.length;
      const bursts = w.announcement ? Math.floor(w.announcement.sent / Math.max(1, frames)) : 0;
      instances[r.spec.name] = { burstsLeft: w.announcement ? Math.max(0, r.spec.garp.count - bursts) : 0 };
    }
    const cutoff: Handover['cutoff'] = {};
    for (const e of this.sockets.values()) {
      if (e.lastStamp) cutoff[e.key] = e.lastStamp;
      e.sock.close();
    }
    this.sockets.clear();
    // Closed once the handover line is out: closing a packet socket waits for an RCU grace
    // period in the kernel (synchronize_net), measured at 26 ms here, on the handover's path.
    const announcers = [...this.announcers.values()];
    this.announcers.clear();
    setImmediate(() => { for (const a of announcers) a.close(); });
    this.nl?.close();
    const journal = this.journal;
    this.state.record = undefined;
    this.journal = undefined;
    return { v: 2, config, wallOffsetMs: this.state.wallOffsetMs, journal, cutoff, instances };
  }

  // Link, address and check events that came while an engine was being handed its instances:
  // carried out, in order, once it runs.
  private held: (() => void)[] | undefined;
  private adopted = new Map<string, Wire>();

  /**
   * The second half, step one: everything an engine needs before it can take over (netlink,
   * the timer, its sockets, open but not read: the datagrams queue for it), and nothing in the
   * state yet. No VMACs: a warm start is not offered for them (host/agent/warm-start.ts).
   */
  async prepareAdopt(spec: EngineSpec): Promise<void> {
    this.held = [];
    this.open(spec);
    for (const s of spec.instances) {
      if (s.vmac) throw new HandoverError(`instance ${s.name} has a VMAC: no handover`);
      const ifindex = ifIndex(s.interface);
      const sock = await this.socketFor(s, s.interface, false);
      const link = await this.nl!.getLink(ifindex);
      // The env the state gets is the first engine's (in its journal); this one's for the wire.
      const env: RouterEnv = { ifindex, ifname: s.interface, mac: link.mac ?? null, source: sock.sock.source,
        linkFailing: false, tracksFailing: [], vmac: null };
      this.adopted.set(s.name, new Wire(s, env, sock, undefined));
    }
  }

  /**
   * Step two: the state as the first engine left it (its journal replayed), and then live: the
   * datagrams its sockets got after the first engine's last, the timer, the events held
   * meanwhile, the GARP / NA refresh of each master.
   */
  adopt(h: Handover): void {
    if (!this.held) throw new HandoverError('prepareAdopt first');
    const state = new EngineState<Wire>({ commands: this, wallOffsetMs: h.wallOffsetMs, core: this.core });
    replay(state, h.journal);
    for (const [name, w] of this.adopted) {
      const r = state.router(name);
      if (!r || !h.instances[name]) throw new HandoverError(`the first engine did not run instance ${name}`);
      r.wire = w;
    }
    if (state.routers.size !== this.adopted.size) throw new HandoverError('the first engine ran instances this one does not');
    this.state = state;
    this.adopted.clear();
    const inBuf = this.core.inBuf;
    for (const e of this.sockets.values()) {
      const cut = h.cutoff[e.key];
      e.sock.readQueued(inBuf, 0, inBuf.length, (p) => { if (after(cut, p.stampSec, p.stampNsec)) this.onPacket(e, p); });
      this.listen(e);
    }
    for (const r of state.routers.values()) {
      const left = h.instances[r.spec.name]!.burstsLeft;
      if (!r.wantVips) continue;
      if (left > 0) this.announceFor(r, { count: left });
      else if (r.spec.garp.refreshUs > 0) this.announceFor(r, { count: 1, startMs: r.spec.garp.refreshUs / 1000 });
    }
    const held = this.held;
    this.held = undefined;
    for (const f of held) f();
    this.loop!.trimLater();
    // A deadline the handover made this engine miss is met now, not a timer's wake-up later.
    if (this.core.pollTimeout() <= this.now()) this.onTimer(this.now());
    else this.loop!.arm(this.core.pollTimeout());
  }

  // ---- events in --------------------------------------------------------------------------------

  // The timerfd's callback: 0 when all it did was send and re-arm (no checkpoint needed).
  private readonly onTimerFd = (): number => this.onTimer(this.kernelClock ? wakeClock[0]! : this.now());

  private onTimer(now: number): number {
    this.effects = 0;
    this.state.timeout(now);
    if (this.afterEvent) { this.eventDone(); return 1; }
    return this.effects;
  }

  private onPacket(e: SocketEntry, p: ReceivedPacket): void {
    if (this.journal) e.lastStamp = [p.stampSec, p.stampNsec];
    // The core is given the kernel's arrival time, so Master_Down_Interval runs from the last
    // advert as received, as keepalived's does (it reads its clock as epoll_wait returns), not
    // from whenever this loop got to it. An age over MAX_AGE_US is a clock step: ignored.
    const age = p.ageUs;
    const now = age >= 0 && age < MAX_AGE_US ? this.now() - age : this.now();
    if (e.sock.family === 4) this.state.packetIp(now, e.sock.ifindex, p.offset + p.length);
    else this.state.packetVrrp(now, e.sock.ifindex, 6, p.ttl, p.srcBytes, p.dst, p.length);
    if (this.afterEvent) this.eventDone();
  }

  private onAddress(e: AddrEvent): void {
    if (this.held) { this.held.push(() => this.onAddress(e)); return; }
    if (e.op !== 'del' || this.stopping) return;
    this.state.address(this.now(), { op: e.op, index: e.index, address: e.address });
  }

  private onLink(e: LinkEvent): void {
    if (this.held) { this.held.push(() => this.onLink(e)); return; }
    if (this.stopping) return;
    this.state.link(this.now(), { index: e.index, name: e.name, up: e.up, lowerUp: e.lowerUp, deleted: e.deleted });
  }

  // The kernel dropped events: link state read again, fed to the state as events.
  private async resync(): Promise<void> {
    this.logger.warn('netlink event queue overran: re-reading link state');
    for (const e of await linkStates(this.nl!, this.state.routers.values())) this.state.link(this.now(), e);
  }

  /** A line from the checker process (relayed by the supervisor). */
  checkReport(r: CheckReport): void {
    if (this.held) { this.held.push(() => this.checkReport(r)); return; }
    if (this.stopping) return;
    this.state.checkReport(this.now(), r);
  }

  status() {
    return engineStatus(this.state, this.now(), { pid: process.pid, startedAt: this.startedAt, kernelDrops: this.sockets.kernelDrops(), kernelFilter: this.sockets.filterRefused });
  }

  // ---- commands out (host/agent/engine-state.ts) ---------------------------------------------------

  send(r: Router, bytes: Uint8Array, peer: number): void {
    const w = r.wire;
    if (!w) return;
    try {
      w.sock.sock.send(bytes, 0, bytes.length, peer >= 0 ? w.peerSockaddrs[peer]! : w.sock.sock.group);
    } catch (err) {
      this.effects = 1;
      this.logger.warn(`instance ${r.spec.name}: advert not sent: ${(err as Error).message}`, { instance: r.spec.name });
    }
  }

  vips(r: Router, add: boolean): void {
    this.effects = 1;
    const w = r.wire;
    if (!w) return;
    if (!add) w.announcement?.stop();
    w.queue(() => add ? addVips(this.nl!, r, this.logger) : releaseVips(this.nl!, r, this.logger));
  }

  swapVips(r: Router, old: InstanceSpec): void {
    this.effects = 1;
    r.wire?.queue(() => swapVips(this.nl!, r, old, this.logger));
  }

  announce(r: Router): void {
    this.effects = 1;
    // After the VIPs are in place, so neighbours that answer at once find them.
    r.wire?.queue(() => {
      if (!r.wantVips || this.stopping) return;
      this.announceFor(r, { count: Math.max(1, r.spec.garp.count) });
    }, (err) => this.logger.warn(`${r.spec.name}: announce failed: ${(err as Error).message}`));
  }

  armTimer(deadline: number, now?: number): void { if (!this.stopping && this.loop?.arm(deadline, now)) this.effects = 1; }

  notify(r: Router, hook: string, e: Parameters<Commands['notify']>[2]): void {
    this.effects = 1;
    if (!r.wire) return;
    r.wire.lastNotify = runNotify(hook, { instance: r.spec.name, ...e }, r.spec.notify.timeoutUs, this.logger, r.spec.notify.user);
  }

  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void { this.effects = 1; this.logger[level](msg, fields); }

  private announceFor(r: Router, o: { count: number; startMs?: number }): void {
    let a = this.announcers.get(r.env.ifname);
    if (!a) { a = new Announcer(r.env.ifname); this.announcers.set(r.env.ifname, a); }
    announce(a, this.core, r, o);
  }
}
