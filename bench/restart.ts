// A restart after kill -9 of the whole agent: how long after the new process's exec the VIP the
// killed run left on the box is gone (meanwhile two routers may answer for it). vigil and
// keepalived interleaved on the same namespaces, one router alone on the LAN at priority 150,
// killed whole (every process of the agent, SIGKILL) once it holds the VIP for 1.5 s (so vigil
// has its record of the config: a restart is a warm one), restarted 1 s later as issue 18's
// chaos run did. Exec = spawn of `ip netns exec NS <agent> ...`; removal = the RTM_DELADDR of
// the VIP in `ip -ts monitor address` (CLOCK_REALTIME stamps on both).
import { Agent, Lan, Monitor, children, median, sleep, wall, workdir, type Kind } from './lab.ts';
import { table, targetsTable, type Target } from './table.ts';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

// 5 pairs: ~45 s here, inside bench/run.ts's default 75 s per module.
const RUNS = Number(process.env.VIGIL_BENCH_RESTART_RUNS ?? 5);
const VIP_ADD = /^\d+: eth0\s+inet 192\.0\.2\.100\//;
const VIP_DEL = /^Deleted \d+: eth0\s+inet 192\.0\.2\.100\//;

async function once(lan: Lan, mon: Monitor, kind: Kind, dir: string): Promise<number> {
  const h = lan.hosts[0]!;
  const first = Agent.start({ kind, host: h, priority: 150, intervalMs: 10 }, dir);
  const t0 = first.spawnedAt;
  await mon.until(() => mon.first(VIP_ADD, t0), 10_000, `${kind} to add the VIP`);
  await sleep(1500);
  const pids = [first.proc.pid!, ...children(first.proc.pid!)];
  for (const p of pids) for (const c of children(p)) pids.push(c);
  // Stopped first, then killed: a supervisor killed a moment after its engine would see the
  // engine die and remove its VIPs, which is not the case measured.
  for (const sig of ['SIGSTOP', 'SIGKILL'] as const) for (const p of pids) { try { process.kill(p, sig); } catch { /* gone */ } }
  await first.exited;
  await sleep(1000);
  // keepalived's pid files name the killed processes (a zombie VRRP child may still hold its pid):
  // it would refuse to start as "already running", so they go, as an init system's cleanup does.
  for (const f of readdirSync(dir)) if (f.endsWith('.pid')) rmSync(join(dir, f), { force: true });
  if (!lan.holds(h, '192.0.2.100')) throw new Error(`${kind}: no stale VIP left by the killed run`);
  const again = Agent.start({ kind, host: h, priority: 150, intervalMs: 10 }, dir);
  const del = await mon.until(() => mon.first(VIP_DEL, again.spawnedAt), 5_000, `${kind} to remove the stale VIP`)
    .catch(async (e: Error) => { const l = again.all().slice(-8).join(' | '); await again.stop(); throw new Error(`${e.message}: ${l}`); });
  await mon.until(() => mon.first(VIP_ADD, del.t), 10_000, `${kind} to take the VIP again`);
  // VIGIL_BENCH_RESTART_DEBUG=1: the restarted agent's lines about it (vigil's carry startMs).
  if (process.env.VIGIL_BENCH_RESTART_DEBUG) console.error(kind, again.all().filter((l) => /stale|warm|running/.test(l)).join('\n'));
  await again.stop();
  await sleep(200);
  return del.t - again.spawnedAt;
}

export async function run() {
  const lan = new Lan('vbrs-', ['a']);
  const dir = workdir();
  const mon = Monitor.start(lan.hosts[0]!.ns, 'address');
  const ms: Record<Kind, number[]> = { vigil: [], keepalived: [] };
  const notes: string[] = [];
  try {
    await sleep(300);
    for (let i = 0; i < RUNS; i++) {
      for (const kind of (i % 2 ? ['keepalived', 'vigil'] : ['vigil', 'keepalived']) as Kind[]) {
        try { ms[kind].push(await once(lan, mon, kind, dir.dir)); } catch (e) { notes.push((e as Error).message); }
      }
    }
  } finally {
    await mon.stop();
    lan.destroy();
    dir.remove();
  }
  const v = median(ms.vigil), k = median(ms.keepalived);
  const targets: Target[] = [{ name: 'restart after kill -9: exec to the killed run\'s VIP removed (vigil median vs keepalived\'s, same runs)',
    target: '<= keepalived', value: `${v.toFixed(1)} ms vs ${k.toFixed(1)} ms`, met: v <= k }];
  const row = (k: Kind) => [k, String(ms[k].length), median(ms[k]).toFixed(1), Math.min(...ms[k]).toFixed(1), Math.max(...ms[k]).toFixed(1), ms[k].map((x) => x.toFixed(1)).join(' ')];
  return { module: 'restart', runs: ms, notes, vigilMedian: v, keepalivedMedian: k, rows: [row('vigil'), row('keepalived')], targets };
}

export function format(r: Awaited<ReturnType<typeof run>>): string {
  return [
    'restart after kill -9 of the whole agent: exec of the new run to the removal of the VIP the killed run left (ms), interleaved',
    table(['agent', 'runs', 'median', 'min', 'max', 'all'], r.rows),
    ...r.notes.map((n) => `  note: ${n}`),
    '',
    targetsTable(r.targets),
  ].join('\n');
}

if (import.meta.main) console.log(format(await run()));
