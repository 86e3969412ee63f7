// The VRRP engine as a state machine, with no I/O: inputs in (a packet, the timer, a link or
// address event, a check report, a router added, reconfigured or removed, stop), commands out
// (send, add / remove the VIPs, announce, arm the timer, run a notify hook, log). It wraps the
// core (host/core/core.ts), which makes every protocol decision, and keeps what the host adds
// around it: the virtual routers as configured, the tracked objects, the checks' table and the
// transitions' history. The driver (host/agent/engine.ts) owns the sockets, netlink and the
// timer, and carries the commands out. Every input may be recorded (`record`): replayed into a
// fresh EngineState, it is the same state (a warm start's handover, host/agent/handover.ts).
import { Core, type ActionHandler, type InstanceConfig } from '../core/core.ts';
import { REASON_TEXT, type StateName, type ReasonName } from '../core/codes.ts';
import type { CheckReport } from '../checks/protocol.ts';
import { trackEffect } from '../checks/protocol.ts';
import type { CheckSpec, InstanceSpec } from './spec.ts';
import { VirtualRouter, type RouterEnv, type TransitionRecord } from './virtual-router.ts';
import type { AddressInput, CheckStatus, Commands, Input, LinkInput } from './engine-types.ts';

export { VirtualRouter, type RouterEnv, type TransitionRecord };
export type { AddressInput, CheckStatus, Commands, Input, LinkInput };

// The interface's own state is tracked in the last slot with weight 0: down = Fault.
export const OWN_LINK_TRACK = 31;
const HISTORY = 100;

const b64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');

export interface EngineStateOptions<W> {
  commands: Commands<W>;
  /** Date.now() - CLOCK_MONOTONIC in ms: wall-clock times of records (a replay passes the first engine's). */
  wallOffsetMs: number;
  core?: Core;
}

export class EngineState<W = unknown> {
  readonly core: Core;
  readonly wallOffsetMs: number;
  commands: Commands<W>;
  /** Routers by slot (an array: the core's slots are small integers), and by name. */
  private readonly bySlot: (VirtualRouter<W> | undefined)[] = [];
  readonly routers = new Map<string, VirtualRouter<W>>();
  readonly checks = new Map<string, CheckStatus>();
  stopped = false;
  /** Set to receive every input from now on (a warm start's journal). */
  record: ((e: Input) => void) | undefined;
  private readonly handler: ActionHandler;
  // Transitions of the current drain: their records, logs and hooks wait until its adverts and
  // VIPs are out (on a takeover those are what the LAN waits for).
  private readonly pending: { r: VirtualRouter<W>; from: StateName; to: StateName; reason: ReasonName; priority: number }[] = [];

  constructor(o: EngineStateOptions<W>) {
    this.core = o.core ?? new Core();
    this.commands = o.commands;
    this.wallOffsetMs = o.wallOffsetMs;
    const c = () => this.commands;
    this.handler = {
      transition: (slot, from, to, reason) => {
        const r = this.bySlot[slot];
        if (r) this.pending.push({ r, from, to, reason, priority: this.core.effectivePriority(slot) });
      },
      send: (slot, _family, _prio, bytes, dst) => {
        const r = this.bySlot[slot];
        if (r) c().send(r, bytes, r.peerOf(dst));
      },
      vips: (slot, add) => {
        const r = this.bySlot[slot];
        if (!r) return;
        r.wantVips = add;
        c().vips(r, add);
      },
      announce: (slot) => { const r = this.bySlot[slot]; if (r) c().announce(r); },
    };
  }

  /** Swaps the command sink (a replay runs with one that drops everything). */
  setCommands(c: Commands<W>): void { this.commands = c; }
  router(name: string): VirtualRouter<W> | undefined { return this.routers.get(name); }

  // ---- inputs -----------------------------------------------------------------------------------

  /** The checks as configured; a check's state carries over a reload when its name stays. */
  setChecks(specs: CheckSpec[]): void {
    this.record?.(['checks', specs]);
    const keep = new Map(this.checks);
    this.checks.clear();
    for (const c of specs) {
      const old = keep.get(c.name);
      this.checks.set(c.name, old ? { ...old, type: c.type, target: c.target } : {
        name: c.name, type: c.type, target: c.target, up: false, known: false, error: null, code: null, latencyMs: null,
        transitions: 0, rounds: 0, failures: 0, since: null, policy: null, run: null,
      });
    }
  }

  /** A router the driver has opened (its socket, its VMAC): in the core, tracks set, not started. */
  add(now: number, spec: InstanceSpec, group: number, env: RouterEnv, wire?: W): VirtualRouter<W> {
    return this.guard(['add', now, spec, group, env], () => {
      this.now = now;
      const slot = this.core.addInstance(coreConfig(spec, env, group));
      const r = new VirtualRouter<W>(spec, slot, env, group);
      r.wire = wire;   // the driver's, not an input: absent in a replay
      this.bySlot[slot] = r;
      this.routers.set(spec.name, r);
      this.core.track(slot, OWN_LINK_TRACK, 0, env.linkFailing, now);
      this.applyTracks(r, now, env.tracksFailing);
      this.drain();
      return r;
    });
  }

  start(now: number, name: string): void {
    this.guard(['start', now, name], () => {
      this.now = now;
      const r = this.routers.get(name);
      if (r) this.core.start(r.slot, now);
      this.drain();
    });
  }

  /** A reload that kept the router's identity: its new settings in place, state and VIPs kept. */
  configure(now: number, spec: InstanceSpec, group: number, tracksFailing: boolean[]): void {
    this.guard(['configure', now, spec, group, tracksFailing], () => {
      this.now = now;
      const r = this.routers.get(spec.name);
      if (!r) return;
      const old = r.spec;
      const vipsChanged = JSON.stringify(old.virtualAddresses) !== JSON.stringify(spec.virtualAddresses);
      r.spec = spec;
      r.group = group;
      r.setPeers();
      this.core.configure(r.slot, coreConfig(spec, r.env, group));
      this.applyTracks(r, now, tracksFailing);
      if (vipsChanged && r.wantVips) this.commands.swapVips(r, old);
      this.drain();
    });
  }

  /** The router stops (priority 0 when master, VIPs released) and leaves the core. */
  remove(now: number, name: string): void {
    this.guard(['remove', now, name], () => {
      this.now = now;
      const r = this.routers.get(name);
      if (!r) return;
      this.core.stop(r.slot, now);
      this.drain();
      this.core.remove(r.slot, now);
      this.bySlot[r.slot] = undefined;
      this.routers.delete(name);
    });
  }

  /** An IPv4 packet, read whole into the core's input buffer: [0, len). */
  packetIp(now: number, ifindex: number, len: number): void {
    if (this.record) this.record(['ip', now, ifindex, b64(this.core.inBuf.subarray(0, len))]);
    this.now = now;
    this.core.handleIpInPlace(now, ifindex, len);
    this.drain();
  }

  /** A bare VRRP message in the core's input buffer, [0, len), with its carrier's details (16-byte forms), as an IPv6 raw socket reads it. */
  packetVrrp(now: number, ifindex: number, family: 4 | 6, ttl: number, src: Uint8Array, dst: Uint8Array, len: number): void {
    if (this.record) this.record(['vrrp', now, ifindex, family, ttl, b64(src), b64(dst), b64(this.core.inBuf.subarray(0, len))]);
    this.now = now;
    this.core.handleVrrpInPlace(now, ifindex, family, ttl, src, dst, len);
    this.drain();
  }

  timeout(now: number): void {
    if (this.record) this.record(['timeout', now]);
    this.now = now;
    this.next = this.core.handleTimeout(now, this.handler);
    this.drain(true);
  }

  link(now: number, e: LinkInput): void {
    if (this.stopped) return;
    this.record?.(['link', now, e]);
    this.now = now;
    const failing = e.deleted || !(e.up && e.lowerUp);
    for (const r of this.routers.values()) {
      if (r.env.ifindex === e.index) this.core.track(r.slot, OWN_LINK_TRACK, 0, failing, now);
      const list = r.spec.track.interfaces;
      for (let i = 0; i < list.length; i++) if (list[i]!.name === e.name) this.core.track(r.slot, i, list[i]!.weight, failing, now);
    }
    this.drain();
  }

  /** A VIP of a holding router deleted by someone else is put back. */
  address(now: number, e: AddressInput): void {
    if (e.op !== 'del' || this.stopped) return;
    this.record?.(['address', now, e]);
    for (const r of this.routers.values()) {
      if (r.env.ifindex !== e.index || !r.wantVips) continue;
      const v = r.spec.virtualAddresses.find((x) => x.address === e.address);
      if (!v) continue;
      this.commands.log('warn', `${r.spec.name}: VIP ${v.address} was removed from ${r.env.ifname} by someone else while master: putting it back`, { instance: r.spec.name });
      this.commands.vips(r, true);
    }
    this.arm();
  }

  /**
   * A line from the checker process. Until a check is settled (its first `rise` successes, or
   * `fall` failures) it counts as failing: keepalived's track_script, so a weight-0 check keeps
   * its instance in FAULT, with no VIP, until the backend is healthy. A restarted checker's
   * unsettled reports leave the state as it was.
   */
  checkReport(now: number, rep: CheckReport): void {
    const c = this.checks.get(rep.check);
    if (!c || this.stopped) return;
    this.record?.(['check', now, rep]);
    this.now = now;
    c.error = rep.error; c.code = rep.code ?? null; c.latencyMs = rep.latencyMs; c.rounds = rep.rounds; c.failures = rep.failures;
    if (rep.run) c.run = rep.run;
    if (rep.policy !== undefined) c.policy = rep.policy;
    if (rep.detail !== undefined) c.detail = rep.detail;
    if (!rep.settled) return;
    c.known = true;
    // A file check's value moves the priority without a change of up (host/checks/protocol.ts, trackEffect).
    const valueChanged = rep.value !== undefined && rep.value !== c.value;
    if (rep.value !== undefined) c.value = rep.value;
    if (c.up === rep.up && !valueChanged) return;
    if (c.up !== rep.up) {
      c.up = rep.up;
      c.transitions++;
      c.since = this.wallIso(now);
      this.commands.log('info', `check ${c.name}: ${rep.up ? 'up' : `down${rep.error ? ` (${rep.error})` : ''}`}`, { check: c.name, up: rep.up });
    }
    for (const r of this.routers.values()) {
      const ifs = r.spec.track.interfaces.length;
      r.spec.track.checks.forEach((t, i) => {
        if (t.name !== c.name) return;
        const e = trackEffect(t.weight, c.up, c.value);
        this.core.track(r.slot, ifs + i, e.weight, e.failing, now);
      });
    }
    this.drain();
  }

  /** Every router stops: masters send priority 0, VIPs go. The routers stay, for the driver's cleanup. */
  stop(now: number): void {
    if (this.stopped) return;
    this.record?.(['stop', now]);
    this.stopped = true;
    this.now = now;
    for (const r of this.routers.values()) this.core.stop(r.slot, now);
    this.drain();
  }

  // ---- internals --------------------------------------------------------------------------------

  // Records an input that may throw part way as such, so its replay takes the same half.
  private guard<T>(e: Input, fn: () => T): T {
    const rec = this.record;
    if (!rec) return fn();
    this.record = undefined;   // inner inputs (none today) are part of this one
    try {
      const out = fn();
      rec(e);
      return out;
    } catch (err) {
      rec(['threw', e]);
      throw err;
    } finally {
      this.record = rec;
    }
  }

  // Track indexes: the interfaces from 0, then the checks (config allows 31 in all).
  private applyTracks(r: VirtualRouter<W>, now: number, tracksFailing: boolean[]): void {
    const list = r.spec.track.interfaces, checks = r.spec.track.checks;
    for (let i = 0; i < OWN_LINK_TRACK; i++) {
      const t = list[i];
      const c = checks[i - list.length];
      if (t) this.core.track(r.slot, i, t.weight, tracksFailing[i] ?? true, now);
      else if (c) { const k = this.checks.get(c.name); const e = trackEffect(c.weight, k?.up ?? false, k?.value); this.core.track(r.slot, i, e.weight, e.failing, now); }
      else this.core.track(r.slot, i, 0, false, now);
    }
  }

  // After every input: the core's actions carried out, the transitions' records, then the timer.
  // After a timeout the deadline is the one the core gave with it (`next`), good unless a command
  // fed this state another input meanwhile (then asked again). A field, not an argument: a double
  // passed down a call is a new heap number wherever V8 does not inline.
  private drain(timedOut = false): void {
    const k = ++this.drains;
    this.core.drain(this.handler);
    if (this.pending.length) this.afterTransitions();
    this.commands.armTimer(this.stopped ? Infinity : timedOut && k === this.drains ? this.next : this.core.pollTimeout(), this.now);
  }
  private drains = 0;
  private next = Infinity;

  // With the input's time: the driver needs no clock read of its own to arm.
  private arm(): void { this.commands.armTimer(this.stopped ? Infinity : this.core.pollTimeout(), this.now); }

  private afterTransitions(): void {
    const atUs = this.now;
    for (const p of this.pending) {
      const { r, from, to, reason } = p;
      r.transitions.push({ at: this.wallIso(atUs), atUs, from, to, reason, why: REASON_TEXT[reason] });
      if (r.transitions.length > HISTORY) r.transitions.shift();
      this.commands.log('info', `${r.spec.name}: ${from} -> ${to} (${REASON_TEXT[reason]})`, { instance: r.spec.name, from, to, reason });
      const n = r.spec.notify;
      const hook = to === 'master' ? n.master : to === 'backup' ? n.backup : to === 'fault' ? n.fault : to === 'init' ? n.stop : null;
      if (hook) this.commands.notify(r, hook, { state: to, previous: from, priority: p.priority, reason });
    }
    this.pending.length = 0;
  }

  // The time of the input being handled (its transitions' time).
  private now = 0;
  private wallIso(nowUs: number): string { return new Date(nowUs / 1000 + this.wallOffsetMs).toISOString(); }
}

/** Commands that go nowhere: a replay's (the first engine carried them out). */
export const DROP: Commands = { send() {}, vips() {}, swapVips() {}, announce() {}, armTimer() {}, notify() {}, log() {} };

function coreConfig(s: InstanceSpec, env: RouterEnv, group: number): InstanceConfig {
  return {
    ifindex: env.ifindex, vrid: s.vrid, version: s.version, family: s.family, priority: s.priority,
    advertIntervalCs: s.advertIntervalCs, preempt: s.preempt, preemptDelayCs: Math.round(s.preemptDelayUs / 1e4),
    acceptMode: s.acceptMode, auth: s.auth.type === 'pass' ? s.auth : undefined, primary: env.source,
    vips: s.virtualAddresses.map((v) => v.address), peers: s.unicastPeers ?? [], group,
  };
}
