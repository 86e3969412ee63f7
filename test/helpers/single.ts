// One core, one instance under test, and a hand-driven peer: the FSM scenarios of RFC 5798 §6.4
// on a virtual clock.
import { Core, type Action, type InstanceConfig } from '../../host/core/core.ts';
import { parseAddress, type Family } from '../../host/core/addr.ts';

export const MS = 1000;

export class Bench {
  readonly core = new Core();
  readonly slot: number;
  readonly cfg: InstanceConfig;
  now = 0;
  log: Action[] = [];
  constructor(over: Partial<InstanceConfig> = {}) {
    const family = over.family ?? 4;
    this.cfg = {
      ifindex: 1, vrid: 51, version: 3, family, priority: 100, advertIntervalCs: 1, preempt: true,
      primary: family === 6 ? 'fe80::1' : '192.0.2.1',
      vips: [family === 6 ? '2001:db8::100' : '192.0.2.100'],
      ...over,
    };
    this.slot = this.core.addInstance(this.cfg);
  }
  get state() { return this.core.state(this.slot); }
  take(): Action[] { const a = this.core.takeActions(); this.log.push(...a); return a; }
  start(): Action[] { this.core.start(this.slot, this.now); return this.take(); }
  stop(): Action[] { this.core.stop(this.slot, this.now); return this.take(); }
  // Advances the clock to `t`, firing due timers on the way (as the host's one OS timer does).
  advanceTo(t: number): Action[] {
    const out: Action[] = [];
    for (;;) {
      const d = this.core.pollTimeout();
      if (d > t) break;
      this.now = Math.max(this.now, d);
      this.core.handleTimeout(this.now);
      out.push(...this.take());
    }
    this.now = t;
    return out;
  }
  advance(us: number): Action[] { return this.advanceTo(this.now + us); }
  // Delivers an advert from a peer; returns the drop reason and the actions it caused.
  receive(p: PeerAdvert): { drop: string; actions: Action[] } {
    const family = p.family ?? this.cfg.family;
    const bytes = advert(this.core, { ...p, family, vrid: p.vrid ?? this.cfg.vrid, version: p.version ?? this.cfg.version });
    const dst = p.destination ?? (family === 6 ? 'ff02::12' : '224.0.0.18');
    const drop = this.core.handleVrrp(this.now, p.ifindex ?? 1, family, p.ttl ?? 255, parseAddress(p.source), parseAddress(dst), bytes);
    return { drop, actions: this.take() };
  }
  track(index: number, weight: number, failing: boolean): Action[] {
    this.core.track(this.slot, index, weight, failing, this.now);
    return this.take();
  }
}

export interface PeerAdvert {
  source: string;
  priority: number;
  vrid?: number;
  version?: 2 | 3;
  family?: Family;
  advertInterval?: number;      // v3 centiseconds, v2 seconds
  vips?: string[];
  authType?: number;
  authData?: string;
  ttl?: number;
  ifindex?: number;
  destination?: string;
}

export function advert(core: Core, p: PeerAdvert & { family: Family; vrid: number; version: 2 | 3 }): Uint8Array {
  return core.encode({
    version: p.version, family: p.family, vrid: p.vrid, priority: p.priority,
    advertInterval: p.advertInterval ?? (p.version === 2 ? 1 : 1),
    addresses: p.vips ?? [p.family === 6 ? '2001:db8::100' : '192.0.2.100'],
    source: p.source, destination: p.destination ?? (p.family === 6 ? 'ff02::12' : '224.0.0.18'),
    authType: p.authType, authData: p.authData,
  });
}

export const kinds = (a: Action[]) => a.map((x) => x.kind === 'transition' ? `${x.from}->${x.to}:${x.reason}` : x.kind);
