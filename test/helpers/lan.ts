// An in-process virtual LAN: N routers, each a real core.wasm instance, exchanging adverts on a
// virtual clock with latency, jitter and loss (quinn-proto's Pair, for VRRP). The clock jumps
// straight to the next delivery or core deadline, so minutes of protocol run in milliseconds.
import { Core, type InstanceConfig, type ActionHandler } from '../../host/core/core.ts';
import { parseAddress, type Family } from '../../host/core/addr.ts';
import type { StateName, ReasonName } from '../../host/core/codes.ts';

export interface RouterOptions {
  name?: string;
  address: string;
  priority: number;
  family?: Family;
  version?: 2 | 3;
  vrid?: number;
  advertIntervalCs?: number;
  preempt?: boolean;
  preemptDelayCs?: number;
  vips?: string[];
  auth?: InstanceConfig['auth'];
  group?: number;
  extraInstances?: Partial<RouterOptions>[];  // more instances in the same core (sync groups)
}

export interface Transition { t: number; from: StateName; to: StateName; reason: ReasonName; slot: number }

export class Router {
  readonly core: Core;
  readonly name: string;
  readonly address: Uint8Array;
  readonly family: Family;
  readonly slots: number[] = [];
  up = true;
  transitions: Transition[] = [];
  vipsHeld = new Set<number>();
  sent = 0;
  readonly opts: RouterOptions;
  constructor(opts: RouterOptions, module?: WebAssembly.Module) {
    this.opts = opts;
    this.core = new Core(module);
    this.name = opts.name ?? opts.address;
    this.family = opts.family ?? (opts.address.includes(':') ? 6 : 4);
    this.address = parseAddress(opts.address);
    for (const o of [opts, ...(opts.extraInstances ?? []).map((x) => ({ ...opts, ...x }))]) {
      this.slots.push(this.core.addInstance(configOf(o, this.family)));
    }
  }
  state(i = 0): StateName { return this.core.state(this.slots[i]); }
}

export function configOf(o: RouterOptions, family: Family): InstanceConfig {
  const version = o.version ?? 3;
  return {
    ifindex: 1,
    vrid: o.vrid ?? 51,
    version,
    family,
    priority: o.priority,
    advertIntervalCs: o.advertIntervalCs ?? (version === 2 ? 100 : 1),
    preempt: o.preempt ?? true,
    preemptDelayCs: o.preemptDelayCs ?? 0,
    primary: o.address,
    vips: o.vips ?? [family === 6 ? '2001:db8::100' : '192.0.2.100'],
    auth: o.auth,
    group: o.group,
  };
}

interface Delivery { t: number; seq: number; to: Router; from: Router; bytes: Uint8Array; family: Family }

// mulberry32: a small seeded PRNG so a failing seed reproduces.
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MCAST = { 4: parseAddress('224.0.0.18'), 6: parseAddress('ff02::12') };

export class Lan {
  now = 0;
  routers: Router[] = [];
  private queue: Delivery[] = [];
  private seq = 0;
  readonly random: () => number;
  latencyUs: number;
  jitterUs: number;
  loss: number;
  constructor(latencyUs = 100, jitterUs = 0, loss = 0, seed = 1) {
    this.latencyUs = latencyUs; this.jitterUs = jitterUs; this.loss = loss;
    this.random = rng(seed);
  }

  add(opts: RouterOptions): Router {
    const r = new Router(opts);
    this.routers.push(r);
    return r;
  }

  start(r: Router, i?: number): void {
    for (const [k, slot] of r.slots.entries()) if (i === undefined || i === k) r.core.start(slot, this.now);
    this.drain(r);
  }

  startAll(): void { for (const r of this.routers) this.start(r); }

  // Graceful stop: the core sends priority 0 if it was master.
  stop(r: Router): void {
    for (const slot of r.slots) r.core.stop(slot, this.now);
    this.drain(r);
  }

  // The router vanishes: no priority-0 advert, nothing more sent or received.
  kill(r: Router): void { r.up = false; }

  revive(r: Router): void {
    r.up = true;
  }

  track(r: Router, slotIndex: number, trackIndex: number, weight: number, failing: boolean): void {
    r.core.track(r.slots[slotIndex], trackIndex, weight, failing, this.now);
    this.drain(r);
  }

  private drain(r: Router): void {
    const lan = this;
    const h: ActionHandler = {
      transition(slot, from, to, reason) { r.transitions.push({ t: lan.now, from, to, reason, slot }); },
      send(_slot, family, _prio, bytes) {
        r.sent++;
        for (const to of lan.routers) {
          if (to === r || !to.up || to.family !== family) continue;
          if (lan.loss > 0 && lan.random() < lan.loss) continue;
          const t = lan.now + lan.latencyUs + (lan.jitterUs ? lan.random() * lan.jitterUs : 0);
          lan.push({ t, seq: lan.seq++, to, from: r, bytes: bytes.slice(), family });
        }
      },
      vips(slot, add) { if (add) r.vipsHeld.add(slot); else r.vipsHeld.delete(slot); },
      announce() {},
    };
    r.core.drain(h);
  }

  private push(d: Delivery): void {
    // Binary insertion keeps the queue ordered by (t, seq).
    let lo = 0, hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const q = this.queue[mid];
      if (q.t < d.t || (q.t === d.t && q.seq < d.seq)) lo = mid + 1; else hi = mid;
    }
    this.queue.splice(lo, 0, d);
  }

  nextEventTime(): number {
    let t = this.queue.length ? this.queue[0].t : Infinity;
    for (const r of this.routers) if (r.up) t = Math.min(t, r.core.pollTimeout());
    return t;
  }

  // Advances to `until`, processing every event on the way. Returns the number of events.
  runUntil(until: number): number {
    let events = 0;
    for (;;) {
      const t = this.nextEventTime();
      if (t > until) { this.now = until; return events; }
      this.now = Math.max(this.now, t);
      events++;
      if (this.queue.length && this.queue[0].t <= this.now) {
        const d = this.queue.shift()!;
        if (!d.to.up) continue;
        d.to.core.handleVrrp(this.now, 1, d.family, 255, d.from.address, MCAST[d.family], d.bytes);
        this.drain(d.to);
        continue;
      }
      for (const r of this.routers) {
        if (r.up && r.core.pollTimeout() <= this.now) {
          r.core.handleTimeout(this.now);
          this.drain(r);
        }
      }
    }
  }

  runFor(us: number): number { return this.runUntil(this.now + us); }

  masters(slotIndex = 0): Router[] {
    return this.routers.filter((r) => r.up && r.state(slotIndex) === 'master');
  }
}
