// Backends for the check tests: python3 servers started in a test namespace, killed (by their
// own pid) to go down, and at teardown.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Proc } from '../helpers/agents.ts';

const SCRIPT = fileURLToPath(new URL('backend.py', import.meta.url));

export async function startBackend(ns: string, ...args: string[]): Promise<Proc> {
  const p = new Proc(spawn('ip', ['netns', 'exec', ns, 'python3', SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
  await p.waitLine(/^ready$/, 10_000);
  return p;
}

export interface Report { check: string; up: boolean; settled: boolean; error: string | null; code?: string | null; latencyMs: number | null; transitions: number; rounds: number; failures: number }

// The checker's flips (reports where `up` changed) for one check, from its stdout lines.
export function flips(lines: string[], check: string): Report[] {
  const out: Report[] = [];
  let up: boolean | undefined;
  for (const l of lines) {
    if (!l.startsWith('{"check"')) continue;
    const r = JSON.parse(l) as Report;
    if (r.check !== check || !r.settled) continue;
    if (r.up !== up) out.push(r);
    up = r.up;
  }
  return out;
}
