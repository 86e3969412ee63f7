// The status page's cost to the VRRP engine, which serves it (GET /, and /status twice a second
// while a page is open). One agent with 50 instances (VI_0 at 10 ms adverts, 49 at 1 s: a
// /status of some size), two windows side by side: nobody looking, then a page open (its HTML
// once, /status every 500 ms, as the page polls). Per window: VI_0's advert gaps on the wire
// (minus 10 ms), the engine's CPU and RSS, and bench/floor's C SCHED_FIFO loop beside it (what
// the machine gave any real-time task in the same window: the control).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lan, VIGIL, Wire, children, cpuMs, memory, reaper, sleep, workdir, wall, quantile, max, ROOT, nsExec } from './lab.ts';
import { table } from './table.ts';

const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const PREFIX = 'vbui-';
const WINDOW_MS = 15_000;   // 1,500 gaps at 10 ms: p99.9 is the 2nd largest (three windows fit make bench's 75 s)
const INSTANCES = 50;
const cmdline = (p: number) => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8'); } catch { return ''; } };

// What an open page asks of the agent: the page once, then /status every 500 ms (host/ui/main.ts).
const POLLER = `
const get = (p) => fetch('http://127.0.0.1:9110' + p).then((r) => r.arrayBuffer());
const ms = [];
await get('/');
const timer = setInterval(async () => { const t = performance.now(); await get('/status'); ms.push(performance.now() - t); }, 500);
process.on('SIGTERM', () => { clearInterval(timer); ms.sort((a, b) => a - b); console.log(JSON.stringify({ n: ms.length, p50: ms[ms.length >> 1], max: ms.at(-1) })); process.exit(0); });`;

interface Window { label: string; adverts: number; p50: number; p99: number; p999: number; max: number; engineCpuPct: number; rssMB: number; floorP999: number; statusMs: { n: number; p50: number; max: number } | null }

export async function run() {
  const w = workdir();
  const lan = new Lan(PREFIX, ['a']);
  const r = reaper(PREFIX, w.dir);
  const [a] = lan.hosts;
  let loop: string | undefined = join(w.dir, 'timer-loop');
  try { execFileSync('cc', ['-O2', '-o', loop, join(ROOT, 'bench', 'floor', 'timer-loop.c')], { stdio: 'ignore' }); } catch { loop = undefined; }
  const lines = ['instances:'];
  for (let i = 0; i < INSTANCES; i++) {
    lines.push(`  - { name: VI_${i}, interface: eth0, vrid: ${51 + i}, priority: 150, advertInterval: ${i ? '1s' : '10ms'}, virtualAddresses: [192.0.2.${100 + i}/24] }`);
  }
  lines.push('status: { listen: 127.0.0.1:9110 }');
  const cfg = join(w.dir, 'ui.yaml');
  writeFileSync(cfg, lines.join('\n') + '\n');
  const wire = await Wire.start(lan.br);
  const p = spawn('ip', ['netns', 'exec', a.ns, VIGIL, 'run', '-c', cfg, '--log-json'], { stdio: ['ignore', 'ignore', 'ignore'] });
  try {
    await sleep(8000);   // start-up, master, and the engine's trim of its start's memory (5 s)
    const engine = children(p.pid!).find((k) => cmdline(k).includes('engine'))!;
    const window = async (label: string, poll: boolean): Promise<Window> => {
      const poller = poll ? spawn('ip', ['netns', 'exec', a.ns, NODE, '--input-type=module', '-e', POLLER], { stdio: ['ignore', 'pipe', 'inherit'] }) : undefined;
      let out = '';
      poller?.stdout!.on('data', (d) => { out += d; });
      if (poller) await sleep(1000);   // its start, and the page's first request
      const c0 = cpuMs(engine), t0 = wall();
      const floor = loop ? new Promise<number>((resolve) => {
        execFile(loop!, [String(WINDOW_MS / 10), '49'], { encoding: 'utf8' }, (err, o) => resolve(err ? NaN : Number(/p99\.9=([\d.]+)/.exec(o)?.[1] ?? NaN)));
      }) : Promise.resolve(NaN);
      await sleep(WINDOW_MS);
      const c1 = cpuMs(engine), t1 = wall();
      const rssMB = memory(engine).rssMB;
      const floorP999 = await floor;
      let statusMs = null;
      if (poller) {
        poller.kill('SIGTERM');
        await new Promise((res) => poller.on('exit', res));
        statusMs = JSON.parse(out.trim() || 'null');
      }
      const adv = wire.from(a.v4, t0, t1).filter((x) => x.vrid === 51);
      const gaps: number[] = [];
      for (let i = 1; i < adv.length; i++) gaps.push(adv[i].t - adv[i - 1].t - 10);
      return { label, adverts: adv.length, p50: quantile(gaps, 0.5), p99: quantile(gaps, 0.99), p999: quantile(gaps, 0.999), max: max(gaps),
        engineCpuPct: ((c1.sched - c0.sched) / (t1 - t0)) * 100, rssMB, floorP999, statusMs };
    };
    const idle = await window('nobody looking', false);
    const page = await window('a page open (/status every 500 ms)', true);
    const again = await window('nobody looking, after', false);
    const bytes = nsExec(a.ns, 'curl', '-sf', 'http://127.0.0.1:9110/status').length;
    return { instances: INSTANCES, statusBytes: bytes, windows: [idle, page, again], tcpdumpDropped: wire.dropped };
  } finally {
    p.kill('SIGTERM');
    await new Promise((res) => p.on('exit', res));
    await wire.stop();
    lan.destroy();
    r.close();
    w.remove();
  }
}

export function format(res: Awaited<ReturnType<typeof run>>): string {
  return `status page: the engine serving it, ${res.instances} instances (/status ${(res.statusBytes / 1000).toFixed(0)} kB), VI_0 at 10 ms adverts; gaps minus 10 ms, in ms\n` +
    table(['window', 'adverts', 'p50', 'p99', 'p99.9', 'max', 'C loop p99.9', 'engine CPU %', 'engine RSS MB', '/status p50 / max ms'],
      res.windows.map((x) => [x.label, String(x.adverts), x.p50.toFixed(3), x.p99.toFixed(3), x.p999.toFixed(3), x.max.toFixed(3),
        Number.isNaN(x.floorP999) ? '–' : x.floorP999.toFixed(3), x.engineCpuPct.toFixed(1), x.rssMB.toFixed(1),
        x.statusMs ? `${x.statusMs.p50.toFixed(1)} / ${x.statusMs.max.toFixed(1)} (${x.statusMs.n})` : '–']));
}
