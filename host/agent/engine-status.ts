// The engine's /status view (host/agent/status-server.ts), read from its state: the core's
// counters and timers, the routers' transitions, the checks' table. The load balancer's part
// (virtualServers) comes from `vigil lb` and is added by the status server (host/lb/status-file.ts).
import { COUNTERS } from '../core/codes.ts';
import type { EngineState } from './engine-state.ts';

// kernelDrops: what the VRRP sockets' kernel filters dropped (host/net/vrrp-filter.ts), by the
// core's reasons: added to the totals, and shown apart. kernelFilter: why there is none.
export function engineStatus(s: EngineState, now: number, o: { pid: number; startedAt: Date; kernelDrops?: Record<string, number>; kernelFilter?: string }) {
  const core = s.core;
  const instances = [...s.routers.values()].map((r) => {
    const ob = core.observed(r.slot, now);
    const counters = Object.fromEntries(COUNTERS.map((c) => [c, core.counter(r.slot, c)]));
    const state = core.state(r.slot);
    return {
      name: r.spec.name,
      interface: r.spec.interface,
      vmac: r.env.vmac,
      vrid: r.spec.vrid,
      version: r.spec.version,
      family: r.spec.family === 6 ? 'ipv6' : 'ipv4',
      state,
      priority: r.spec.priority,
      effectivePriority: core.effectivePriority(r.slot),
      source: r.env.source,
      masterAddress: state === 'init' || state === 'fault' ? null : core.masterAddress(r.slot, r.spec.family),
      masterPriority: core.masterPriority(r.slot),
      advertIntervalMs: r.spec.advertIntervalCs * 10,
      masterDownIntervalMs: core.masterDownIntervalUs(r.slot) / 1000,
      virtualAddresses: r.spec.virtualAddresses.map((v) => `${v.address}/${v.prefixLen}`),
      counters,
      drops: core.drops(r.slot),
      transitions: r.transitions.map(({ atUs: _, ...t }) => t),
      availability: {
        upSeconds: ob.upUs / 1e6, downSeconds: ob.downUs / 1e6, failures: ob.failures, repairs: ob.repairs,
        mttfSeconds: Number.isFinite(ob.mttfUs) ? ob.mttfUs / 1e6 : null,
        mttrSeconds: Number.isFinite(ob.mttrUs) ? ob.mttrUs / 1e6 : null,
        availability: Number.isFinite(ob.availability) ? ob.availability : null,
      },
    };
  });
  const checks = [...s.checks.values()].map((c) => ({
    ...c,
    state: !c.known ? 'unknown' : c.up ? 'up' : 'down',
    trackedBy: [...s.routers.values()].filter((r) => r.spec.track.checks.some((t) => t.name === c.name)).map((r) => r.spec.name),
  }));
  const drops: Record<string, number> = { ...core.dropTotals() };
  for (const [r, n] of Object.entries(o.kernelDrops ?? {})) drops[r] = (drops[r] ?? 0) + n;
  return {
    pid: o.pid, startedAt: o.startedAt.toISOString(), instances, checks, drops,
    dropsInKernel: o.kernelDrops ?? {}, kernelFilter: o.kernelFilter ? `off: ${o.kernelFilter}` : 'on',
  };
}
