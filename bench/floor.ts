// The machine's floor for timing: a C loop at SCHED_FIFO 50 with its memory locked, sleeping
// to absolute 10 ms deadlines (clock_nanosleep), and how late each wake-up is. No process here
// (vigil's engine, keepalived) can send adverts more regularly than this loop wakes, so the
// advert-jitter figures of failover.ts and checks.ts read against it.
//
//   node bench/floor.ts
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { targetsTable } from './table.ts';

const N = process.env.VIGIL_BENCH_QUICK === '1' ? 500 : 3000;   // 10 ms each

export async function run() {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-floor-'));
  try {
    const exe = join(dir, 'timer-loop');
    execFileSync('cc', ['-O2', '-o', exe, new URL('floor/timer-loop.c', import.meta.url).pathname]);
    const out = execFileSync(exe, [String(N)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const m = /p50=([\d.]+) p99=([\d.]+) p99\.9=([\d.]+) max=([\d.]+)/.exec(out);
    if (!m) throw new Error(`unexpected output: ${out}`);
    const [p50, p99, p999, max] = m.slice(1).map(Number);
    const rt = !/sched:/.test(out);
    return {
      module: 'floor', wakeups: N, realtime: rt, lateMs: { p50, p99, p999, max },
      targets: [{ name: 'machine floor: C timer loop lateness p99.9 (context for the 1 ms jitter targets)', target: '<= 1 ms', value: `${p999.toFixed(3)} ms`, met: p999 <= 1 }],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function format(r: Awaited<ReturnType<typeof run>>): string {
  return [
    `floor: a C loop${r.realtime ? ' at SCHED_FIFO 50, memory locked,' : ' (not real-time: no permission)'} waking every 10 ms, ${r.wakeups} times`,
    `  wake-up lateness p50 ${r.lateMs.p50} ms, p99 ${r.lateMs.p99} ms, p99.9 ${r.lateMs.p999} ms, max ${r.lateMs.max} ms`,
    '',
    targetsTable(r.targets),
  ].join('\n');
}

if (import.meta.main) console.log(format(await run()));
