// What the engine runs: the config's normalized instances and sync groups.
import type { InstanceSpec, SyncGroupSpec, AgentConfig } from '../config/types.ts';
export type { InstanceSpec, SyncGroupSpec };

export interface EngineSpec {
  instances: InstanceSpec[];
  syncGroups: SyncGroupSpec[];
}

export function toEngineSpec(c: AgentConfig): EngineSpec {
  return { instances: c.instances, syncGroups: c.syncGroups };
}
