// Starting a notify hook, side by side: how long the call holds the engine's main thread, the
// shim's spawnHook (posix_spawn: the child shares the parent's memory until its exec) against
// node:child_process.spawn (libuv forks: the parent's page tables are copied first). Measured
// in this process with its heap grown to an engine's RSS or more, alternating the two, each
// hook /bin/true, reaped before the next. At 10 ms adverts a hook starts between two adverts
// of a transition, so this time is that advert's lateness (host/agent/notify.ts).
//
//   node bench/notify.ts
import { spawn } from 'node:child_process';
import { shim, watchExit } from '../host/net/shim.ts';
import { spawnHook } from '../host/net/spawn.ts';
import { quantile } from './lab.ts';
import { table } from './table.ts';

const N = process.env.VIGIL_BENCH_QUICK === '1' ? 10 : 40;

export async function run() {
  const s = shim();
  // ~40 MB of live heap: an engine is ~28 MB RSS, a supervisor more.
  const ballast: Uint8Array[] = [];
  for (let i = 0; i < 320; i++) ballast.push(new Uint8Array(1 << 17).fill(i));
  const envp = Object.entries(process.env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
  const viaShim: number[] = [], viaNode: number[] = [];
  for (let i = 0; i < N; i++) {
    let t0 = performance.now();
    const [pid, errFd] = spawnHook(['/bin/true'], envp);
    viaShim.push(performance.now() - t0);
    s.close(errFd);
    await new Promise<void>((r) => watchExit(pid, () => r()));
    t0 = performance.now();
    const c = spawn('/bin/true', [], { stdio: 'ignore' });
    viaNode.push(performance.now() - t0);
    await new Promise((r) => c.on('exit', r));
  }
  const rss = process.memoryUsage().rss / 1048576;
  const row = (xs: number[]) => ({ p50: quantile(xs, 0.5), p95: quantile(xs, 0.95), max: Math.max(...xs) });
  const shimMs = row(viaShim), nodeMs = row(viaNode);
  void ballast.length;
  return { module: 'notify', hooks: N, rssMB: rss, shimMs, nodeMs, ratioP50: nodeMs.p50 / shimMs.p50 };
}

export function format(r: Awaited<ReturnType<typeof run>>): string {
  const f = (x: number) => x.toFixed(2);
  return `starting a notify hook (/bin/true), ${r.hooks} each, alternating, from a process of ${r.rssMB.toFixed(0)} MB RSS: ` +
    'how long the call holds the main thread, ms\n' +
    table(['how', 'p50', 'p95', 'max'], [
      ['shim spawnHook (posix_spawn, what the engine uses)', f(r.shimMs.p50), f(r.shimMs.p95), f(r.shimMs.max)],
      ['node:child_process.spawn (fork + exec)', f(r.nodeMs.p50), f(r.nodeMs.p95), f(r.nodeMs.max)],
    ], ['l', 'r', 'r', 'r']) + `\nratio at p50: ${r.ratioP50.toFixed(1)}x`;
}

if (import.meta.main) {
  const r = await run();
  console.log(format(r));
}
