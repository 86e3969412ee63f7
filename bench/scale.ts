// Scale: the CPU and memory of a pair of routers as instances grow, vigil against keepalived
// with the same instances (VRRPv3, IPv4, one VIP each, multicast): 1, 20, 100 and 255 instances
// at 1 s adverts, and 20 at 10 ms. Per configuration: A (priority 150, master of all) and B
// (100) in namespaces on a bridge; once settled, each daemon's CPU (all its processes: vigil's
// supervisor and engine, keepalived's parent and VRRP child) over a window, and its RSS.
// Configurations run in turn, vigil and keepalived alternating. Needs root and keepalived.
import { readdirSync, readFileSync } from 'node:fs';
import { lab, type Proc } from '../test/helpers/agents.ts';
import { skipReason } from '../test/net/netns.ts';
import { table, type Target } from './table.ts';

const SERIES: { n: number; interval: '1s' | '10ms'; windowMs: number }[] = [
  { n: 1, interval: '1s', windowMs: 10_000 }, { n: 20, interval: '1s', windowMs: 10_000 },
  { n: 100, interval: '1s', windowMs: 10_000 }, { n: 255, interval: '1s', windowMs: 10_000 },
  { n: 20, interval: '10ms', windowMs: 5_000 },
];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Instance i: VRID i, VIP 198.51.100.i (255: 203.0.113.1).
const vip = (i: number) => (i < 255 ? `198.51.100.${i}` : '203.0.113.1');

function vigilConf(n: number, priority: number, interval: string): string {
  const out = ['instances:'];
  for (let i = 1; i <= n; i++) {
    out.push(`  - { name: VI_${i}, interface: eth0, vrid: ${i}, priority: ${priority}, advertInterval: ${interval}, virtualAddresses: [${vip(i)}/24] }`);
  }
  out.push('status: { listen: 127.0.0.1:9110 }', 'realtime: { priority: 50 }');
  return out.join('\n') + '\n';
}

function keepalivedConf(n: number, priority: number, interval: string): string {
  const out = [`global_defs {\n  router_id ka${priority}\n  vrrp_version 3\n  vrrp_garp_master_delay 0\n}`];
  for (let i = 1; i <= n; i++) {
    out.push(`vrrp_instance VI_${i} {\n  state BACKUP\n  interface eth0\n  virtual_router_id ${i}\n  priority ${priority}\n` +
      `  advert_int ${interval === '1s' ? '1' : '0.01'}\n  virtual_ipaddress {\n    ${vip(i)}/24\n  }\n}`);
  }
  return out.join('\n') + '\n';
}

// A daemon's processes: the one started and its children, recursively.
function tree(pid: number): number[] {
  let kids: number[] = [];
  try { kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number); } catch { /* gone */ }
  return [pid, ...kids.flatMap(tree)];
}
// CPU time in ms from the scheduler's own count (/proc/PID/task/*/schedstat, ns): a 1 s advert
// costs far less than the 10 ms tick that utime counts in.
function cpuMs(pids: number[]): number {
  let ns = 0;
  for (const p of pids) {
    try {
      for (const t of readdirSync(`/proc/${p}/task`)) ns += Number(readFileSync(`/proc/${p}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch { /* gone */ }
  }
  return ns / 1e6;
}
function rssMB(pids: number[]): number {
  let kb = 0;
  for (const p of pids) {
    try { kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0); } catch { /* gone */ }
  }
  return kb / 1024;
}

interface Row { impl: string; n: number; interval: string; cpuA: number; cpuB: number; rssA: number; rssB: number; masters: number }

async function measure(impl: 'vigil' | 'keepalived', n: number, interval: string, windowMs: number): Promise<Row> {
  const teardowns: (() => unknown)[] = [];
  const l = lab({ teardown: (f) => { teardowns.push(f); } }, impl === 'vigil' ? 'bsv-' : 'bsk-', ['a', 'b']);
  try {
    const [a, b] = l.hosts as [typeof l.hosts[0], typeof l.hosts[0]];
    const start = (h: typeof a, prio: number): Proc => impl === 'vigil'
      ? l.vigilFile(h, l.work.file(`${h.ns}.yaml`, vigilConf(n, prio, interval)))
      : l.keepalived(h, h.ns, keepalivedConf(n, prio, interval));
    const pa = start(a, 150);
    // A alone first: master of all after Master_Down_Interval (3.6 s at 1 s adverts).
    await sleep(interval === '1s' ? 4500 : 1500);
    const pb = start(b, 100);
    await sleep(interval === '1s' ? 3000 : 1500);
    const ta = tree(pa.child.pid!), tb = tree(pb.child.pid!);
    const a0 = cpuMs(ta), b0 = cpuMs(tb), t0 = performance.now();
    await sleep(windowMs);
    const dt = performance.now() - t0;
    for (const [who, p] of [['A', pa], ['B', pb]] as const) {
      if (p.child.exitCode !== null) throw new Error(`${impl} ${who} with ${n} instances exited ${p.child.exitCode}: ${p.lines.slice(-5).join(' | ')}`);
    }
    const masters = JSON.parse(execIp(a.ns))[0]?.addr_info?.filter((x: { local: string }) => x.local.startsWith('198.51.100.') || x.local === '203.0.113.1').length ?? 0;
    return {
      impl, n, interval, cpuA: (cpuMs(ta) - a0) / dt * 100, cpuB: (cpuMs(tb) - b0) / dt * 100,
      rssA: rssMB(ta), rssB: rssMB(tb), masters,
    };
  } finally {
    for (const f of teardowns.reverse()) await f();
  }
}

function execIp(ns: string): string {
  return process.getBuiltinModule('node:child_process').execFileSync('ip', ['-n', ns, '-j', 'addr', 'show', 'dev', 'eth0'], { encoding: 'utf8' });
}

export async function run(): Promise<{ rows: Row[]; perInstance: Record<string, number>; targets: Target[] } | { skipped: string }> {
  const why = skipReason();
  if (why) return { skipped: why };
  const rows: Row[] = [];
  for (const [k, s] of SERIES.entries()) {
    for (const impl of (k % 2 ? ['keepalived', 'vigil'] : ['vigil', 'keepalived']) as ('vigil' | 'keepalived')[]) {
      rows.push(await measure(impl, s.n, s.interval, s.windowMs).catch((e: Error) => {
        process.stderr.write(`scale: ${e.message}\n`);
        return { impl, n: s.n, interval: s.interval, cpuA: NaN, cpuB: NaN, rssA: NaN, rssB: NaN, masters: 0 };
      }));
    }
  }
  // Growth per instance at 1 s adverts: the slope from 1 to 255 instances of the master's CPU.
  const at = (impl: string, n: number) => rows.find((r) => r.impl === impl && r.n === n && r.interval === '1s')!;
  const slope = (impl: string, f: (r: Row) => number) => (f(at(impl, 255)) - f(at(impl, 1))) / 254;
  const perInstance = {
    vigilCpuPctPerInstance: slope('vigil', (r) => r.cpuA), keepalivedCpuPctPerInstance: slope('keepalived', (r) => r.cpuA),
    vigilRssMBPerInstance: slope('vigil', (r) => r.rssA), keepalivedRssMBPerInstance: slope('keepalived', (r) => r.rssA),
  };
  const ratio = perInstance.vigilCpuPctPerInstance / Math.max(perInstance.keepalivedCpuPctPerInstance, 1e-6);
  return {
    rows, perInstance,
    targets: [{ name: 'scale: master CPU per instance vs keepalived (1 s adverts)', target: '<= 2x', value: `${ratio.toFixed(2)}x`, met: ratio <= 2 }],
  };
}

export function format(r: Awaited<ReturnType<typeof run>>): string {
  if ('skipped' in r) return `scale: skipped (${r.skipped})`;
  const f = (x: number) => x.toFixed(x >= 10 ? 1 : x >= 1 ? 2 : 3);
  const rows = r.rows.map((x) => [x.impl, String(x.n), x.interval, f(x.cpuA), f(x.cpuB), f(x.rssA), f(x.rssB), `${x.masters}/${x.n}`]);
  const p = r.perInstance;
  return 'Scale: a pair (master A, backup B), CPU % of one core over the window and RSS (MB) of each daemon\n' +
    table(['impl', 'instances', 'advert', 'CPU A %', 'CPU B %', 'RSS A', 'RSS B', 'VIPs on A'], rows) +
    `\nper instance (1 -> 255 at 1 s): CPU vigil ${p.vigilCpuPctPerInstance!.toFixed(4)} % vs keepalived ${p.keepalivedCpuPctPerInstance!.toFixed(4)} %; ` +
    `RSS vigil ${(p.vigilRssMBPerInstance! * 1024).toFixed(0)} kB vs keepalived ${(p.keepalivedRssMBPerInstance! * 1024).toFixed(0)} kB`;
}

if (import.meta.main) { const r = await run(); console.log(format(r)); }
