// Check policies (host/policy/): what a round costs in the sandbox against calling the same
// component in-process (jco glue, no worker), how long a hot swap takes (same shape: no
// transpile; new shape: a warm and a cold transpile), and how long a killed sandbox takes to
// answer again. In-process, no network: the probes' own cost is the checks' (bench/checks.ts).
//
//   node bench/policies.ts          standalone
import { copyFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Lan, Wire, VIGIL, sleep, have, workdir } from './lab.ts';
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
  const agent = await swapsInAgent().catch((err: Error) => ({ skipped: err.message }));
  const targets: Target[] = [
    { name: 'hot swap, same shape (p95)', target: '<= 50 ms', value: `${f(swap.p95)} ms`, met: swap.p95 <= 50 },
    { name: 'hot swap, new shape, warm transpile', target: '<= 50 ms', value: `${f(newShapeWarmMs)} ms`, met: newShapeWarmMs <= 50 },
  ];
  if ('missed' in agent) {
    targets.push({ name: 'hot swaps in a running agent (p95, file renamed)', target: '<= 50 ms', value: `${f(agent.swapMs.p95)} ms`, met: agent.swapMs.p95 <= 50 });
    targets.push({ name: 'adverts missed during the swaps (10 ms)', target: '0', value: String(agent.missed), met: agent.missed === 0 });
  }
  return { module: 'policies', quick: QUICK, rows, rounds, swapMs: swap, newShapeWarmMs, newShapeColdMs, coldTranspileMs, killMs, agent, targets };
}

// A running agent (priority 255, 10 ms adverts) whose checker runs 20 checks of one policy every
// 20 ms (1,000 policy rounds/s); the policy's file is replaced SWAPS_AGENT times, alternating two
// builds. From the checker's log: each swap's time; from a capture on the bridge: the gaps
// between adverts meanwhile, and any advert slot left empty (a gap of two intervals or more).
const SWAPS_AGENT = QUICK ? 6 : 20;
async function swapsInAgent() {
  if (process.getuid?.() !== 0 || !have('tcpdump')) throw new Error('needs root, network namespaces and tcpdump');
  // The lab's workdir: it removes the record a supervisor keeps of the config (host/agent/accepted.ts) too.
  const w = workdir();
  const dir = w.dir;
  const lan = new Lan('vbpol-', ['a']);
  const [a] = lan.hosts;
  let agent: ReturnType<typeof spawn> | undefined;
  let wire: Wire | undefined;
  try {
    const file = join(dir, 'web.wasm');
    copyFileSync(new URL('test/ok.wasm', BUILD), file);
    const cfg = join(dir, 'vigil.yaml');
    writeFileSync(cfg, [
      'instances: [{ name: VI_1, interface: eth0, vrid: 51, priority: 255, advertInterval: 10ms, virtualAddresses: [192.0.2.100/24] }]',
      `policies: [{ name: web, file: ${file} }]`,
      'checks:',
      ...Array.from({ length: 20 }, (_, i) => `  - { name: p${i}, type: policy, policy: web, target: ${a.v4}, interval: 20ms, timeout: 15ms }`),
      'status: { listen: 127.0.0.1:9110 }', 'realtime: { priority: 50 }', ''].join('\n'));
    wire = await Wire.start(lan.br);
    const log: string[] = [];
    agent = spawn('ip', ['netns', 'exec', a.ns, VIGIL, 'run', '-c', cfg, '--log-json'], { stdio: ['ignore', 'ignore', 'pipe'] });
    agent.stderr!.setEncoding('utf8').on('data', (d: string) => log.push(...d.split('\n')));
    const loaded = () => log.some((l) => /policy web: loaded/.test(l));
    for (let i = 0; i < 200 && !loaded(); i++) await sleep(50);
    if (!loaded()) throw new Error(`the agent did not load its policy:\n${log.slice(-10).join('\n')}`);
    await sleep(1000);
    const t0 = performance.timeOrigin + performance.now();
    for (let i = 0; i < SWAPS_AGENT; i++) {
      copyFileSync(new URL(i % 2 ? 'test/ok.wasm' : 'test/fail.wasm', BUILD), `${file}.new`);
      renameSync(`${file}.new`, file);
      await sleep(250);
    }
    await sleep(250);
    const t1 = performance.timeOrigin + performance.now();
    await wire.stop();
    const swapMs = log.map((l) => /"swapMs":([\d.]+)/.exec(l)).filter(Boolean).map((m) => Number(m![1]));
    const ts = wire.from(a.v4, t0, t1).map((x) => x.t);
    const gaps = ts.slice(1).map((x, i) => x - ts[i]);
    return { swaps: swapMs.length, swapMs: pcts(swapMs.length ? swapMs : [NaN]), adverts: ts.length, gapsMs: pcts(gaps), missed: gaps.filter((g) => g >= 20).length };
  } finally {
    agent?.kill('SIGTERM');
    await sleep(500);
    await wire?.stop().catch(() => {});
    lan.destroy();
    w.remove();
  }
}

export function format(r: Awaited<ReturnType<typeof run>>): string {
  const a = r.agent;
  return [
    'policies: a round in the sandbox (worker round trip) vs the same component called in-process',
    table(['policy', 'p50 µs', 'p99 µs', 'max µs', 'rounds/s', 'direct µs', 'ratio'], r.rows),
    '',
    table(['hot swap', 'p50 ms', 'p95 ms', 'max ms'], [['same shape (file -> answering)', f(r.swapMs.p50), f(r.swapMs.p95), f(r.swapMs.max)]]),
    `new shape: ${f(r.newShapeWarmMs)} ms with the compiler warm, ${f(r.newShapeColdMs)} ms cold (first transpile at start: ${f(r.coldTranspileMs)} ms)`,
    `a 20 ms-budget loop stopped and its round failed after ${f(r.killMs)} ms`,
    'missed' in a
      ? `in a running agent, 1,000 policy rounds/s, ${a.swaps} swaps by rename: swap p50 ${f(a.swapMs.p50)} p95 ${f(a.swapMs.p95)} max ${f(a.swapMs.max)} ms; ${a.adverts} adverts at 10 ms meanwhile, gaps p50 ${f(a.gapsMs.p50)} p99 ${f(a.gapsMs.p99)} max ${f(a.gapsMs.max)} ms, ${a.missed} missed`
      : `in a running agent: skipped (${a.skipped})`,
    '',
    targetsTable(r.targets),
  ].join('\n');
}

if (import.meta.main) {
  const r = await run();
  console.log(format(r));
}
