// A virtual-clock LAN of whole engine states (host/agent/engine-state.ts), no sockets, no root:
// each node is an EngineState fed its config through the same inputs its driver would give it,
// and its commands carried out on a model of the box (the VIPs it holds, its links, its hooks).
// Adverts go to every other node whose link is up, after a latency; the clock jumps to the next
// delivery or the earliest timer a node armed, as in test/helpers/lan.ts.
import { EngineState, type Commands, type Input, type RouterEnv, type VirtualRouter } from '../../host/agent/engine-state.ts';
import { groupIndex, reloadPlan } from '../../host/agent/engine-plan.ts';
import { toEngineSpec, type EngineSpec } from '../../host/agent/spec.ts';
import { parseConfig } from '../../host/config/load.ts';
import { parseAddress, type Family } from '../../host/core/addr.ts';
import type { CheckReport } from '../../host/checks/protocol.ts';

export const MS = 1000;
const IFINDEX: Record<string, number> = { eth0: 1, eth1: 2, eth2: 3 };
const MCAST: Record<Family, Uint8Array> = { 4: parseAddress('224.0.0.18'), 6: parseAddress('ff02::12') };

export interface Notified { router: string; hook: string; state: string; previous: string }

export class SimNode implements Commands {
  readonly name: string;
  readonly lan: EngineLan;
  state: EngineState;
  readonly v4: string;
  readonly v6: string;
  up = true;                                  // false: the process is gone (no input, nothing sent)
  deadline = Infinity;                        // the one timer, as last armed
  readonly held = new Map<string, Set<string>>();   // VIPs on this box, per router
  readonly links = new Map<string, boolean>();      // interface -> up
  readonly notified: Notified[] = [];
  readonly logs: string[] = [];
  sent = 0;
  announced = 0;
  journal: Input[] | undefined;
  spec: EngineSpec | undefined;

  constructor(lan: EngineLan, name: string, n: number) {
    this.lan = lan; this.name = name;
    this.v4 = `192.0.2.${n}`; this.v6 = `fe80::${n}`;
    for (const i of Object.keys(IFINDEX)) this.links.set(i, true);
    this.state = this.fresh();
  }

  fresh(): EngineState { return new EngineState({ commands: this, wallOffsetMs: 1.7e12 }); }

  /** Starts the node on a config (YAML), as the driver's start does. */
  boot(yaml: string): void {
    this.spec = toEngineSpec(parseConfig(yaml, `${this.name}.yaml`));
    const now = this.lan.now;
    this.state.setChecks(this.spec.checks ?? []);
    for (const s of this.spec.instances) this.state.add(now, s, groupIndex(this.spec, s.name), this.env(s.interface, s.family, s.track.interfaces.map((t) => t.name)));
    for (const s of this.spec.instances) this.state.start(now, s.name);
  }

  /** A reload, planned as the driver plans it. */
  reload(yaml: string): void {
    const spec = toEngineSpec(parseConfig(yaml, `${this.name}.yaml`));
    const plan = reloadPlan(this.state.routers, spec);
    const now = this.lan.now;
    this.state.setChecks(spec.checks ?? []);
    for (const name of plan.remove) this.state.remove(now, name);
    for (const { spec: s, group } of plan.add) {
      this.state.add(now, s, group, this.env(s.interface, s.family, s.track.interfaces.map((t) => t.name)));
      this.state.start(now, s.name);
    }
    for (const { spec: s, group } of plan.configure) this.state.configure(now, s, group, s.track.interfaces.map((t) => !this.links.get(t.name)));
    this.spec = spec;
  }

  private env(ifname: string, family: Family, tracked: string[]): RouterEnv {
    return {
      ifindex: IFINDEX[ifname] ?? 9, ifname, mac: `02:00:00:00:00:${this.v4.split('.')[3]!.padStart(2, '0')}`,
      source: family === 4 ? this.v4 : this.v6, linkFailing: !this.links.get(ifname),
      tracksFailing: tracked.map((t) => !this.links.get(t)), vmac: null,
    };
  }

  stateOf(router: string): string {
    const r = this.state.router(router);
    return r ? this.state.core.state(r.slot) : 'gone';
  }
  holds(router: string): boolean { return (this.held.get(router)?.size ?? 0) > 0; }

  // ---- the box, as the driver would change it -------------------------------------------------

  setLink(ifname: string, up: boolean): void {
    this.links.set(ifname, up);
    if (this.up) this.state.link(this.lan.now, { index: IFINDEX[ifname]!, name: ifname, up, lowerUp: up, deleted: false });
  }

  /** `ip addr del` of a VIP by someone else: the kernel's event follows. */
  deleteByHand(router: string, address: string): void {
    this.held.get(router)?.delete(address);
    const r = this.state.router(router)!;
    if (this.up) this.state.address(this.lan.now, { op: 'del', index: r.env.ifindex, address });
  }

  check(name: string, up: boolean): void {
    const rep: CheckReport = { check: name, up, settled: true, error: up ? null : 'refused', latencyMs: 1, transitions: 1, rounds: 1, failures: up ? 0 : 1 };
    if (this.up) this.state.checkReport(this.lan.now, rep);
  }

  // ---- commands ---------------------------------------------------------------------------------

  send(r: VirtualRouter, bytes: Uint8Array, _peer: number): void {
    this.sent++;
    if (this.links.get(r.env.ifname)) this.lan.broadcast(this, r.spec.family, bytes);
  }
  vips(r: VirtualRouter, add: boolean): void {
    const set = new Set(add ? r.spec.virtualAddresses.map((v) => v.address) : []);
    this.held.set(r.spec.name, set);
  }
  swapVips(r: VirtualRouter): void { this.vips(r, true); }
  announce(): void { this.announced++; }
  armTimer(deadline: number): void { this.deadline = deadline; }
  notify(r: VirtualRouter, hook: string, e: { state: string; previous: string }): void {
    this.notified.push({ router: r.spec.name, hook, state: e.state, previous: e.previous });
  }
  log(level: string, msg: string): void { this.logs.push(`${level}: ${msg}`); }
}

interface Delivery { t: number; seq: number; to: SimNode; family: Family; src: Uint8Array; bytes: Uint8Array }

export class EngineLan {
  now = 1_000_000_000;          // CLOCK_MONOTONIC is far from 0
  readonly nodes: SimNode[] = [];
  private queue: Delivery[] = [];
  private seq = 0;
  latencyUs = 100;

  add(name: string): SimNode {
    const n = new SimNode(this, name, this.nodes.length + 1);
    this.nodes.push(n);
    return n;
  }

  broadcast(from: SimNode, family: Family, bytes: Uint8Array): void {
    const src = parseAddress(family === 4 ? from.v4 : from.v6);
    for (const to of this.nodes) {
      if (to === from || !to.links.get('eth0')) continue;
      this.queue.push({ t: this.now + this.latencyUs, seq: this.seq++, to, family, src, bytes: bytes.slice() });
    }
  }

  /** Kills a node's process: nothing more in or out, its VIPs left on the box. */
  kill(n: SimNode): void { n.up = false; n.deadline = Infinity; }

  runUntil(until: number): void {
    for (;;) {
      let t = this.queue.length ? this.queue[0]!.t : Infinity;
      for (const n of this.nodes) if (n.up && n.deadline < t) t = n.deadline;
      if (t > until) { this.now = until; return; }
      this.now = Math.max(this.now, t);
      if (this.queue.length && this.queue[0]!.t <= this.now) {
        const d = this.queue.shift()!;
        if (!d.to.up || !d.to.links.get('eth0')) continue;
        d.to.state.core.inBuf.set(d.bytes);
        d.to.state.packetVrrp(this.now, 1, d.family, 255, d.src, MCAST[d.family], d.bytes.length);
        continue;
      }
      for (const n of this.nodes) if (n.up && n.deadline <= this.now) n.state.timeout(this.now);
    }
  }

  runFor(us: number): void { this.runUntil(this.now + us); }

  /** The nodes holding `router`'s VIPs. */
  holders(router: string): string[] { return this.nodes.filter((n) => n.holds(router)).map((n) => n.name); }
  masters(router: string): string[] { return this.nodes.filter((n) => n.up && n.stateOf(router) === 'master').map((n) => n.name); }
}

/** One instance's YAML, 10 ms adverts unless told. */
export function instanceYaml(o: {
  name?: string; vrid?: number; priority: number; preempt?: boolean; vips?: string[]; interface?: string;
  advertInterval?: string; trackInterfaces?: { name: string; weight: number }[]; trackChecks?: { name: string; weight: number }[];
  notify?: boolean;
}): string {
  const lines = [
    `  - name: ${o.name ?? 'VI_1'}`,
    `    interface: ${o.interface ?? 'eth0'}`,
    `    vrid: ${o.vrid ?? 51}`,
    `    priority: ${o.priority}`,
    `    advertInterval: ${o.advertInterval ?? '10ms'}`,
    `    preempt: ${o.preempt ?? true}`,
    `    virtualAddresses: [${(o.vips ?? ['192.0.2.100/24']).join(', ')}]`,
  ];
  if (o.trackInterfaces || o.trackChecks) {
    lines.push('    track:');
    if (o.trackInterfaces) lines.push(`      interfaces: [${o.trackInterfaces.map((t) => `{ name: ${t.name}, weight: ${t.weight} }`).join(', ')}]`);
    if (o.trackChecks) lines.push(`      checks: [${o.trackChecks.map((t) => `{ name: ${t.name}, weight: ${t.weight} }`).join(', ')}]`);
  }
  if (o.notify) lines.push(`    notify: { master: /bin/true, backup: /bin/false }`);
  return lines.join('\n');
}
