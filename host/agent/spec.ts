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

// A supervised engine gets its config from the supervisor, already parsed and validated, as one
// JSON line on its stdin (the pipe that also carries the checker's reports, which start with
// '{"check":'): the engine never loads yaml or the config code (time at start, memory for
// good), and never reads a file the supervisor has not accepted. A reload is another such line.
export const CONFIG_LINE = '{"config":';

export function configLine(c: AgentConfig): string {
  return JSON.stringify({ config: c }) + '\n';
}

export function parseConfigLine(line: string): AgentConfig | undefined {
  if (!line.startsWith(CONFIG_LINE)) return undefined;
  try { return (JSON.parse(line) as { config: AgentConfig }).config; } catch { return undefined; }
}
