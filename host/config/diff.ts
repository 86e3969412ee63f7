// What changed between two configurations, for the SIGHUP reload: instances are matched by
// name; an unchanged instance is left alone (no blip: same state, same addresses), a changed one
// is reconfigured live when the core allows it, restarted only when its identity changed.
// process.getBuiltinModule, not import: see host/core/addr.ts.
const { isDeepStrictEqual } = process.getBuiltinModule('node:util');
import type { AgentConfig, InstanceSpec } from './types.ts';

// Fields whose change makes the instance a different virtual router on the wire or on the
// host: the core refuses them on a running instance (core-wasm instanceConfigure), so the
// instance is stopped (priority 0 if master) and started again. vmac moves the addresses to
// another (macvlan) interface with another MAC, so it is one of them.
export const RESTART_FIELDS = ['interface', 'vrid', 'version', 'family', 'vmac'] as const;

// Where an instance sits in the file is not part of what it is.
const IGNORED: ReadonlySet<string> = new Set(['line', 'col']);

export type InstanceField = Exclude<keyof InstanceSpec, 'line' | 'col'>;

export interface InstanceChange {
  name: string;
  before: InstanceSpec;
  after: InstanceSpec;
  fields: InstanceField[];          // every field that differs, in InstanceSpec order
  restart: boolean;                 // true when any of `restartFields` changed
  restartFields: InstanceField[];
}

export interface ConfigDiff {
  added: InstanceSpec[];
  removed: InstanceSpec[];
  unchanged: string[];              // names
  changed: InstanceChange[];
  syncGroupsChanged: boolean;       // membership is also in each instance's `syncGroup`
  statusChanged: boolean;           // restart the status server
  realtimeChanged: boolean;         // takes effect at the next start of the VRRP process
}

export function diffInstance(before: InstanceSpec, after: InstanceSpec): InstanceChange | undefined {
  const fields = (Object.keys(after) as (keyof InstanceSpec)[])
    .filter((k): k is InstanceField => !IGNORED.has(k) && !isDeepStrictEqual(before[k], after[k]));
  if (fields.length === 0) return undefined;
  const restartFields = fields.filter((f) => (RESTART_FIELDS as readonly string[]).includes(f));
  return { name: after.name, before, after, fields, restart: restartFields.length > 0, restartFields };
}

export function diffConfigs(before: AgentConfig, after: AgentConfig): ConfigDiff {
  const old = new Map(before.instances.map((i) => [i.name, i]));
  const now = new Set(after.instances.map((i) => i.name));
  const d: ConfigDiff = {
    added: [], removed: before.instances.filter((i) => !now.has(i.name)), unchanged: [], changed: [],
    syncGroupsChanged: !isDeepStrictEqual(groups(before), groups(after)),
    statusChanged: !isDeepStrictEqual(before.status, after.status),
    realtimeChanged: !isDeepStrictEqual(before.realtime, after.realtime),
  };
  for (const inst of after.instances) {
    const prev = old.get(inst.name);
    if (!prev) { d.added.push(inst); continue; }
    const change = diffInstance(prev, inst);
    if (change) d.changed.push(change);
    else d.unchanged.push(inst.name);
  }
  return d;
}

// Groups as sets: their order in the file and the order of their members mean nothing.
function groups(c: AgentConfig): [string, string[]][] {
  return c.syncGroups.map((g): [string, string[]] => [g.name, [...g.instances].sort()]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
