// Monotonic views for test/chaos and bench/chaos (probe.py): the adverts of one router as they
// cross a bridge port, and the connections a check makes to its target, each stamped with
// CLOCK_MONOTONIC in ms, the clock process.hrtime reads here. A realtime jump moves neither.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PROBE = fileURLToPath(new URL('probe.py', import.meta.url));

/** CLOCK_MONOTONIC now, ms (libuv's hrtime is CLOCK_MONOTONIC on Linux, as Python's monotonic). */
export const monoMs = () => Number(process.hrtime.bigint()) / 1e6;

export interface Stamps { stamps: number[]; stop(): void }

/**
 * probe.py in namespace `ns` with `args`; resolves once it listens. SCHED_FIFO 70 (above the
 * engines at 50) for the advert reader, so a busy box does not make its stamps late.
 */
export async function probe(t: { teardown(fn: () => unknown): void }, ns: string, args: string[], fifo = false): Promise<Stamps> {
  const cmd = [...(fifo ? ['chrt', '-f', '70'] : []), 'python3', PROBE, ...args];
  const child = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stop = () => { if (child.exitCode === null) child.kill('SIGKILL'); };
  t.teardown(stop);
  const stamps: number[] = [];
  let ready = false, err = '', rest = '';
  child.stdout!.on('data', (d: Buffer) => {
    const lines = (rest + d.toString()).split('\n');
    rest = lines.pop()!;
    for (const l of lines) {
      if (l === 'ready') ready = true;
      else if (l) stamps.push(Number(l) * 1000);
    }
  });
  child.stderr!.on('data', (d) => { err += d; });
  const t0 = monoMs();
  while (!ready) {
    if (child.exitCode !== null || monoMs() - t0 > 5000) { stop(); throw new Error(`probe.py ${args[0]} did not start: ${err}`); }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { stamps, stop };
}

/** Stamps in [from, to]. */
export const within = (s: number[], from: number, to: number) => s.filter((x) => x >= from && x <= to);
