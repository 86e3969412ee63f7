// Check policies (host/policy/): what a round costs in the sandbox against calling the same
// component in-process (jco glue, no worker), how long a hot swap takes (same shape: no
// transpile; new shape: a warm and a cold transpile), and how long a killed sandbox takes to
// answer again. In-process, no network: the probes' own cost is the checks' (bench/checks.ts).
//
//   node bench/policies.ts          standalone
import { readFileSync } from 'node:fs';
import { Compiler, type Compiled } from '../host/policy/compiler.ts';
import { Sandbox } from '../host/policy/sandbox.ts';
import type { CheckSpec } from '../host/config/types.ts';
import { table, targetsTable, type Target } from './table.ts';

const QUICK = process.env.VIGIL_BENCH_QUICK === '1';
const ROUNDS = QUICK ? 300 : 3000;
const SWAPS = QUICK ? 20 : 100;
const BUILD = new URL('../policies/build/', import.meta.url);
const bytes = (p: string) => new Uint8Array(readFileSync(new URL(p, BUILD)));
const quiet = { info() {}, warn() {}, debug() {} };
const LIMITS = { memoryPages: 256, cpuUs: 50_000, heapMb: 64 };
const spec = { name: 'b', target: '198.51.100.10:8080', host: '198.51.100.10', port: 8080, args: [['path', '/health'], ['budgetMs', '200']] } as unknown as CheckSpec;
const signal = new AbortController().signal;

function pcts(xs: number[]): { p50: number; p95: number; p99: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor((s.length - 1) * p))];
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: s[s.length - 1] };
}
const f = (ms: number) => (ms >= 10 ? ms.toFixed(1) : ms.toFixed(3));

// The same component called through jco's glue in this thread: the floor the sandbox adds to.
async function direct(c: Compiled): Promise<() => void> {
  const { instantiate } = await import(`data:text/javascript;base64,${Buffer.from(c.js).toString('base64')}`);
  const mods = await Promise.all(c.modules.map((m) => WebAssembly.compile(m as Uint8Array<ArrayBuffer>)));
  const nope = () => { throw new Error('no probes here'); };
  const imp = { probes: { http: nope, tcp: nope, dns: nope, icmp: nope }, log: { log() {} }, clock: { nowUs: () => 0n } };
  const root = await instantiate(async (p: string) => mods[(Number(/core(\d*)\.wasm$/.exec(p)![1]) || 1) - 1],
    Object.fromEntries(Object.entries(imp).map(([k, v]) => [`vigil:policy/${k}`, v])));
  return () => { try { root.evaluate(spec.target, spec.args); } catch { /* a verdict */ } };
}

export async function run() {
  const compiler = new Compiler();
  const t0 = performance.now();
  const ok = await compiler.compile(bytes('test/ok.wasm'), 256);
  const coldTranspileMs = performance.now() - t0;
  const fail = await compiler.compile(bytes('test/fail.wasm'), 256);
  const echo = await compiler.compile(bytes('test/echo-args.wasm'), 256);

  // A round: sandboxed vs direct.
  const rows: string[][] = [];
  const rounds: Record<string, ReturnType<typeof pcts> & { perSecond: number }> = {};
  for (const [name, c] of [['ok', ok], ['echo-args', echo]] as const) {
    const box = new Sandbox(name, LIMITS, quiet);
    await box.load(c);
    for (let i = 0; i < 200; i++) await box.evaluate(spec, signal).catch(() => {});
    const lat: number[] = [];
    const w0 = performance.now();
    for (let i = 0; i < ROUNDS; i++) {
      const s = performance.now();
      await box.evaluate(spec, signal).catch(() => {});
      lat.push(performance.now() - s);
    }
    const perSecond = ROUNDS / ((performance.now() - w0) / 1000);
    const call = await direct(c);
    for (let i = 0; i < 1000; i++) call();
    const d0 = performance.now();
    for (let i = 0; i < ROUNDS * 10; i++) call();
    const directUs = ((performance.now() - d0) * 1000) / (ROUNDS * 10);
    const p = pcts(lat);
    rounds[name] = { ...p, perSecond };
    rows.push([name, f(p.p50 * 1000), f(p.p99 * 1000), f(p.max * 1000), Math.round(perSecond).toString(), f(directUs), `${Math.round((p.p50 * 1000) / directUs)}x`]);
    await box.close();
  }

  // Hot swaps of the same shape, alternating ok/fail: file bytes -> compiled -> answering.
  const box = new Sandbox('swap', LIMITS, quiet);
  await box.load(ok);
  const swaps: number[] = [];
  for (let i = 0; i < SWAPS; i++) {
    const b = bytes(i % 2 ? 'test/ok.wasm' : 'test/fail.wasm');
    const s = performance.now();
    const c = await compiler.compile(b, 256);
    await box.load(c, s);
    swaps.push(performance.now() - s);
  }
  // A new shape (different imports): the glue is transpiled, in the compiler's warm worker.
  const n0 = performance.now();
  await box.load(await compiler.compile(bytes('http-budget.wasm'), 256), n0);
  const newShapeWarmMs = performance.now() - n0;
  // Cold: a fresh compiler (its worker starts, loads jco, transpiles).
  const fresh = new Compiler();
  const c0 = performance.now();
  await box.load(await fresh.compile(bytes('tcp-banner.wasm'), 256), c0);
  const newShapeColdMs = performance.now() - c0;
  fresh.close();
  await box.close();

  // A loop killed at its budget, and the sandbox answering again.
  const loop = await compiler.compile(bytes('test/loop.wasm'), 256);
  const lbox = new Sandbox('loop', { ...LIMITS, cpuUs: 20_000 }, quiet);
  await lbox.load(loop);
  const k0 = performance.now();
  await lbox.evaluate(spec, signal).catch(() => {});
  const killMs = performance.now() - k0;
  await lbox.load(fail);
  await lbox.close();
  compiler.close();
  void fail;

  const swap = pcts(swaps);
  const targets: Target[] = [
    { name: 'hot swap, same shape (p95)', target: '<= 50 ms', value: `${f(swap.p95)} ms`, met: swap.p95 <= 50 },
    { name: 'hot swap, new shape, warm transpile', target: '<= 50 ms', value: `${f(newShapeWarmMs)} ms`, met: newShapeWarmMs <= 50 },
  ];
  return { module: 'policies', quick: QUICK, rows, rounds, swapMs: swap, newShapeWarmMs, newShapeColdMs, coldTranspileMs, killMs, targets };
}

export function format(r: Awaited<ReturnType<typeof run>>): string {
  return [
    'policies: a round in the sandbox (worker round trip) vs the same component called in-process',
    table(['policy', 'p50 µs', 'p99 µs', 'max µs', 'rounds/s', 'direct µs', 'ratio'], r.rows),
    '',
    table(['hot swap', 'p50 ms', 'p95 ms', 'max ms'], [['same shape (file -> answering)', f(r.swapMs.p50), f(r.swapMs.p95), f(r.swapMs.max)]]),
    `new shape: ${f(r.newShapeWarmMs)} ms with the compiler warm, ${f(r.newShapeColdMs)} ms cold (first transpile at start: ${f(r.coldTranspileMs)} ms)`,
    `a 20 ms-budget loop stopped and its round failed after ${f(r.killMs)} ms`,
    '',
    targetsTable(r.targets),
  ].join('\n');
}

if (import.meta.main) {
  const r = await run();
  console.log(format(r));
}
