// The VRRP engine: feeds the core packets, timeouts and link events, and carries out its
// actions on the wire and in the kernel. It owns the clock and every socket; the core owns
// every protocol decision. One OS timer (the core's earliest deadline), readiness callbacks
// from libuv for the sockets, nothing else.
import { Core, type ActionHandler } from '../core/core.ts';
import { isLinkLocal6, parseAddress, type Family } from '../core/addr.ts';
import { REASON_TEXT, type StateName, type ReasonName, COUNTERS } from '../core/codes.ts';
import { VrrpSocket, ifIndex, type ReceivedPacket } from '../net/vrrp-socket.ts';
import { Netlink, NetlinkMonitor, addressRequest, type AddrEvent, type LinkEvent, type PreparedRequest } from '../net/netlink.ts';
import { Announcer } from '../net/announce.ts';
import { createVmac, type Vmac } from '../net/vmac.ts';
import { shim, K } from '../net/shim.ts';
import { parseMac, sockaddrIn, sockaddrIn6 } from '../net/sockaddr.ts';
import type { Logger } from './log.ts';
import { runNotify } from './notify.ts';
import type { CheckSpec, EngineSpec, InstanceSpec } from './spec.ts';
import type { CheckReport } from '../checks/protocol.ts';
import { diffInstance } from '../config/diff.ts';
import { MemoryLockError, MemoryTrim } from './trim.ts';
import { after, HandoverError, monotonicUs, recordInputs, replay, type Handover, type JournalEntry, type TransitionRecord } from './handover.ts';

// The interface's own state is tracked in the last slot with weight 0: down = Fault.
const OWN_LINK_TRACK = 31;
const HISTORY = 100;
// A received packet's age (queue wait, µs) beyond this is taken for a realtime clock step.
const MAX_AGE_US = 1_000_000;

// The receive stamp of the last datagram read (host/agent/handover.ts), while journaling.
interface SocketEntry { sock: VrrpSocket; users: number; key: string; lastStamp?: [number, number] }

// A health check as the engine knows it: from the checker process's reports (host/checks/).
// Until a check's state is settled (its first `rise` successes, or `fall` failures) it counts
// as failing: keepalived's track_script behaviour, so a weight-0 check keeps its instance in
// FAULT, with no VIP, until the backend is healthy. A restarted checker's unsettled reports
// leave the state as it was.
interface CheckStatus {
  name: string;
  type: string;
  target: string;
  up: boolean;
  known: boolean;             // a settled report arrived
  error: string | null;
  latencyMs: number | null;
  transitions: number;        // changes of `up` seen by this engine
  rounds: number;             // as the checker process counts them (since it started)
  failures: number;
  since: string | null;       // when `up` last changed here
  policy: object | null;      // type policy: the policy's state as the checker reports it
  pool: { name: string; server: string; weight: number } | null;   // the real server this check puts in a pool
  run: CheckReport['run'] | null;   // rise/fall progress as the checker last reported it (the status page shows it)
}

class Running {
  spec: InstanceSpec;
  slot: number;
  ifindex: number;
  sock: SocketEntry;
  mac: Uint8Array = new Uint8Array(6);
  peerAddrs: Uint8Array[] = [];     // 16-byte core form, to match SEND destinations
  peerSockaddrs: Uint8Array[] = [];
  state: StateName = 'init';
  group = -1;
  ifname = '';                      // where it speaks: the interface, or its VMAC
  vmac: Vmac | undefined;
  wantVips = false;
  vipAdds: PreparedRequest[] = [];   // for spec: prepareVips() wherever spec is set
  vipOp: Promise<void> = Promise.resolve();
  private vipBusy = 0;
  // VIP work for this instance, in order, one operation at a time. With nothing in flight it
  // starts now, synchronously up to its first await (the netlink request is sent in the
  // caller's turn, not a promise turn later: a takeover is timed to the VIP on the box).
  queue(fn: () => unknown, onError?: (err: unknown) => void): void {
    const run = async () => {
      try { await fn(); } catch (err) { if (onError) onError(err); else throw err; } finally { this.vipBusy--; }
    };
    this.vipOp = ++this.vipBusy === 1 ? run() : this.vipOp.then(run, run);
  }
  announcement: { readonly sent: number; stop(): void } | undefined;
  transitions: TransitionRecord[] = [];
  lastNotify: Promise<unknown> = Promise.resolve();
  constructor(spec: InstanceSpec, slot: number, ifindex: number, sock: SocketEntry) {
    this.spec = spec; this.slot = slot; this.ifindex = ifindex; this.sock = sock;
  }
}

export interface EngineOptions {
  log: Logger;
  // CLOCK_MONOTONIC in microseconds (shared with the engine a warm start hands over to); tests
  // may pass their own clock.
  now?: () => number;
}

export class Engine {
  readonly core = new Core();
  private readonly log: Logger;
  private readonly now: () => number;
  private nl: Netlink | undefined;
  private monitor: NetlinkMonitor | undefined;
  private readonly sockets = new Map<string, SocketEntry>();
  private readonly announcers = new Map<string, Announcer>();
  private readonly bySlot = new Map<number, Running>();
  private readonly byName = new Map<string, Running>();
  private readonly checks = new Map<string, CheckStatus>();
  // One timerfd for the core's earliest deadline (microsecond resolution; see the shim).
  private timerFd = -1;
  private readonly handler: ActionHandler;
  private stopping = false;
  readonly startedAt = new Date();

  constructor(o: EngineOptions) {
    this.log = o.log;
    this.now = o.now ?? monotonicUs;
    this.handler = {
      transition: (slot, from, to, reason) => this.onTransition(slot, from, to, reason),
      send: (slot, _family, _prio, bytes, dst) => this.onSend(slot, bytes, dst),
      vips: (slot, add) => this.onVips(slot, add),
      announce: (slot) => this.onAnnounce(slot),
    };
  }

  // ---- life cycle ------------------------------------------------------------------------------

  async start(spec: EngineSpec): Promise<void> {
    this.open(spec);
    try {
      for (const s of spec.instances) await this.add(s, groupIndex(spec, s.name));
    } catch (err) {
      await this.stop();
      throw err;
    }
    const now = this.now();
    for (const r of this.byName.values()) this.core.start(r.slot, now);
    this.trimAt = now + TRIM_AFTER_US;
    this.pump();
  }

  // What a start and a takeover both begin with: the checks, netlink, the one timer, the events.
  private open(spec: EngineSpec): void {
    this.setChecks(spec.checks ?? []);
    this.nl = new Netlink();
    this.timerFd = shim().timerCreate();
    shim().pollStart(this.timerFd, K('UV_READABLE'), this.onTimer);
    this.monitor = new NetlinkMonitor();
    this.monitor.on('link', (e) => this.onLink(e));
    this.monitor.on('address', (e) => this.onAddress(e));
    this.monitor.on('overrun', () => { if (this.held) this.held.push(() => void this.resync()); else void this.resync(); });
  }

  // Graceful stop: masters send priority 0, every VIP is removed, sockets closed.
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.timerFd >= 0) { shim().close(this.timerFd); this.timerFd = -1; }
    const now = this.now();
    for (const r of this.byName.values()) this.core.stop(r.slot, now);
    this.drainActions();
    for (const r of this.byName.values()) {
      r.announcement?.stop();
      await r.vipOp;
      await this.release(r);
    }
    await Promise.allSettled([...this.byName.values()].map((r) => r.lastNotify));
    for (const r of [...this.byName.values()]) await this.forget(r);
    for (const a of this.announcers.values()) a.close();
    this.announcers.clear();
    this.monitor?.close();
    this.nl?.close();
  }

  // A reload: removed instances stop (and release their VIPs), added ones start, changed ones
  // are reconfigured in place when their identity is the same, so they keep state and VIPs.
  async reload(spec: EngineSpec): Promise<{ added: string[]; removed: string[]; changed: string[]; restarted: string[] }> {
    const out = { added: [] as string[], removed: [] as string[], changed: [] as string[], restarted: [] as string[] };
    this.setChecks(spec.checks ?? []);
    const wanted = new Map(spec.instances.map((s) => [s.name, s]));
    for (const r of [...this.byName.values()]) {
      const s = wanted.get(r.spec.name);
      if (!s || identity(s) !== identity(r.spec)) {
        this.core.stop(r.slot, this.now());
        this.drainActions();
        await r.vipOp;
        await this.release(r);
        await this.forget(r);
        (s ? out.restarted : out.removed).push(r.spec.name);
      }
    }
    for (const s of spec.instances) {
      const r = this.byName.get(s.name);
      if (!r) {
        const nr = await this.add(s, groupIndex(spec, s.name));
        this.core.start(nr.slot, this.now());
        if (!out.restarted.includes(s.name)) out.added.push(s.name);
      } else if (diffInstance(r.spec, s) || groupIndex(spec, s.name) !== r.group) {
        const vipsChanged = JSON.stringify(r.spec.virtualAddresses) !== JSON.stringify(s.virtualAddresses);
        const oldSpec = r.spec;
        r.spec = s;
        r.group = groupIndex(spec, s.name);
        this.core.configure(r.slot, this.coreConfig(s, r.ifindex, r.group));
        this.setPeers(r);
        this.prepareVips(r);
        await this.applyTracks(r);
        if (vipsChanged && r.wantVips) r.queue(() => this.swapVips(r, oldSpec));
        out.changed.push(s.name);
      }
    }
    this.trimAt = this.now() + TRIM_AFTER_US;
    this.trim = undefined;
    this.pump();
    return out;
  }

  private async add(s: InstanceSpec, group: number): Promise<Running> {
    // With a VMAC the instance speaks on a macvlan carrying the virtual MAC (RFC 5798 §7.3);
    // its VIPs live there, and its source address is still the parent's.
    const vmac = s.vmac ? await this.makeVmac(s) : undefined;
    const ifname = vmac?.name ?? s.interface;
    let sock: SocketEntry | undefined;
    let slot = -1;
    try {
      const ifindex = ifIndex(ifname);
      sock = await this.socketFor(s, ifname);
      const link = await this.nl!.getLink(ifindex);
      slot = this.core.addInstance(this.coreConfig(s, ifindex, group, sock.sock.source));
      const r = new Running(s, slot, ifindex, sock);
      r.group = group;
      r.ifname = ifname;
      r.vmac = vmac;
      if (link.mac) r.mac = parseMac(link.mac);
      this.setPeers(r);
      this.prepareVips(r);
      await this.removeStaleVips(r);
      this.bySlot.set(slot, r);
      this.byName.set(s.name, r);
      this.core.track(slot, OWN_LINK_TRACK, 0, !(link.up && link.lowerUp), this.now());
      await this.applyTracks(r);
      this.drainActions();
      return r;
    } catch (err) {
      if (slot >= 0) this.core.remove(slot, this.now());
      if (sock) this.unuseSocket(s, ifname, sock);
      await vmac?.remove().catch(() => {});
      throw err;
    }
  }

  // A VMAC of ours left by a run that died is removed and made again, so its settings are ours.
  private async makeVmac(s: InstanceSpec): Promise<Vmac> {
    const name = `${s.family === 4 ? 'vrrp' : 'vrrp6'}.${s.vrid}`;
    const old = await this.nl!.getLink(name).catch(() => undefined);
    if (old) {
      this.log.warn(`${s.name}: removing stale VMAC ${name} (left by an earlier run)`, { instance: s.name });
      await this.nl!.deleteLink(old.index);
    }
    return createVmac({ parent: s.interface, vrid: s.vrid, family: s.family, name }, this.nl);
  }

  private coreConfig(s: InstanceSpec, ifindex: number, group: number, source?: string) {
    return {
      ifindex, vrid: s.vrid, version: s.version, family: s.family, priority: s.priority,
      advertIntervalCs: s.advertIntervalCs, preempt: s.preempt, preemptDelayCs: Math.round(s.preemptDelayUs / 1e4),
      acceptMode: s.acceptMode, auth: s.auth.type === 'pass' ? s.auth : undefined, primary: source ?? this.bySlotName(s.name)?.sock.sock.source ?? '0.0.0.0',
      vips: s.virtualAddresses.map((v) => v.address), peers: s.unicastPeers ?? [], group,
    };
  }

  private bySlotName(name: string): Running | undefined { return this.byName.get(name); }

  private setPeers(r: Running): void {
    const peers = r.spec.unicastPeers ?? [];
    r.peerAddrs = peers.map((p) => parseAddress(p));
    r.peerSockaddrs = peers.map((p) => r.spec.family === 4 ? sockaddrIn(p) : sockaddrIn6(p, isLinkLocal6(parseAddress(p)) ? r.ifindex : 0));
  }

  // Track indexes: the interfaces from 0, then the checks (config allows 31 in all).
  private async applyTracks(r: Running): Promise<void> {
    const now = this.now();
    const list = r.spec.track.interfaces;
    const checks = r.spec.track.checks;
    for (let i = 0; i < OWN_LINK_TRACK; i++) {
      const t = list[i];
      const c = checks[i - list.length];
      if (!t && c) { this.core.track(r.slot, i, c.weight, !this.checks.get(c.name)?.up, now); continue; }
      if (!t) { this.core.track(r.slot, i, 0, false, now); continue; }
      let failing = true;
      try {
        const l = await this.nl!.getLink(t.name);
        failing = !(l.up && l.lowerUp);
      } catch {
        this.log.warn(`instance ${r.spec.name}: tracked interface ${t.name} does not exist; counted as down`, { instance: r.spec.name });
      }
      this.core.track(r.slot, i, t.weight, failing, this.now());
    }
  }

  private key(s: InstanceSpec, ifname: string): string { return `${ifname}/${s.family}/${s.unicastSource ?? ''}`; }

  // Unless `listen` is false (an engine taking over: it listens once it runs, adopt()).
  private async socketFor(s: InstanceSpec, ifname: string, listen = true): Promise<SocketEntry> {
    const k = this.key(s, ifname);
    let e = this.sockets.get(k);
    if (!e) {
      const sock = await VrrpSocket.open({ ifname, family: s.family, source: s.unicastSource ?? undefined, sourceIfname: s.interface });
      e = { sock, users: 0, key: k };
      this.sockets.set(k, e);
      if (listen) this.listen(e);
    }
    e.users++;
    return e;
  }

  private listen(e: SocketEntry): void {
    e.sock.listen(this.core.inBuf, 0, this.core.inBuf.length, (p) => this.onPacket(e, p));
  }

  private unuseSocket(s: InstanceSpec, ifname: string, e: SocketEntry): void {
    if (--e.users > 0) return;
    e.sock.unlisten();
    e.sock.close();
    this.sockets.delete(this.key(s, ifname));
  }

  // After release(): the instance's slot, socket and VMAC go.
  private async forget(r: Running): Promise<void> {
    this.core.remove(r.slot, this.now());
    this.bySlot.delete(r.slot);
    this.byName.delete(r.spec.name);
    this.unuseSocket(r.spec, r.ifname, r.sock);
    if (r.vmac) {
      this.announcers.get(r.ifname)?.close();
      this.announcers.delete(r.ifname);
      await r.vmac.remove().catch((err) => this.log.error(`${r.spec.name}: removing VMAC ${r.ifname} failed: ${(err as Error).message}`));
    }
  }

  // ---- a warm start (host/agent/handover.ts) ----------------------------------------------------

  // Every input to the core, while this engine runs before handing over to another.
  private journal: JournalEntry[] | undefined;
  private stopJournal: (() => void) | undefined;
  /** From now on, every input to the core is recorded for a handover (call before start). */
  startJournal(): void {
    this.journal = [];
    this.stopJournal = recordInputs(this.core, this.journal);
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
    for (const e of this.sockets.values()) {
      e.sock.readQueued(this.core.inBuf, 0, this.core.inBuf.length, (p) => this.onPacket(e, p));
    }
    this.stopping = true;
    if (this.timerFd >= 0) { shim().close(this.timerFd); this.timerFd = -1; }
    for (const e of this.sockets.values()) e.sock.unlisten();
    this.monitor?.close();
    const instances: Handover['instances'] = {};
    for (const r of this.byName.values()) {
      r.announcement?.stop();
      await r.vipOp;
      const frames = r.spec.virtualAddresses.length;
      const bursts = r.announcement ? Math.floor(r.announcement.sent / Math.max(1, frames)) : 0;
      instances[r.spec.name] = {
        slot: r.slot, wantVips: r.wantVips, transitions: r.transitions,
        burstsLeft: r.announcement ? Math.max(0, r.spec.garp.count - bursts) : 0,
      };
    }
    const cutoff: Handover['cutoff'] = {};
    for (const e of this.sockets.values()) {
      if (e.lastStamp) cutoff[e.key] = e.lastStamp;
      e.sock.close();
    }
    this.sockets.clear();
    for (const a of this.announcers.values()) a.close();
    this.announcers.clear();
    this.nl?.close();
    const journal = this.journal;
    this.stopJournal?.();
    this.journal = undefined;
    return { v: 1, config, journal, cutoff, instances };
  }

  // Link, address and check events that came while an engine was being handed its instances:
  // carried out, in order, once it runs.
  private held: (() => void)[] | undefined;
  private adopted: Running[] = [];

  /**
   * The second half, step one: everything an engine needs before it can take over (netlink,
   * the timer, its sockets, open but not read: the datagrams queue for it), and nothing in the
   * core yet. No VMACs: a warm start is not offered for them (host/cli/run.ts).
   */
  async prepareAdopt(spec: EngineSpec): Promise<void> {
    this.held = [];
    this.open(spec);
    for (const s of spec.instances) {
      if (s.vmac) throw new HandoverError(`instance ${s.name} has a VMAC: no handover`);
      const ifindex = ifIndex(s.interface);
      const sock = await this.socketFor(s, s.interface, false);
      const link = await this.nl!.getLink(ifindex);
      const r = new Running(s, -1, ifindex, sock);
      r.group = groupIndex(spec, s.name);
      r.ifname = s.interface;
      if (link.mac) r.mac = parseMac(link.mac);
      this.setPeers(r);
      this.prepareVips(r);
      this.adopted.push(r);
    }
  }

  /**
   * Step two: the core as the first engine left it (its journal replayed), the instances, and
   * then live: the datagrams its sockets got after the first engine's last, the timer, the
   * events held meanwhile, the GARP / NA refresh of each master.
   */
  adopt(h: Handover): void {
    if (!this.held) throw new HandoverError('prepareAdopt first');
    replay(this.core, h.journal);
    for (const r of this.adopted) {
      const i = h.instances[r.spec.name];
      if (!i) throw new HandoverError(`the first engine did not run instance ${r.spec.name}`);
      r.slot = i.slot;
      r.state = this.core.state(i.slot);
      r.wantVips = i.wantVips;
      r.transitions = i.transitions;
      this.bySlot.set(r.slot, r);
      this.byName.set(r.spec.name, r);
    }
    this.adopted = [];
    for (const e of this.sockets.values()) {
      const cut = h.cutoff[e.key];
      e.sock.readQueued(this.core.inBuf, 0, this.core.inBuf.length, (p) => { if (after(cut, p.stampSec, p.stampNsec)) this.onPacket(e, p); });
      this.listen(e);
    }
    for (const r of this.byName.values()) {
      const left = h.instances[r.spec.name]!.burstsLeft;
      if (!r.wantVips) continue;
      if (left > 0) this.announceFor(r, { count: left });
      else if (r.spec.garp.refreshUs > 0) this.announceFor(r, { count: 1, startMs: r.spec.garp.refreshUs / 1000 });
    }
    const held = this.held;
    this.held = undefined;
    for (const f of held) f();
    this.trimAt = this.now() + TRIM_AFTER_US;
    // A deadline the handover made this engine miss is met now, not a timer's wake-up later.
    if (this.core.pollTimeout() <= this.now()) this.onTimer();
    else this.pump();
  }

  // ---- the event loop --------------------------------------------------------------------------

  // After every event: carry out the actions, then arm the one timer for the next deadline.
  private pump(): void {
    this.drainActions();
    if (this.stopping || this.timerFd < 0) return;
    const d = this.core.pollTimeout();
    const wait = d === Infinity ? Infinity : d - this.now();
    shim().timerSet(this.timerFd, wait);
    // The young generation is collected here, right after an event was handled and with the
    // next deadline far enough away, every GC_EVERY events, so it never fills up at a moment
    // of its own: a scavenge forced by an allocation took 2-4 ms here (one in every ~15 s at
    // 100 adverts/s), which is an advert that late.
    if (++this.sinceGc >= GC_EVERY && wait > GC_ROOM_US) {
      this.sinceGc = 0;
      // Made at the first collection, not at start: a new V8 context (~3 ms) is not for the
      // path to the first advert.
      this.minorGc ??= minorGcFunction() ?? null;
      this.minorGc?.({ type: 'minor' });
    } else if (this.trimAt && wait > GC_ROOM_US && this.now() >= this.trimAt) {
      this.trimStep();
    }
  }
  private sinceGc = 0;
  private minorGc: ((o: { type: 'minor' }) => void) | null | undefined;

  // Once the engine has settled after a start or a reload, the memory only that needed goes
  // back, a step (~1 ms) at a time between events (host/agent/trim.ts): at 100 adverts/s, RSS
  // 57 -> ~28 MB. 0: nothing pending.
  private trimAt = 0;
  private trim: MemoryTrim | undefined;
  /** Lock the code once a trim is done (host/cli/run.ts sets it when realtime is on). */
  lockMemory = false;
  private codeLocked = false;
  private lockWarned = false;
  private trimStep(): void {
    try {
      this.trim ??= new MemoryTrim(shim(), { lock: this.lockMemory, unlockFirst: this.codeLocked });
      const more = this.trim.step();
      // Set from the first lock on: a pass a reload cuts short has locked some already.
      if (this.trim.lockedBytes > 0) this.codeLocked = true;
      if (more) return;
      this.log.debug(`memory: ${(this.trim.droppedKb / 1024).toFixed(1)} MB of file pages given back`);
      if (this.trim.lockedBytes) this.log.debug(`memory: the code's ${(this.trim.lockedBytes / 1048576).toFixed(0)} MB of file mappings locked on fault`);
    } catch (err) {
      if (err instanceof MemoryLockError) {
        this.codeLocked = false;
        if (!this.lockWarned) this.log.warn(err.message);
        this.lockWarned = true;
      } else {
        // A shim built before these ops, say: the pages stay, nothing else changes.
        this.log.debug(`memory trim stopped: ${(err as Error).message}`);
      }
    }
    this.trimAt = 0;
    this.trim = undefined;
  }

  private readonly onTimer = (): void => {
    this.core.handleTimeout(this.now(), this.handler);
    this.pump();
    if (this.afterEvent) this.eventDone();
  };

  private onPacket(e: SocketEntry, p: ReceivedPacket): void {
    if (this.journal) e.lastStamp = [p.stampSec, p.stampNsec];
    // The core is given the kernel's arrival time, so Master_Down_Interval runs from the last
    // advert as received, as keepalived's does (it reads its clock as epoll_wait returns), not
    // from whenever this loop got to it. An age over MAX_AGE_US is a clock step: ignored.
    const age = p.ageUs;
    const now = age >= 0 && age < MAX_AGE_US ? this.now() - age : this.now();
    if (e.sock.family === 4) this.core.handleIpInPlace(now, e.sock.ifindex, p.offset + p.length);
    else this.core.handleVrrpInPlace(now, e.sock.ifindex, 6, p.ttl, p.srcBytes, p.dst, p.length);
    this.pump();
    if (this.afterEvent) this.eventDone();
  }

  private onSend(slot: number, bytes: Uint8Array, dst: Uint8Array): void {
    const r = this.bySlot.get(slot);
    if (!r) return;
    let to = r.sock.sock.group;
    if (r.peerAddrs.length) {
      const i = r.peerAddrs.findIndex((a) => equalPrefix(a, dst, dst.length));
      if (i >= 0) to = r.peerSockaddrs[i];
    }
    try {
      r.sock.sock.send(bytes, 0, bytes.length, to);
    } catch (err) {
      this.log.warn(`instance ${r.spec.name}: advert not sent: ${(err as Error).message}`, { instance: r.spec.name });
    }
  }

  private onTransition(slot: number, from: StateName, to: StateName, reason: ReasonName): void {
    const r = this.bySlot.get(slot);
    if (!r) return;
    r.state = to;
    // The record, the log line and the notify hook wait until the advert and the VIPs of this
    // same drain are out (the core lists the transition first): on a takeover those are what
    // the LAN waits for; a date string, a log write or a fork is not.
    const atUs = this.now(), atMs = Date.now();
    const priority = this.core.effectivePriority(slot);
    this.afterDrain.push(() => {
      r.transitions.push({ at: new Date(atMs).toISOString(), atUs, from, to, reason, why: REASON_TEXT[reason] });
      if (r.transitions.length > HISTORY) r.transitions.shift();
      this.log.info(`${r.spec.name}: ${from} -> ${to} (${REASON_TEXT[reason]})`, { instance: r.spec.name, from, to, reason });
      const hook = to === 'master' ? r.spec.notify.master : to === 'backup' ? r.spec.notify.backup
        : to === 'fault' ? r.spec.notify.fault : to === 'init' ? r.spec.notify.stop : null;
      if (hook) {
        r.lastNotify = runNotify(hook, { instance: r.spec.name, state: to, previous: from, priority, reason }, r.spec.notify.timeoutUs, this.log);
      }
    });
  }

  // Work a drain put off (onTransition), done once the drain's actions are carried out.
  private readonly afterDrain: (() => void)[] = [];

  private drainActions(): void {
    this.core.drain(this.handler);
    for (let i = 0; i < this.afterDrain.length; i++) this.afterDrain[i]!();
    this.afterDrain.length = 0;
  }

  private onVips(slot: number, add: boolean): void {
    const r = this.bySlot.get(slot);
    if (!r) return;
    r.wantVips = add;
    if (!add) r.announcement?.stop();
    r.queue(() => add ? this.addVips(r) : this.release(r));
  }

  private onAnnounce(slot: number): void {
    const r = this.bySlot.get(slot);
    if (!r) return;
    // After the VIPs are in place, so neighbours that answer at once find them.
    r.queue(() => {
      if (!r.wantVips || this.stopping) return;
      this.announceFor(r, { count: Math.max(1, r.spec.garp.count) });
    }, (err) => this.log.warn(`${r.spec.name}: announce failed: ${(err as Error).message}`));
  }

  // The instance's GARP / NA: `count` frames of each, then the refresh, its config's.
  private announceFor(r: Running, o: { count: number; startMs?: number }): void {
    let a = this.announcers.get(r.ifname);
    if (!a) { a = new Announcer(r.ifname); this.announcers.set(r.ifname, a); }
    const frames = r.spec.virtualAddresses.map((v) => r.spec.family === 4
      ? this.core.garp(r.mac, v.address)
      : this.core.na(r.mac, r.sock.sock.source, v.address, true));
    r.announcement?.stop();
    r.announcement = a.announce(frames, {
      count: o.count, startMs: o.startMs, intervalMs: r.spec.garp.intervalUs / 1000,
      refreshMs: r.spec.garp.refreshUs / 1000,
    });
  }

  // ---- VIPs ------------------------------------------------------------------------------------

  // The VIPs' RTM_NEWADDR requests, built when the instance is (re)configured rather than on
  // the takeover's path (host/net/netlink.ts, addressRequest).
  private prepareVips(r: Running): void {
    r.vipAdds = r.spec.virtualAddresses.map((v) =>
      addressRequest('add', { index: r.ifindex, address: v.address, prefixlen: v.prefixLen, nodad: r.spec.family === 6, ifname: r.ifname }));
  }

  private async addVips(r: Running): Promise<void> {
    const { vipAdds: adds, spec } = r;   // a reload meanwhile replaces both, together
    for (let i = 0; i < adds.length; i++) {
      try {
        await this.nl!.send(adds[i]!);
      } catch (err) {
        const v = spec.virtualAddresses[i]!;
        if ((err as { code?: string }).code !== 'VIGIL_ENET_EXISTS') {
          this.log.error(`${spec.name}: adding VIP ${v.address}/${v.prefixLen} failed: ${(err as Error).message}`, { instance: spec.name });
        }
      }
    }
  }

  private async release(r: Running, list = r.spec.virtualAddresses): Promise<void> {
    for (const v of list) {
      try {
        await this.nl!.deleteAddress({ index: r.ifindex, address: v.address, prefixlen: v.prefixLen, ifname: r.ifname });
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code !== 'VIGIL_ENET_NOADDR' && code !== 'VIGIL_ENET_NOIF') {
          this.log.error(`${r.spec.name}: removing VIP ${v.address} failed: ${(err as Error).message}`, { instance: r.spec.name });
        }
      }
    }
  }

  private async swapVips(r: Running, old: InstanceSpec): Promise<void> {
    const keep = new Set(r.spec.virtualAddresses.map((v) => `${v.address}/${v.prefixLen}`));
    await this.release(r, old.virtualAddresses.filter((v) => !keep.has(`${v.address}/${v.prefixLen}`)));
    await this.addVips(r);
  }

  // A VIP of ours on the box before we start was left by a run that died (kill -9, power
  // loss): remove it before the election so a restart never makes a second master.
  private async removeStaleVips(r: Running): Promise<void> {
    const present = await this.nl!.listAddresses(r.ifindex, r.spec.family);
    for (const v of r.spec.virtualAddresses) {
      if (present.some((a) => a.address === v.address)) {
        this.log.warn(`${r.spec.name}: removing stale VIP ${v.address} from ${r.ifname} (left by an earlier run)`, { instance: r.spec.name });
        await this.release(r, [v]);
      }
    }
  }

  private onAddress(e: AddrEvent): void {
    if (this.held) { this.held.push(() => this.onAddress(e)); return; }
    if (e.op !== 'del' || this.stopping) return;
    for (const r of this.byName.values()) {
      if (r.ifindex !== e.index || !r.wantVips) continue;
      const v = r.spec.virtualAddresses.find((x) => x.address === e.address);
      if (!v) continue;
      this.log.warn(`${r.spec.name}: VIP ${v.address} was removed from ${r.ifname} by someone else while master: putting it back`, { instance: r.spec.name });
      r.queue(() => r.wantVips ? this.addVips(r) : undefined);
    }
  }

  private onLink(e: LinkEvent): void {
    if (this.held) { this.held.push(() => this.onLink(e)); return; }
    if (this.stopping) return;
    const now = this.now();
    const failing = e.deleted || !(e.up && e.lowerUp);
    for (const r of this.byName.values()) {
      if (r.ifindex === e.index) this.core.track(r.slot, OWN_LINK_TRACK, 0, failing, now);
      r.spec.track.interfaces.forEach((t, i) => {
        if (t.name === e.name) this.core.track(r.slot, i, t.weight, failing, now);
      });
    }
    this.pump();
  }

  // The kernel dropped events: read link state again.
  private async resync(): Promise<void> {
    this.log.warn('netlink event queue overran: re-reading link state');
    for (const r of this.byName.values()) {
      const l = await this.nl!.getLink(r.ifindex).catch(() => undefined);
      this.core.track(r.slot, OWN_LINK_TRACK, 0, !(l && l.up && l.lowerUp), this.now());
      await this.applyTracks(r);
    }
    this.pump();
  }

  // ---- checks ---------------------------------------------------------------------------------

  private setChecks(specs: CheckSpec[]): void {
    const keep = new Map(this.checks);
    this.checks.clear();
    for (const c of specs) {
      const old = keep.get(c.name);
      this.checks.set(c.name, old ? { ...old, type: c.type, target: c.target, pool: c.pool ?? null } : {
        name: c.name, type: c.type, target: c.target, up: false, known: false, error: null, latencyMs: null,
        transitions: 0, rounds: 0, failures: 0, since: null, policy: null, pool: c.pool ?? null, run: null,
      });
    }
  }

  // A line from the checker process (relayed by the supervisor).
  checkReport(r: CheckReport): void {
    if (this.held) { this.held.push(() => this.checkReport(r)); return; }
    const c = this.checks.get(r.check);
    if (!c || this.stopping) return;
    c.error = r.error; c.latencyMs = r.latencyMs; c.rounds = r.rounds; c.failures = r.failures;
    if (r.run) c.run = r.run;
    if (r.policy !== undefined) c.policy = r.policy;
    if (!r.settled) return;
    c.known = true;
    if (c.up === r.up) return;
    c.up = r.up;
    c.transitions++;
    c.since = new Date().toISOString();
    this.log.info(`check ${c.name}: ${r.up ? 'up' : `down${r.error ? ` (${r.error})` : ''}`}`, { check: c.name, up: r.up });
    const now = this.now();
    for (const inst of this.byName.values()) {
      const ifs = inst.spec.track.interfaces.length;
      inst.spec.track.checks.forEach((t, i) => {
        if (t.name === c.name) this.core.track(inst.slot, ifs + i, t.weight, !c.up, now);
      });
    }
    this.pump();
  }

  // ---- status ----------------------------------------------------------------------------------

  status() {
    const now = this.now();
    const instances = [...this.byName.values()].map((r) => {
      const o = this.core.observed(r.slot, now);
      const counters = Object.fromEntries(COUNTERS.map((c) => [c, this.core.counter(r.slot, c)]));
      return {
        name: r.spec.name,
        interface: r.spec.interface,
        vmac: r.vmac ? { name: r.vmac.name, mac: r.vmac.mac } : null,
        vrid: r.spec.vrid,
        version: r.spec.version,
        family: r.spec.family === 6 ? 'ipv6' : 'ipv4',
        state: this.core.state(r.slot),
        priority: r.spec.priority,
        effectivePriority: this.core.effectivePriority(r.slot),
        source: r.sock.sock.source,
        masterAddress: this.core.state(r.slot) === 'init' || this.core.state(r.slot) === 'fault' ? null : this.core.masterAddress(r.slot, r.spec.family),
        masterPriority: this.core.masterPriority(r.slot),
        advertIntervalMs: r.spec.advertIntervalCs * 10,
        masterDownIntervalMs: this.core.masterDownIntervalUs(r.slot) / 1000,
        virtualAddresses: r.spec.virtualAddresses.map((v) => `${v.address}/${v.prefixLen}`),
        counters,
        drops: this.core.drops(r.slot),
        transitions: r.transitions.map(({ atUs: _, ...t }) => t),
        availability: {
          upSeconds: o.upUs / 1e6, downSeconds: o.downUs / 1e6, failures: o.failures, repairs: o.repairs,
          mttfSeconds: Number.isFinite(o.mttfUs) ? o.mttfUs / 1e6 : null,
          mttrSeconds: Number.isFinite(o.mttrUs) ? o.mttrUs / 1e6 : null,
          availability: Number.isFinite(o.availability) ? o.availability : null,
        },
      };
    });
    const checks = [...this.checks.values()].map((c) => ({
      ...c,
      state: !c.known ? 'unknown' : c.up ? 'up' : 'down',
      trackedBy: [...this.byName.values()].filter((r) => r.spec.track.checks.some((t) => t.name === c.name)).map((r) => r.spec.name),
    }));
    return { pid: process.pid, startedAt: this.startedAt.toISOString(), instances, checks, pools: this.pools(), drops: this.core.dropTotals() };
  }

  // Load-balancer pools by name, from the checks that have a `pool`: each real server is in
  // (up) while its check is up, and out until the check has first risen, as a tracked check
  // counts as failing until then. `since`: when the check's state last changed here.
  private pools() {
    // A Map, then an object: a pool may be named __proto__.
    const pools = new Map<string, { serversUp: number; servers: { server: string; check: string; weight: number; up: boolean; since: string | null }[] }>();
    for (const c of this.checks.values()) {
      if (!c.pool) continue;
      let p = pools.get(c.pool.name);
      if (!p) pools.set(c.pool.name, p = { serversUp: 0, servers: [] });
      p.servers.push({ server: c.pool.server, check: c.name, weight: c.pool.weight, up: c.up, since: c.since });
      if (c.up) p.serversUp++;
    }
    return Object.fromEntries(pools);
  }
}

// Every 256 events (2.6 s at 100 adverts/s: ~0.2 MB allocated, a 2 MB semi-space), when the
// next deadline is at least 4 ms away.
const GC_EVERY = 256;
const GC_ROOM_US = 4000;
// How long after a start (or a reload) the engine gives back its start's memory: past the first
// transitions, gratuitous ARPs and the compile cache's flush.
const TRIM_AFTER_US = 5_000_000;

// V8's gc(), for minor collections at times of our choosing: the global when this process was
// started with --expose-gc (tests may), else one from a context made after setting the flag.
// The engine's own command line leaves it out (ENGINE_V8_FLAGS in host/cli/run.ts: why).
function minorGcFunction(): ((o: { type: 'minor' }) => void) | undefined {
  const g = (globalThis as { gc?: (o: { type: 'minor' }) => void }).gc;
  if (g) return g;
  try {
    process.getBuiltinModule('node:v8').setFlagsFromString('--expose-gc');
    return process.getBuiltinModule('node:vm').runInNewContext('gc') as (o: { type: 'minor' }) => void;
  } catch {
    return undefined;
  }
}

function groupIndex(spec: EngineSpec, name: string): number {
  return spec.syncGroups.findIndex((g) => g.instances.includes(name));
}

function identity(s: InstanceSpec): string {
  return JSON.stringify([s.interface, s.vrid, s.version, s.family, s.unicastSource ?? null, s.vmac]);
}

function equalPrefix(a: Uint8Array, b: Uint8Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

export type { Family };
