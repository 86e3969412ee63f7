// The checks that are watched rather than run in rounds: process (pidfds, the proc connector)
// and file (inotify). Started by the checker beside its Runner; each reports as a check does.
import type { CheckSpec } from '../config/types.ts';
import type { CheckReport } from './protocol.ts';

export const WATCHED = new Set(['process', 'file']);

export async function startWatches(checks: CheckSpec[], report: (r: CheckReport) => void): Promise<{ stop(): void; modes(): string[] }> {
  const procs = checks.filter((c) => c.type === 'process');
  const files = checks.filter((c) => c.type === 'file');
  const stops: (() => void)[] = [];
  const modes: (() => string)[] = [];
  if (procs.length) {
    const { ProcessWatch } = await import('./process.ts');
    const w = new ProcessWatch(procs, report);
    w.start();
    stops.push(() => w.stop());
    modes.push(() => `process checks: ${w.mode}`);
  }
  if (files.length) {
    const { FileWatch } = await import('./file.ts');
    for (const c of files) { const w = new FileWatch(c, report); w.start(); stops.push(() => w.stop()); }
    modes.push(() => 'file checks: inotify');
  }
  return { stop: () => { for (const s of stops) s(); }, modes: () => modes.map((m) => m()) };
}
