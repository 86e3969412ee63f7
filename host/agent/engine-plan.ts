// A reload, planned from the running routers and the new config: pure, so the driver
// (host/agent/engine.ts) and the simulated LAN (test/helpers/engine-lan.ts) reload alike.
import { diffInstance } from '../config/diff.ts';
import type { EngineSpec, InstanceSpec } from './spec.ts';
import type { VirtualRouter } from './engine-state.ts';

/** What a reload to `spec` does to each router: stopped and gone, started anew, or reconfigured in place. */
export interface ReloadPlan {
  remove: string[];                                   // gone from the config, or its identity changed
  restart: Set<string>;                               // of those, the ones that come back (identity changed)
  add: { spec: InstanceSpec; group: number }[];
  configure: { spec: InstanceSpec; group: number }[]; // same identity, other settings: state and VIPs kept
}

export function reloadPlan(routers: ReadonlyMap<string, VirtualRouter<unknown>>, spec: EngineSpec): ReloadPlan {
  const wanted = new Map(spec.instances.map((s) => [s.name, s]));
  const plan: ReloadPlan = { remove: [], restart: new Set(), add: [], configure: [] };
  for (const r of routers.values()) {
    const s = wanted.get(r.spec.name);
    if (!s || identity(s) !== identity(r.spec)) {
      plan.remove.push(r.spec.name);
      if (s) plan.restart.add(s.name);
    }
  }
  for (const s of spec.instances) {
    const r = routers.get(s.name);
    const group = groupIndex(spec, s.name);
    if (!r || plan.restart.has(s.name)) plan.add.push({ spec: s, group });
    else if (diffInstance(r.spec, s) || group !== r.group) plan.configure.push({ spec: s, group });
  }
  return plan;
}

export function groupIndex(spec: EngineSpec, name: string): number {
  return spec.syncGroups.findIndex((g) => g.instances.includes(name));
}

// What a router cannot change in place: its socket, its VRID, its VMAC.
function identity(s: InstanceSpec): string {
  return JSON.stringify([s.interface, s.vrid, s.version, s.family, s.unicastSource ?? null, s.vmac]);
}

