// CLOCK_REALTIME jumps (clock.py), made safe to leave: the offset of realtime to monotonic is
// taken before, clock.py restores it itself (try/finally, on SIGTERM too), and restoreClock()
// checks it afterwards and puts it back if anything went wrong (clock.py killed mid-jump).
import { spawn, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { monoMs } from './probe.ts';

const CLOCK = fileURLToPath(new URL('clock.py', import.meta.url));

/** realtime - monotonic, ns (as a string: more digits than a double keeps). */
export const clockOffset = (): string => execFileSync('python3', [CLOCK, 'offset'], { encoding: 'utf8' }).trim();

/** realtime set back to monotonic + `offset` if it is off; throws if it is still off by >= 50 ms. */
export function restoreClock(offset: string): number {
  const out = execFileSync('python3', [CLOCK, 'restore', offset], { encoding: 'utf8' });
  return Number(/drift ([\d.]+) ms/.exec(out)?.[1] ?? NaN);
}

export interface Jump { jumped: number; restored: number }

/**
 * Jumps realtime by each of `seconds` in turn, each held `holdS` then undone (and `holdS` of
 * quiet after); the moments as monotonic ms. `during` runs meanwhile and sees them as they come.
 * Realtime is checked against monotonic at the end, whatever happened.
 */
export async function jumpClock(seconds: number[], holdS: number, during?: (jumps: Jump[]) => Promise<void>): Promise<{ jumps: Jump[]; driftMs: number }> {
  const before = clockOffset();
  const child = spawn('python3', [CLOCK, 'jump', ...seconds.flatMap((s) => [String(s), String(holdS)])], { stdio: ['ignore', 'pipe', 'pipe'] });
  const jumps: Jump[] = [];
  let out = '', err = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d;
    for (const m of d.toString().matchAll(/^(jumped|restored) ([\d.]+)$/gm)) {
      if (m[1] === 'jumped') jumps.push({ jumped: Number(m[2]) * 1000, restored: NaN });
      else jumps.at(-1)!.restored = Number(m[2]) * 1000;
    }
  });
  child.stderr!.on('data', (d) => { err += d; });
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  try {
    await during?.(jumps);
    const code = await exited;
    if (code !== 0) throw new Error(`clock.py jump exited ${code}: ${err || out}`);
  } finally {
    if (child.exitCode === null) { child.kill('SIGTERM'); await exited; }
    restoreClock(before);   // a second line of defence: throws if realtime is still off
  }
  return { jumps, driftMs: Number(/drift ([\d.]+) ms/.exec(out)?.[1] ?? NaN) };
}

export { monoMs };
