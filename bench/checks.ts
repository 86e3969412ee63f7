// Health checks: checks/s and the checker process's CPU, against a local HTTP backend (a Node
// http server with keep-alive in another namespace) and TCP connects to it. The checker runs
// as `vigil checker` (the process `vigil run` starts), with N checks at a short interval.
// Then advert jitter on the wire (a capture on the bridge): a vigil master at 10 ms adverts,
// idle, and while its checker runs 1,000 HTTP checks/s (100 checks every 100 ms).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Lan, VIGIL, Wire, cpuMs, reaper, sleep, workdir, wall, quantile, max, ROOT } from './lab.ts';
import { writeFileSync } from 'node:fs';
import { table, type Target } from './table.ts';

const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const PREFIX = 'vbchk-';
const WINDOW_MS = 4000;

interface Series { name: string; checks: number; intervalMs: number; type: 'http' | 'tcp'; perSecond: number; cpuPct: number; cpuPer10k: number; failures: number; rounds: number; rssMB: number }

async function series(w: { dir: string }, a: string, backend: string, type: 'http' | 'tcp', checks: number, intervalMs: number): Promise<Series> {
  const timeout = Math.max(1, Math.floor(intervalMs / 2));
  const target = type === 'http' ? `"http://${backend}:8080/health"` : `"${backend}:8080"`;
  const lines = ['checks:'];
  for (let i = 0; i < checks; i++) lines.push(`  - { name: c${i}, type: ${type}, target: ${target}, interval: ${intervalMs}ms, timeout: ${timeout}ms, rise: 2, fall: 3 }`);
  lines.push('instances: [{ name: VI_1, interface: eth0, vrid: 51, virtualAddresses: [192.0.2.100/24] }]');
  const cfg = join(w.dir, `${type}-${checks}-${intervalMs}.yaml`);
  writeFileSync(cfg, lines.join('\n') + '\n');
  const p = spawn('ip', ['netns', 'exec', a, VIGIL, 'checker', '-c', cfg, '--log-json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const last = new Map<string, { rounds: number; failures: number }>();
  createInterface({ input: p.stdout! }).on('line', (l) => {
    try { const r = JSON.parse(l); last.set(r.check, { rounds: r.rounds, failures: r.failures }); } catch { /* not a report */ }
  });
  const sum = () => [...last.values()].reduce((s, r) => ({ rounds: s.rounds + r.rounds, failures: s.failures + r.failures }), { rounds: 0, failures: 0 });
  try {
    await sleep(2500);                       // start-up, and the first flush
    const pid = await checkerPid(p.pid!);
    const c0 = cpuMs(pid).sched, s0 = sum(), t0 = performance.now();
    await sleep(WINDOW_MS);
    const c1 = cpuMs(pid).sched, s1 = sum(), t1 = performance.now();
    const rss = Number(/VmRSS:\s+(\d+)/.exec(await import('node:fs').then((f) => f.readFileSync(`/proc/${pid}/status`, 'utf8')))?.[1] ?? 0) / 1024;
    const perSecond = ((s1.rounds - s0.rounds) * 1000) / (t1 - t0);
    const cpuPct = ((c1 - c0) / (t1 - t0)) * 100;
    return { name: `${checks} ${type} checks every ${intervalMs} ms`, checks, intervalMs, type, perSecond, cpuPct, cpuPer10k: (cpuPct * 10_000) / perSecond,
      failures: s1.failures - s0.failures, rounds: s1.rounds - s0.rounds, rssMB: rss };
  } finally {
    p.kill('SIGTERM');
    await new Promise((r) => p.on('exit', r));
  }
}

// `ip netns exec` execs the command, so the pid is vigil's launcher's (bin/vigil runs node).
async function checkerPid(pid: number): Promise<number> {
  const { readFileSync, readdirSync } = await import('node:fs');
  const cmd = (p: number) => readFileSync(`/proc/${p}/cmdline`, 'utf8');
  if (cmd(pid).includes('main.ts')) return pid;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]) === pid && cmd(Number(d)).includes('checker')) return Number(d);
    } catch { /* gone */ }
  }
  return pid;
}

interface Jitter { label: string; adverts: number; p50: number; p99: number; p999: number; max: number; checksUp: number }

// One master at 10 ms adverts for JITTER_MS; with `checks`, 100 HTTP checks every 100 ms.
const JITTER_MS = 8000;
async function jitter(w: { dir: string }, lan: Lan, wire: Wire, label: string, backend: string | null): Promise<Jitter> {
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
    const t0 = wall();
    await sleep(JITTER_MS);
    const t1 = wall();
    const adv = wire.from(a.v4, t0, t1);
    const gaps: number[] = [];
    for (let i = 1; i < adv.length; i++) gaps.push(adv[i].t - adv[i - 1].t - 10);
    return { label, adverts: adv.length, p50: quantile(gaps, 0.5), p99: quantile(gaps, 0.99), p999: quantile(gaps, 0.999), max: max(gaps), checksUp };
  } finally {
    p.kill('SIGTERM');
    await new Promise((r) => p.on('exit', r));
  }
}

export async function run() {
  const w = workdir();
  const lan = new Lan(PREFIX, ['a', 'c']);
  const r = reaper(PREFIX, w.dir);
  const [a, c] = lan.hosts;
  const server = spawn('ip', ['netns', 'exec', c.ns, NODE, '-e', `
    require('node:http').createServer((q, s) => { s.writeHead(200, { 'content-length': 2 }); s.end('ok'); })
      .listen(8080, '${c.v4}', () => console.log('ready'));`], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise((res) => createInterface({ input: server.stdout! }).once('line', res));
    const out: Series[] = [];
    out.push(await series(w, a.ns, c.v4, 'http', 100, 100));
    out.push(await series(w, a.ns, c.v4, 'http', 100, 10));
    out.push(await series(w, a.ns, c.v4, 'tcp', 100, 10));
    const wire = await Wire.start(lan.br);
    const idle = await jitter(w, lan, wire, 'idle', null);
    const load = await jitter(w, lan, wire, '1,000 HTTP checks/s in vigil checker', c.v4);
    await wire.stop();
    const h10k = out[1];
    const targets: Target[] = [
      { name: 'advert jitter p99.9 at 10 ms with 1,000 HTTP checks/s', target: '<= 1 ms', value: `${load.p999.toFixed(2)} ms`, met: load.p999 <= 1 },
      { name: 'HTTP checks/s in ≤ 50% of one core', target: '10,000/s in ≤ 50%', value: `${Math.round(h10k.perSecond)}/s in ${h10k.cpuPct.toFixed(0)}%`, met: h10k.perSecond >= 9500 && h10k.cpuPct <= 50 },
    ];
    return { series: out, jitter: [idle, load], tcpdumpDropped: wire.dropped, targets, cores: (await import('node:os')).cpus().length };
  } finally {
    server.kill('SIGTERM');
    lan.destroy();
    r.close();
    w.remove();
  }
}

export function format(res: Awaited<ReturnType<typeof run>>): string {
  return table(['checks (vigil checker, one process)', 'checks/s', 'failed', 'CPU % of a core', 'CPU % per 10k/s', 'RSS MB'],
    res.series.map((s) => [s.name, s.perSecond.toFixed(0), String(s.failures), s.cpuPct.toFixed(1), s.cpuPer10k.toFixed(1), s.rssMB.toFixed(0)]),
    ['l', 'r', 'r', 'r', 'r', 'r']) + '\n\nadvert jitter on the wire (gap between adverts minus 10 ms, ms), vigil master at 10 ms adverts:\n' +
    table(['load', 'checks up', 'adverts', 'p50', 'p99', 'p99.9', 'max'],
      res.jitter.map((j) => [j.label, String(j.checksUp), String(j.adverts), j.p50.toFixed(3), j.p99.toFixed(3), j.p999.toFixed(3), j.max.toFixed(3)]), ['l', 'r', 'r', 'r', 'r', 'r', 'r']);
}

if (import.meta.main) {
  const res = await run();
  console.log(format(res));
  console.log(JSON.stringify(res.targets));
}
