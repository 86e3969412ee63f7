// Health checks: checks/s and the checker process's CPU, against a local HTTP backend in
// another namespace, and TCP connects to it. The checker runs as `vigil checker` (the process
// `vigil run` starts), with N checks at a short interval; its CPU is utime + stime of all its
// threads (/proc/PID/stat) over a window, the backend's alongside (a separate process: it
// must not be what limits the rate, so it is a few lines of node:net that answer every request
// with a fixed response, not node:http, which costs more per request than the checker does).
// Then advert jitter on the wire (a capture on the bridge): a vigil master at 10 ms adverts,
// idle, and while its checker runs 1,000 HTTP checks/s (100 checks every 100 ms), side by side.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Lan, VIGIL, Wire, children, cpuMs, memory, reaper, sleep, workdir, wall, quantile, max, ROOT } from './lab.ts';
import { table, type Target } from './table.ts';

const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const PREFIX = 'vbchk-';
const WINDOW_MS = 5000;
// 30 s of 10 ms adverts: 3,000 gaps, so p99.9 is the 3rd largest, not the maximum.
const JITTER_MS = 30_000;

// A minimal HTTP/1.1 server: keep-alive, pipelining, one fixed 200 "ok" per request head.
const BACKEND = (addr: string) => `
const RES = Buffer.from('HTTP/1.1 200 OK\\r\\ncontent-length: 2\\r\\nkeep-alive: timeout=60\\r\\n\\r\\nok');
require('node:net').createServer({ noDelay: true }, (s) => {
  let tail = '';
  s.on('data', (d) => {
    const t = tail + d.toString('latin1');
    let n = 0, i = -1, end = 0;
    while ((i = t.indexOf('\\r\\n\\r\\n', i + 1)) !== -1) { n++; end = i + 4; }
    tail = t.slice(end);
    if (n) s.write(n === 1 ? RES : Buffer.concat(Array(n).fill(RES)));
  });
  s.on('error', () => {});
}).listen(8080, '${addr}', () => console.log('ready'));`;

const ticksPct = (a: { ticks: number }, b: { ticks: number }, ms: number) => ((b.ticks - a.ticks) / ms) * 100;

interface Series {
  name: string; checks: number; intervalMs: number; type: 'http' | 'tcp'; perSecond: number; failures: number; rounds: number;
  cpuPct: number; cpuPer10k: number; schedPct: number; backendPct: number; rssMB: number; pssMB: number; errors: string[];
}

async function series(w: { dir: string }, a: string, backend: { ip: string; pid: number }, type: 'http' | 'tcp', checks: number, intervalMs: number): Promise<Series> {
  const timeout = Math.max(1, Math.floor(intervalMs / 2));
  const target = type === 'http' ? `"http://${backend.ip}:8080/health"` : `"${backend.ip}:8080"`;
  const lines = ['checks:'];
  for (let i = 0; i < checks; i++) lines.push(`  - { name: c${i}, type: ${type}, target: ${target}, interval: ${intervalMs}ms, timeout: ${timeout}ms, rise: 2, fall: 3 }`);
  lines.push('instances: [{ name: VI_1, interface: eth0, vrid: 51, virtualAddresses: [192.0.2.100/24] }]');
  const cfg = join(w.dir, `${type}-${checks}-${intervalMs}.yaml`);
  writeFileSync(cfg, lines.join('\n') + '\n');
  const p = spawn('ip', ['netns', 'exec', a, VIGIL, 'checker', '-c', cfg, '--log-json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const last = new Map<string, { rounds: number; failures: number; error: string | null }>();
  createInterface({ input: p.stdout! }).on('line', (l) => {
    try { const r = JSON.parse(l); last.set(r.check, r); } catch { /* not a report */ }
  });
  const sum = () => [...last.values()].reduce((s, r) => ({ rounds: s.rounds + r.rounds, failures: s.failures + r.failures }), { rounds: 0, failures: 0 });
  try {
    await sleep(5000);                       // start-up, the first flush, and the JIT warmed up (1,000 rounds/s take ~5 s)
    const pid = checkerPid(p.pid!);
    const c0 = cpuMs(pid), b0 = cpuMs(backend.pid), s0 = sum(), t0 = performance.now();
    await sleep(WINDOW_MS);
    const c1 = cpuMs(pid), b1 = cpuMs(backend.pid), s1 = sum(), t1 = performance.now();
    const { rssMB: rss, pssMB: pss } = memory(pid);
    const perSecond = ((s1.rounds - s0.rounds) * 1000) / (t1 - t0);
    const cpuPct = ticksPct(c0, c1, t1 - t0);
    return {
      name: `${checks} ${type} checks every ${intervalMs} ms`, checks, intervalMs, type, perSecond, cpuPct, cpuPer10k: (cpuPct * 10_000) / perSecond,
      schedPct: ((c1.sched - c0.sched) / (t1 - t0)) * 100, backendPct: ((b1.sched - b0.sched) / (t1 - t0)) * 100,
      failures: s1.failures - s0.failures, rounds: s1.rounds - s0.rounds, rssMB: rss, pssMB: pss,
      errors: [...new Set([...last.values()].map((r) => r.error).filter((e): e is string => !!e))].slice(0, 3),
    };
  } finally {
    p.kill('SIGTERM');
    await new Promise((r) => p.on('exit', r));
  }
}

const cmdline = (p: number) => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8'); } catch { return ''; } };
// `ip netns exec` execs the command, and bin/vigil execs node: the pid is the checker's own.
function checkerPid(pid: number): number {
  return cmdline(pid).includes('checker') ? pid : children(pid).find((c) => cmdline(c).includes('checker')) ?? pid;
}

interface Jitter {
  label: string; adverts: number; p50: number; p99: number; p999: number; max: number; checksUp: number;
  checksPerSecond: number; checkerPct: number; checkerPer10k: number; enginePct: number;
  floorP999: number;   // bench/floor's C loop in the same window (NaN: no C compiler)
}

// One master at 10 ms adverts for JITTER_MS; with a backend, 100 HTTP checks every 100 ms.
// bench/floor's C timer loop (SCHED_FIFO, memory locked, 10 ms deadlines), compiled once: run
// beside the engine through each jitter window, it says what this machine gave any real-time
// task in that window. At priority 49, one below the engine, so it never delays an advert.
function floorLoop(dir: string): string | undefined {
  const exe = join(dir, 'timer-loop');
  try {
    execFileSync('cc', ['-O2', '-o', exe, join(ROOT, 'bench', 'floor', 'timer-loop.c')], { stdio: 'ignore' });
    return exe;
  } catch {
    return undefined;
  }
}

async function jitter(w: { dir: string }, lan: Lan, wire: Wire, label: string, backend: string | null, loop?: string): Promise<Jitter> {
  const [a] = lan.hosts;
  const lines = ['instances:', '  - { name: VI_1, interface: eth0, vrid: 51, priority: 150, advertInterval: 10ms, virtualAddresses: [192.0.2.100/24] }', 'status: false'];
  if (backend) {
    lines.push('checks:');
    for (let i = 0; i < 100; i++) lines.push(`  - { name: c${i}, type: http, target: "http://${backend}:8080/health", interval: 100ms, timeout: 50ms }`);
  }
  const cfg = join(w.dir, `jitter-${backend ? 'load' : 'idle'}.yaml`);
  writeFileSync(cfg, lines.join('\n') + '\n');
  const p = spawn('ip', ['netns', 'exec', a.ns, VIGIL, 'run', '-c', cfg, '--log-json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let checksUp = 0;   // the engine logs each check that comes up
  createInterface({ input: p.stderr! }).on('line', (l) => { if (/check c\d+: up/.test(l)) checksUp++; });
  try {
    await sleep(3000);                          // start-up, master, the checks up
    const kids = children(p.pid!);
    const checker = kids.find((k) => cmdline(k).includes('checker'));
    const engine = kids.find((k) => cmdline(k).includes('engine'));
    const cpu = () => ({ checker: checker ? cpuMs(checker) : null, engine: engine ? cpuMs(engine) : null });
    const c0 = cpu(), t0 = wall();
    const floor = loop ? new Promise<number>((resolve) => {
      execFile(loop, [String(JITTER_MS / 10), '49'], { encoding: 'utf8' }, (err, out) => resolve(err ? NaN : Number(/p99\.9=([\d.]+)/.exec(out)?.[1] ?? NaN)));
    }) : Promise.resolve(NaN);
    await sleep(JITTER_MS);
    const c1 = cpu(), t1 = wall();
    const floorP999 = await floor;
    const adv = wire.from(a.v4, t0, t1);
    const gaps: number[] = [];
    for (let i = 1; i < adv.length; i++) gaps.push(adv[i].t - adv[i - 1].t - 10);
    const checkerPct = c0.checker && c1.checker ? ticksPct(c0.checker, c1.checker, t1 - t0) : 0;
    const checksPerSecond = backend ? 1000 : 0;
    return {
      label, adverts: adv.length, p50: quantile(gaps, 0.5), p99: quantile(gaps, 0.99), p999: quantile(gaps, 0.999), max: max(gaps), checksUp,
      checksPerSecond, checkerPct, checkerPer10k: checksPerSecond ? (checkerPct * 10_000) / checksPerSecond : 0,
      enginePct: c0.engine && c1.engine ? ticksPct(c0.engine, c1.engine, t1 - t0) : NaN,
      floorP999,
    };
  } finally {
    p.kill('SIGTERM');
    await new Promise((r) => p.on('exit', r));
  }
}

export async function run() {
  const load0 = loadavg();
  const w = workdir();
  const lan = new Lan(PREFIX, ['a', 'c']);
  const r = reaper(PREFIX, w.dir);
  const [a, c] = lan.hosts;
  const server = spawn('ip', ['netns', 'exec', c.ns, NODE, '-e', BACKEND(c.v4)], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise((res) => createInterface({ input: server.stdout! }).once('line', res));
    const backend = { ip: c.v4, pid: server.pid! };
    const out: Series[] = [];
    // VIGIL_BENCH_PARTS=jitter skips the throughput series, e.g. while working on jitter.
    if (process.env.VIGIL_BENCH_PARTS !== 'jitter') {
      out.push(await series(w, a.ns, backend, 'http', 100, 100));
      out.push(await series(w, a.ns, backend, 'http', 100, 10));
      out.push(await series(w, a.ns, backend, 'tcp', 100, 10));
    }
    const wire = await Wire.start(lan.br);
    const loop = floorLoop(w.dir);
    const idle = await jitter(w, lan, wire, 'idle', null, loop);
    const load = await jitter(w, lan, wire, '1,000 HTTP checks/s in vigil checker', c.v4, loop);
    await wire.stop();
    const h10k = out[1];
    const targets: Target[] = [
      { name: 'advert jitter p99.9 at 10 ms with 1,000 HTTP checks/s', target: '<= 1 ms', value: `${load.p999.toFixed(2)} ms`, met: load.p999 <= 1 },
    ];
    if (h10k) targets.push({ name: 'HTTP checks/s in ≤ 50% of one core', target: '10,000/s in ≤ 50%', value: `${Math.round(h10k.perSecond)}/s in ${h10k.cpuPct.toFixed(0)}%`, met: h10k.perSecond >= 9500 && h10k.cpuPct <= 50 });
    return { series: out, jitter: [idle, load], tcpdumpDropped: wire.dropped, targets, cores: (await import('node:os')).cpus().length, loadavg: [load0[0], loadavg()[0]] };
  } finally {
    server.kill('SIGTERM');
    lan.destroy();
    r.close();
    w.remove();
  }
}

export function format(res: Awaited<ReturnType<typeof run>>): string {
  const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  return table(['checks (vigil checker, one process)', 'checks/s', 'failed', 'CPU % of a core', 'CPU % per 10k/s', 'backend CPU %', 'RSS MB', 'PSS MB'],
    res.series.map((s) => [s.name, s.perSecond.toFixed(0), String(s.failures), f(s.cpuPct), f(s.cpuPer10k), f(s.backendPct), s.rssMB.toFixed(0), s.pssMB.toFixed(0)]),
    ['l', 'r', 'r', 'r', 'r', 'r', 'r']) +
    `\n(CPU: utime + stime of all the checker's threads over ${WINDOW_MS / 1000} s; load average ${res.loadavg.map((l) => l.toFixed(2)).join(' -> ')} on ${res.cores} cores)` +
    '\n\nadvert jitter on the wire (gap between adverts minus 10 ms, ms), vigil master at 10 ms adverts, ' +
    `${JITTER_MS / 1000} s each:\n` +
    table(['load', 'checks up', 'adverts', 'p50', 'p99', 'p99.9', 'max', 'C loop p99.9', 'engine CPU %', 'checker CPU %', 'checker CPU % per 10k/s'],
      res.jitter.map((j) => [j.label, String(j.checksUp), String(j.adverts), j.p50.toFixed(3), j.p99.toFixed(3), j.p999.toFixed(3), j.max.toFixed(3),
        f(j.floorP999, 3), f(j.enginePct), j.checksPerSecond ? f(j.checkerPct) : '-', j.checksPerSecond ? f(j.checkerPer10k) : '-']),
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r']) +
    '\n(C loop p99.9: bench/floor\'s SCHED_FIFO timer loop, at 49 beside the engine through the same window: how late this machine woke any real-time task then)';
}

if (import.meta.main) {
  const res = await run();
  console.log(format(res));
  console.log(JSON.stringify(res.targets));
}
