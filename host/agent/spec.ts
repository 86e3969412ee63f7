// What the engine runs: the config's normalized instances and sync groups.
import type { InstanceSpec, SyncGroupSpec, AgentConfig, CheckSpec } from '../config/types.ts';
export type { InstanceSpec, SyncGroupSpec, CheckSpec };

export interface EngineSpec {
  instances: InstanceSpec[];
  syncGroups: SyncGroupSpec[];
  checks?: CheckSpec[];       // run by the checker process; the engine only tracks their reports
}

export function toEngineSpec(c: AgentConfig): EngineSpec {
  return { instances: c.instances, syncGroups: c.syncGroups, checks: c.checks };
}
