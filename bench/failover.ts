// vigil against keepalived 2.2.7, side by side in one harness: failover time, CPU and memory at
// 100 adverts/s, exec-to-first-advert, and advert jitter on the wire.
//
//   node bench/failover.ts       standalone (root; keepalived and tcpdump installed)
//   node bench/run.ts            as part of `make bench` (run() below)
//
// Layout (bench/lab.ts): namespaces vbfo-a (the master, priority 150) and vbfo-b (the backup,
// priority 100), their eth0 on br0 in vbfo-br. VRRPv3, IPv4 multicast, VIP 192.0.2.100/24.
// Three observers, all stamping with CLOCK_REALTIME: tcpdump on br0 (every advert), `ip -ts
// monitor address` in a and b (RTM_NEWADDR / RTM_DELADDR of the VIP), `ip -ts monitor link`
// in the bridge namespace (the instant of the cut).
//
// 1. Failover. The cut is the master's switch port going down: its veth peer on the bridge
//    (`ip -n vbfo-br link set p-a down`). Nothing from the master reaches the LAN from that
//    instant, as when a box dies or its cable is pulled; its own eth0 loses carrier, so the
//    agent (either) goes to FAULT, but a priority-0 advert could not get out (the run checks
//    that none did). Measured per run: the VIP on the backup after the cut (the first
//    RTM_NEWADDR in b minus the link event), and on the wire the gap from the old master's last
//    advert to the new master's first, which is what RFC 5798's Master_Down_Interval bounds
//    (the backup re-arms its timer on the last advert it received). Then the port comes back,
//    the master preempts (it holds the VIP again and the backup dropped it), a random settle,
//    next run. Both intervals, both agents interleaved so background load hits them alike.
//    The comparison target uses the time from the last advert to the VIP: the time from the
//    cut carries a random phase (0..one interval) that would swamp a difference in 20 runs.
//    Checked on the way (reported as notes): no advert of the cut master gets out, no takeover
//    earlier than Master_Down_Interval, the backup silent again before the next cut.
// 2. CPU and memory: the pair steady at 10 ms (100 adverts/s) for a window; CPU time of every
//    thread of each process from /proc/PID/task/*/schedstat (ns; utime+stime ticks too), VmRSS,
//    PSS and VmHWM. vigil: the node process (ip netns exec and bin/vigil both exec, so the PID
//    spawned is node's). keepalived: parent + VRRP child (-P, no checker), also apart; and
//    once more with vrrp_rt_priority 50 (vigil's config asks for SCHED_FIFO 50; Debian's
//    keepalived runs SCHED_OTHER unless told). Wakeups: voluntary context switches of the
//    main thread per advert sent. Those windows are one pair at a time (the jitter and memory
//    figures come from them), and this VM's noise moves a window's CPU figure several-fold from
//    one window to the next. So the CPU comparison is one more window, side by side: the vigil
//    pair on this LAN and a keepalived pair on a second one (namespaces vbfo-k-br, vbfo-k-c,
//    vbfo-k-d: the same addresses, VRID and VIP on a bridge of their own), steady together,
//    every process's CPU read at the same two instants, so whatever the box does falls on both
//    alike. Its figures count only if each LAN kept exactly one master through the window.
// 3. Exec-to-first-advert: the agent alone on the LAN at priority 255 (the address owner sends
//    at once), from spawn() of `ip netns exec NS bin/vigil run` (or keepalived) to its first
//    advert on the wire. vigil as shipped (bin/vigil keeps V8's compile cache; one start first,
//    not counted, fills it) and with the cache off; and a breakdown of vigil's start from a
//    preload (NODE_OPTIONS=--import) that records Node's own timings in each Node process
//    (`vigil run` may supervise an `engine` child: both starts are on the path).
// 4. Jitter: the adverts of the steady master in window 2, gap minus the interval.
import { writeFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  Lan, Wire, Monitor, Agent, reaper, sweep, workdir, have, wall, sleep, cpuMs, memory, policy, systemCpu,
  quantile, median, max, mean, newestHostSource, ROOT, type Kind, type Host,
} from './lab.ts';
import { table, targetsTable, type Target } from './table.ts';

const SELF = fileURLToPath(import.meta.url);
// Another prefix (VIGIL_BENCH_PREFIX=vbfx-) lets two runs share the box: each sweeps its own.
const PREFIX = process.env.VIGIL_BENCH_PREFIX ?? 'vbfo-';
const VIP = '192.0.2.100';
const VIP_ADD = /^\d+: eth0\s+inet 192\.0\.2\.100\//;
const VIP_DEL = /^Deleted \d+: eth0\s+inet 192\.0\.2\.100\//;

// Full: ~185 s here (2 CPUs, load average 3-6 from other work). Under bench/run.ts with a
// per-module timeout too short for that, a reduced run (fewer repetitions, shorter window); and
// whatever the mode, parts that would not fit in the time left are skipped (and said so)
// rather than the module being killed half way.
const FULL_SECONDS = 210;
const RECOMMENDED_TIMEOUT_MS = 300_000;
const budgetMs = process.send ? Number(process.env.VIGIL_BENCH_TIMEOUT_MS ?? 75_000) : Infinity;
const REDUCED = process.env.VIGIL_BENCH_QUICK === '1' || budgetMs < FULL_SECONDS * 1000;
const RUNS = REDUCED ? 5 : 20;
const EXEC_RUNS = REDUCED ? 3 : 10;
const NOCACHE_RUNS = REDUCED ? 2 : 5;
const PROBE_RUNS = REDUCED ? 1 : 2;
const STEADY_MS = REDUCED ? 3000 : 10_000;
// A steady window starts this long after its pairs settled: past what a vigil engine does once
// after its start (the memory trim 5 s in, with the re-faults after it; Maglev from "vigil
// running"), which a window 1 s in charged to its CPU figure (a fresh engine: 5-27 ms of CPU a
// second in its first 12 s, 5-18 after). keepalived's pairs wait as long.
const SETTLE_MS = REDUCED ? 1000 : 8000;
// VIGIL_BENCH_PARTS=exec,steady,failover (default all) runs some parts only, e.g. while working on one figure.
const PARTS = new Set((process.env.VIGIL_BENCH_PARTS ?? 'failover,steady,exec').split(','));
let startedAt = performance.now();
/** True when less than `reserveMs` (plus 10 s for teardown) of the module's budget is left. */
const outOfTime = (reserveMs = 0) => performance.now() - startedAt > budgetMs - 10_000 - reserveMs;

/** RFC 5798 §6.1: Master_Down_Interval = 3 x Advertisement_Interval + Skew_Time, Skew_Time = (256 - Priority) x Advertisement_Interval / 256. */
export const masterDownMs = (advMs: number, priority: number) => 3 * advMs + ((256 - priority) * advMs) / 256;

interface Dist { n: number; median: number; p95: number; max: number; min: number }
const dist = (xs: number[]): Dist => ({ n: xs.length, median: median(xs), p95: quantile(xs, 0.95), max: max(xs), min: xs.length ? Math.min(...xs) : NaN });

interface FailoverRun { vipMs: number; lastAdvertToVipMs: number; wireGapMs: number; cutToAdvertMs: number; lastAdvertBeforeCutMs: number; recoverMs: number }
interface FailoverSeries {
  kind: Kind; intervalMs: number; masterDownMs: number; runs: FailoverRun[]; failed: number;
  vip: Dist; lastAdvertToVip: Dist; wireGap: Dist; cutToAdvert: Dist; recover: Dist;
}
interface ProcFigures {
  pid: number; cpuPct: number; cpuPctTicks: number; wakeupsPerAdvert: number;
  rssMB: number; pssMB: number; hwmMB: number; threads: number; policy: string;
}
interface Steady {
  kind: Kind; label: string; windowMs: number; master: Record<string, ProcFigures>; backup: Record<string, ProcFigures>;
  jitter: { adverts: number; meanGapMs: number; p50: number; p99: number; p999: number; max: number; min: number };
  /** the whole machine during the window: % of all CPUs busy (other work included) and stolen by the hypervisor */
  system: { busyPct: number; stealPct: number };
  /** the bridge namespace of the pair's LAN */
  lan: string;
  /** exactly one master all through the window: the master advertising, the backup silent, the VIP on the master alone at its end */
  settled: boolean;
}
interface ExecSeries {
  label: string; kind: Kind; runs: number[]; median: number; max: number; min: number; rssMB: number;
}
/** One Node process of a vigil start, times in ms since spawn() of bin/vigil. */
interface ProcStart {
  role: string;            // 'run' (the supervisor, or the engine itself when unsupervised) or 'engine'
  startMs: number;         // the process's performance.timeOrigin
  bootstrapMs: number;     // Node's own bootstrap (performance.nodeTiming.bootstrapComplete)
  firstModuleMs: number;   // the first host module requested
  lastModuleMs: number;    // the last module requested (resolve hook)
  modules: number;
  tsModules: number;
  heavy: string[];         // Node internals loaded that the VRRP path has no use for
}
interface BreakdownRun {
  totalMs: number;
  processes: ProcStart[];
  configuredMs: number;    // the engine's first log line after its config and real-time setup
  engineStartedMs: number; // its init -> master transition
  advertMs: number;        // the advert on the wire
  handedOverMs: number;    // a warm start: when the supervisor's engine handed over (NaN: a cold start)
}
export interface FailoverResult {
  module: 'failover';
  skipped?: string;
  reduced: boolean;
  cut: string;
  failover: FailoverSeries[];
  steady: Steady[];
  /** the vigil and keepalived pairs in one window, each on its own LAN: the CPU comparison */
  sideBySide: Steady[];
  exec: ExecSeries[];
  breakdown: BreakdownRun[];
  captureDropped: number;
  loadavg: number[];
  loadavgEnd: number[];
  cpus: number;
  notes: string[];
  targets: Target[];
}

// ---- the pair ------------------------------------------------------------------------------------

interface Ctx { lan: Lan; a: Host; b: Host; wire: Wire; monA: Monitor; monB: Monitor; link: Monitor; dir: string; notes: string[]; agents: Set<Agent> }

function start(ctx: Ctx, o: Parameters<typeof Agent.start>[0]): Agent {
  const ag = Agent.start(o, ctx.dir);
  ctx.agents.add(ag);
  return ag;
}

async function stop(ctx: Ctx, ag: Agent): Promise<void> {
  await ag.stop();
  ctx.agents.delete(ag);
  if (ag.kind === 'vigil') {
    for (const l of ag.all()) {
      if (/"level":"(warn|error)"/.test(l) && !/stale VIP/.test(l)) note(ctx, `vigil in ${ag.host.ns}: ${l}`);
    }
  }
}

function note(ctx: Ctx, s: string): void {
  if (!ctx.notes.includes(s) && ctx.notes.length < 40) ctx.notes.push(s);
}

/** `p`, or a rejection as soon as the agent exits (with the end of its log). */
function whileAlive<T>(ag: Agent, p: Promise<T>): Promise<T> {
  const died = ag.exited.then(() => {
    const tail = ag.all().filter((l) => l.trim() && !l.startsWith('VIGIL_PROBE')).slice(-20).join(' | ');
    throw new Error(`${ag.kind} in ${ag.host.ns} exited (${ag.proc.exitCode ?? ag.proc.signalCode}): ${tail.slice(-1500)}`);
  });
  died.catch(() => {});
  return Promise.race([p, died]);
}

const backupRe = (k: Kind) => (k === 'vigil' ? /"to":"backup"/ : /Entering BACKUP STATE/);

async function startPair(ctx: Ctx, kind: Kind, intervalMs: number, rt = false): Promise<[Agent, Agent]> {
  const { a, b } = ctx;
  const t0 = wall();
  const A = start(ctx, { kind, host: a, priority: 150, intervalMs, rt });
  await whileAlive(A, ctx.monA.until(() => ctx.monA.first(VIP_ADD, t0), 15_000, `${kind} (150) to take the VIP`));
  const B = start(ctx, { kind, host: b, priority: 100, intervalMs, rt });
  await whileAlive(B, B.waitLog(backupRe(kind), 15_000));
  await sleep(500);
  if (!ctx.lan.holds(a, VIP) || ctx.lan.holds(b, VIP)) throw new Error(`${kind} pair: the VIP is not on the master alone after start`);
  return [A, B];
}

/** Starts a pair, runs `fn`, stops every agent; a failure is a note and the module goes on. */
async function withPair(ctx: Ctx, kind: Kind, iv: number, rt: boolean, fn: (A: Agent, B: Agent) => Promise<void>, label = `${kind}${rt ? ' rt' : ''}`): Promise<void> {
  try {
    const [A, B] = await startPair(ctx, kind, iv, rt);
    await fn(A, B);
  } catch (err) {
    note(ctx, `${label} ${iv} ms: ${(err as Error).message}`);
  } finally {
    for (const ag of [...ctx.agents].reverse()) await stop(ctx, ag);
    await sleep(200);
  }
}

/** A LAN's observers (capture on its bridge, address monitors in its two hosts, link monitor on the bridge), added to `observers` for the caller to stop. */
async function observe(lan: Lan, dir: string, notes: string[], agents: Set<Agent>, observers: { stop(): Promise<void> }[]): Promise<Ctx> {
  const [a, b] = lan.hosts;
  const wire = await Wire.start(lan.br);
  observers.push(wire);
  const monA = Monitor.start(a.ns, 'address');
  const monB = Monitor.start(b.ns, 'address');
  const link = Monitor.start(lan.br, 'link');
  observers.push(monA, monB, link);
  await sleep(200);
  return { lan, a, b, wire, monA, monB, link, dir, notes, agents };
}

async function failovers(ctx: Ctx, kind: Kind, intervalMs: number, runs: number): Promise<FailoverSeries> {
  const { lan, a, b, wire, monA, monB, link } = ctx;
  const out: FailoverRun[] = [];
  let failed = 0;
  const downRe = /^\d+: p-a@\S+: <([^>]*)>/;
  const isDown = (e: { text: string }) => { const m = downRe.exec(e.text); return !!m && !m[1].split(',').includes('UP'); };
  const isUp = (e: { text: string }) => { const m = downRe.exec(e.text); return !!m && m[1].split(',').includes('UP'); };
  const limit = Math.max(3000, 40 * intervalMs);
  let lastRestore = NaN;
  for (let i = 0; i < runs && failed < 3; i++) {
    if (outOfTime()) { note(ctx, `${kind} ${intervalMs} ms: stopped after ${i} runs, out of the time budget`); break; }
    await sleep(200 + Math.random() * 2 * intervalMs);
    const tCmd = wall();
    // The backup must be silent by now (a master that stayed after the preemption = two masters).
    const stray = wire.from(b.v4, tCmd - 150, tCmd);
    if (stray.length) {
      const masterGap = Math.max(0, ...wire.from(a.v4, tCmd - 400, tCmd).map((x, j, xs) => (j ? x.t - xs[j - 1].t : 0)));
      note(ctx, `${kind} ${intervalMs} ms run ${i + 1}: the backup sent ${stray.length} advert(s) (prio ${stray.map((x) => x.prio).join(',')}) ` +
        `in the 150 ms before the cut, ${Number.isFinite(lastRestore) ? `${(stray[0].t - lastRestore).toFixed(0)} ms after the master had come back` : 'the pair having been steady since its start'}; ` +
        `the master's longest advert gap in the 400 ms before the cut: ${masterGap.toFixed(1)} ms`);
    }
    try {
      lan.cut(a);
      const cut = await link.until(() => link.events.find((e) => e.t >= tCmd - 1 && isDown(e)), 3000, 'the link event of the cut');
      const vip = await monB.until(() => monB.first(VIP_ADD, cut.t), limit, 'the backup to add the VIP');
      const adv = await wire.until(() => wire.firstAfter(cut.t, (x) => x.src === b.v4), limit, 'the backup\'s first advert');
      const before = wire.from(a.v4, cut.t - 10 * intervalMs - 1000, cut.t);
      const last = before[before.length - 1];
      if (!last) throw new Error('no advert of the master before the cut');
      const tR = wall();
      const leaked = wire.from(a.v4, cut.t + 0.5, tR);
      if (leaked.length) note(ctx, `${kind} ${intervalMs} ms: ${leaked.length} advert(s) of the cut master seen on the wire during the cut (prio ${leaked.map((x) => x.prio).join(',')})`);
      lan.restore(a);
      const up = await link.until(() => link.events.find((e) => e.t >= tR - 1 && isUp(e)), 3000, 'the link event of the restore');
      lastRestore = up.t;
      const back = await monA.until(() => monA.first(VIP_ADD, up.t), limit, 'the master to take the VIP back');
      await monB.until(() => monB.first(VIP_DEL, up.t), limit, 'the backup to release the VIP');
      out.push({
        vipMs: vip.t - cut.t,
        lastAdvertToVipMs: vip.t - last.t,
        wireGapMs: adv.t - last.t,
        cutToAdvertMs: adv.t - cut.t,
        lastAdvertBeforeCutMs: cut.t - last.t,
        recoverMs: back.t - up.t,
      });
    } catch (err) {
      failed++;
      // What the two boxes were doing, so a failure says whose it was.
      let where = '';
      try {
        const ag = (h: Host) => [...ctx.agents].find((x) => x.host === h);
        const logTail = (x: Agent | undefined) => (x?.all() ?? []).filter((l) => /"to":|"level":"(warn|error)"|Entering|engine|exit/i.test(l)).slice(-4).map((l) => l.slice(0, 200)).join(' | ');
        const sinceCut = wire.adverts.filter((x) => x.t > tCmd);
        where = `; VIP on a: ${lan.holds(a, VIP)}, on b: ${lan.holds(b, VIP)}; adverts since the cut: a ${sinceCut.filter((x) => x.src === a.v4).length}` +
          ` (prio ${[...new Set(sinceCut.filter((x) => x.src === a.v4).map((x) => x.prio))].join(',')}), b ${sinceCut.filter((x) => x.src === b.v4).length};` +
          ` a's log: ${logTail(ag(a))}; b's log: ${logTail(ag(b))}`;
      } catch { /* best effort */ }
      note(ctx, `${kind} ${intervalMs} ms run ${i + 1}: ${(err as Error).message}${where}`);
      try { lan.restore(a); } catch { /* up already */ }
      await sleep(1000 + 10 * intervalMs);
    }
  }
  const mdi = masterDownMs(intervalMs, 100);
  const early = out.filter((r) => r.wireGapMs < mdi - 0.5);
  if (early.length) note(ctx, `${kind} ${intervalMs} ms: ${early.length} takeover(s) earlier than Master_Down_Interval after the last advert (${early.map((r) => r.wireGapMs.toFixed(1)).join(', ')} ms)`);
  return {
    kind, intervalMs, masterDownMs: masterDownMs(intervalMs, 100), runs: out, failed,
    vip: dist(out.map((r) => r.vipMs)), lastAdvertToVip: dist(out.map((r) => r.lastAdvertToVipMs)), wireGap: dist(out.map((r) => r.wireGapMs)),
    cutToAdvert: dist(out.map((r) => r.cutToAdvertMs)), recover: dist(out.map((r) => r.recoverMs)),
  };
}

type Cpu = ReturnType<typeof cpuMs>;
function procFigures(pid: number, c0: Cpu, c1: Cpu, ms: number, adverts: number): ProcFigures {
  const m = memory(pid);
  return {
    pid, cpuPct: (100 * (c1.sched - c0.sched)) / ms, cpuPctTicks: (100 * (c1.ticks - c0.ticks)) / ms,
    wakeupsPerAdvert: (c1.wakeups - c0.wakeups) / Math.max(1, adverts),
    rssMB: m.rssMB, pssMB: m.pssMB, hwmMB: m.hwmMB, threads: m.threads, policy: policy(pid),
  };
}

/** An agent's processes by role. */
type Procs = Record<string, number>;
const procsOf = (kind: Kind, ag: Agent): Procs => {
  const p = ag.pids();
  if (kind === 'keepalived') return { parent: p.main, vrrp: p.vrrp };
  return p.vrrp === p.main ? { engine: p.main } : { supervisor: p.main, engine: p.vrrp };
};

/** A pair steady for a window: its LAN (ctx), its two agents, the label its figures go under. */
interface Pair { ctx: Ctx; kind: Kind; label: string; A: Agent; B: Agent }

/**
 * One window of STEADY_MS over `pairs` together: every process's CPU read at the same two
 * instants, so whatever else the box does in between falls on each pair alike.
 */
async function steady(pairs: Pair[], intervalMs: number): Promise<Steady[]> {
  await sleep(SETTLE_MS);
  const ps = pairs.map((p) => ({ ...p, pa: procsOf(p.kind, p.A), pb: procsOf(p.kind, p.B) }));
  const pids = ps.flatMap((p) => [...Object.values(p.pa), ...Object.values(p.pb)]);
  const c0 = new Map<number, Cpu>();
  for (const pid of pids) c0.set(pid, cpuMs(pid));
  const s0 = systemCpu();
  const t0 = wall();
  await sleep(STEADY_MS);
  const t1 = wall();
  const s1 = systemCpu();
  const c1 = new Map<number, Cpu>();
  for (const pid of pids) c1.set(pid, cpuMs(pid));
  const dt = s1.total - s0.total;
  const system = { busyPct: (100 * (s1.busy - s0.busy)) / dt, stealPct: (100 * (s1.steal - s0.steal)) / dt };
  return ps.map((p) => pairFigures(p, { t0, t1, c0, c1, system }, intervalMs));
}

interface Window { t0: number; t1: number; c0: Map<number, Cpu>; c1: Map<number, Cpu>; system: Steady['system'] }

/** A pair's figures over the window: CPU and memory of its processes, its master's jitter, whether it stayed settled. */
function pairFigures({ ctx, kind, label, pa, pb }: Pair & { pa: Procs; pb: Procs }, w: Window, intervalMs: number): Steady {
  const { t0, t1 } = w;
  const ms = t1 - t0;
  const adv = ctx.wire.from(ctx.a.v4, t0, t1);
  const figs = (p: Procs) => Object.fromEntries(Object.entries(p).map(([k, pid]) => [k, procFigures(pid, w.c0.get(pid)!, w.c1.get(pid)!, ms, adv.length)]));
  const master = figs(pa);
  const backup = figs(pb);
  for (const f of [master, backup]) {
    const parts = Object.values(f);
    if (parts.length > 1) {
      const s = (k: keyof ProcFigures) => parts.reduce((a, x) => a + (x[k] as number), 0);
      f.total = { pid: 0, cpuPct: s('cpuPct'), cpuPctTicks: s('cpuPctTicks'), wakeupsPerAdvert: NaN, rssMB: s('rssMB'), pssMB: s('pssMB'), hwmMB: s('hwmMB'), threads: s('threads'), policy: '' };
    }
  }
  const gaps: number[] = [];
  for (let i = 1; i < adv.length; i++) gaps.push(adv[i].t - adv[i - 1].t - intervalMs);
  const strays = ctx.wire.from(ctx.b.v4, t0, t1);
  // A long silence of the master: what else happened on the wire meanwhile tells a stall of the
  // agent (the backup takes over and keeps advertising) from one of the whole box (it goes quiet too).
  for (let i = 1; i < adv.length; i++) {
    const gap = adv[i].t - adv[i - 1].t;
    if (gap < 3 * intervalMs) continue;
    const inside = strays.filter((x) => x.t > adv[i - 1].t && x.t < adv[i].t);
    const anyInside = ctx.wire.adverts.filter((x) => x.t > adv[i - 1].t && x.t < adv[i].t).length;
    note(ctx, `${label} master: no advert for ${gap.toFixed(1)} ms, ${((adv[i - 1].t - t0) / 1000).toFixed(2)} s into the window; ` +
      `the backup sent ${inside.length} advert(s) in that gap${inside.length ? ` (first ${(inside[0].t - adv[i - 1].t).toFixed(1)} ms, last ${(inside[inside.length - 1].t - adv[i - 1].t).toFixed(1)} ms after the master's last)` : ''}; ` +
      `adverts of anyone on the wire in the gap: ${anyInside}`);
  }
  if (strays.length) note(ctx, `${label}: the backup sent ${strays.length} advert(s) during the steady window (the master's adverts were late enough for a takeover)`);
  // Exactly one master on the LAN all through: else the CPU figures are not those of the work measured.
  const onA = ctx.lan.holds(ctx.a, VIP);
  const onB = ctx.lan.holds(ctx.b, VIP);
  if (!onA || onB) note(ctx, `${label}: at the end of the steady window the VIP was ${onA ? '' : 'not '}on the master (${ctx.a.ns}) and ${onB ? '' : 'not '}on the backup (${ctx.b.ns})`);
  return {
    kind, label, windowMs: ms, master, backup, lan: ctx.lan.br, settled: adv.length > 0 && !strays.length && onA && !onB, system: w.system,
    jitter: { adverts: adv.length, meanGapMs: mean(gaps) + intervalMs, p50: quantile(gaps, 0.5), p99: quantile(gaps, 0.99), p999: quantile(gaps, 0.999), max: max(gaps), min: gaps.length ? Math.min(...gaps) : NaN },
  };
}

// ---- side by side ------------------------------------------------------------------------------

/**
 * The vigil pair on ctx's LAN and a keepalived pair on a LAN of its own (a second bridge in
 * namespaces of its own: the same addresses, VRID and VIP do not meet), steady together for one
 * window: the CPU comparison. One window after the other, this VM's noise moved keepalived's own
 * figure between 1 and 6 % of a core for the same work, and the ratio with it (0.4x-2x).
 */
async function sideBySide(ctx: Ctx, iv: number): Promise<Steady[]> {
  let out: Steady[] = [];
  let lan: Lan | undefined;
  const observers: { stop(): Promise<void> }[] = [];
  try {
    lan = new Lan(`${PREFIX}k-`, ['c', 'd']);
    const twin = await observe(lan, ctx.dir, ctx.notes, ctx.agents, observers);
    await withPair(ctx, 'vigil', iv, false, (V, W) => withPair(twin, 'keepalived', iv, false, async (K, L) => {
      out = await steady([
        { ctx, kind: 'vigil', label: 'vigil side by side', A: V, B: W },
        { ctx: twin, kind: 'keepalived', label: 'keepalived side by side', A: K, B: L },
      ], iv);
    }, 'keepalived side by side'), 'vigil side by side');
    await twin.wire.stop();
    if (twin.wire.dropped > 0) note(ctx, `side by side: tcpdump on ${lan.br} reported ${twin.wire.dropped} packets dropped by the kernel`);
  } catch (err) {
    note(ctx, `side by side: ${(err as Error).message}`);
  } finally {
    for (const o of observers) await o.stop().catch(() => {});
    lan?.destroy();
  }
  return out;
}

// ---- exec to first advert ----------------------------------------------------------------------

// Preload for the breakdown runs (NODE_OPTIONS, so the engine child gets it too): Node's own
// timings, and when each module was requested. A resolve hook, not a load hook: a load hook
// sees the source and so bypasses the compile cache's stripped TypeScript.
const PROBE = `import { registerHooks } from 'node:module';
import { writeSync } from 'node:fs';
const now = () => performance.timeOrigin + performance.now();
const loads = [];
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); loads.push([r.url, now()]); return r; } });
process.on('exit', () => {
  const nt = performance.nodeTiming;
  const heavy = process.moduleLoadList.filter((m) => /deps\\/(amaro|undici)|NativeModule (http2|tls)$/.test(m)).map((m) => m.replace(/^NativeModule (internal\\/deps\\/)?/, '').replace(/\\/.*/, ''));
  writeSync(2, 'VIGIL_PROBE ' + JSON.stringify({ pid: process.pid, argv: process.argv.slice(2), origin: performance.timeOrigin,
    bootstrapComplete: performance.timeOrigin + nt.bootstrapComplete, loads, heavy }) + '\\n');
});
`;

async function execOnce(ctx: Ctx, kind: Kind, env?: Record<string, string>, program?: string, fresh = false): Promise<{ ms: number; rssMB: number; ag: Agent; first: number }> {
  const ag = start(ctx, { kind, host: ctx.a, priority: 255, intervalMs: 10, env, program, fresh });
  try {
    const first = await whileAlive(ag, ctx.wire.until(() => ctx.wire.firstAfter(ag.spawnedAt, (x) => x.src === ctx.a.v4 && x.prio === 255), 15_000, `${kind}'s first advert`))
      .catch((err: Error) => { throw /exited/.test(err.message) ? err : new Error(`${err.message}; its log: ${ag.all().slice(-4).join(' | ')}`); });
    await sleep(300);
    const p = ag.pids();
    const rssMB = memory(p.main).rssMB + (p.vrrp !== p.main ? memory(p.vrrp).rssMB : 0);
    return { ms: first.t - ag.spawnedAt, rssMB, ag, first: first.t };
  } finally {
    await stop(ctx, ag);
    await sleep(150);
  }
}

async function execSeries(ctx: Ctx, kinds: Kind[]): Promise<{ series: ExecSeries[]; breakdown: BreakdownRun[] }> {
  const res = new Map<string, { kind: Kind; ms: number[]; rss: number[] }>();
  const add = (label: string, kind: Kind, r: { ms: number; rssMB: number } | undefined) => {
    if (!r) return;
    const e = res.get(label) ?? { kind, ms: [], rss: [] };
    e.ms.push(r.ms); e.rss.push(r.rssMB);
    res.set(label, e);
  };
  // A run that fails is a note, not the end of the module.
  const once = (kind: Kind, env?: Record<string, string>, program?: string, fresh = false) => execOnce(ctx, kind, env, program, fresh)
    .catch((err: Error) => { note(ctx, `exec to first advert (${kind}${env ? `, ${Object.keys(env).join(' ')}` : ''}${program ? `, ${program}` : ''}): ${err.message}`); return undefined; });
  // The single executable too, when `make dist` has built one that is not older than the host.
  const dist = join(ROOT, 'dist', 'vigil');
  const sealed = existsSync(dist) && statSync(dist).mtimeMs >= newestHostSource() ? dist : undefined;
  if (!sealed) note(ctx, 'exec to first advert: no dist/vigil newer than the host sources (`make dist` first) to time beside bin/vigil');
  // One start not counted each: fills bin/vigil's compile cache if the sources changed since
  // the last, and the record of the accepted config a restart starts on (host/agent/accepted.ts).
  await once('vigil');
  if (sealed) await once('vigil', undefined, sealed);
  // Interleaved, so load from elsewhere on the box falls on both alike.
  for (let i = 0; i < EXEC_RUNS; i++) {
    if (outOfTime(3000)) { note(ctx, `exec to first advert: stopped after ${i} rounds, out of the time budget`); break; }
    for (const k of kinds) add(k, k, await once(k));
    if (sealed) add('vigil, dist/vigil (single executable)', 'vigil', await once('vigil', undefined, sealed));
  }
  // vigil without V8's compile cache (bin/vigil keeps one; Node 26 caches the stripped TypeScript
  // too): what a first start after an install or an update costs.
  const noCache = { NODE_DISABLE_COMPILE_CACHE: '1' };
  for (let i = 0; i < NOCACHE_RUNS && !outOfTime(3000); i++) add('vigil, compile cache off', 'vigil', await once('vigil', noCache));
  // A first start with a config: no record of it accepted yet, so the engine waits for the
  // supervisor's parse (the runs above are restarts, as after a crash, an upgrade or a reboot).
  for (let i = 0; i < NOCACHE_RUNS && !outOfTime(3000); i++) add('vigil, first start with this config', 'vigil', await once('vigil', undefined, undefined, true));
  // Where vigil's start goes: two runs with the probe preloaded.
  const probeFile = join(ctx.dir, 'probe.mjs');
  writeFileSync(probeFile, PROBE);
  const breakdown: BreakdownRun[] = [];
  for (let i = 0; i < PROBE_RUNS && !outOfTime(3000); i++) {
    const r = await once('vigil', { NODE_OPTIONS: `--import=${probeFile}` });
    if (!r) continue;
    const probes = r.ag.all().filter((l) => l.startsWith('VIGIL_PROBE ')).map((l) => JSON.parse(l.slice('VIGIL_PROBE '.length)) as {
      pid: number; argv: string[]; origin: number; bootstrapComplete: number; loads: [string, number][]; heavy: string[];
    }).sort((x, y) => x.origin - y.origin);
    if (!probes.length) { note(ctx, 'startup probe: no output from the vigil process'); continue; }
    const at = (t: number) => t - r.ag.spawnedAt;
    const logT = (re: RegExp) => {
      const l = r.ag.all().find((x) => re.test(x));
      try { return l ? at(Date.parse(JSON.parse(l).time as string)) : NaN; } catch { return NaN; }
    };
    breakdown.push({
      totalMs: r.ms,
      processes: probes.map((p) => ({
        role: p.argv[0] ?? '?', startMs: at(p.origin), bootstrapMs: at(p.bootstrapComplete),
        firstModuleMs: at(p.loads.find(([u]) => u.includes('/host/'))?.[1] ?? NaN), lastModuleMs: at(p.loads.at(-1)?.[1] ?? NaN),
        modules: new Set(p.loads.map(([u]) => u)).size, tsModules: new Set(p.loads.map(([u]) => u).filter((u) => u.endsWith('.ts'))).size, heavy: p.heavy,
      })),
      configuredMs: logT(/real-time scheduling|"msg":"VI_1: init ->/),
      engineStartedMs: logT(/"msg":"VI_1: init ->/),
      advertMs: r.ms,
      handedOverMs: logT(/"msg":"warm start: instances handed over/),
    });
  }
  const series = [...res].map(([label, e]) => ({ label, kind: e.kind, runs: e.ms, median: median(e.ms), max: max(e.ms), min: Math.min(...e.ms), rssMB: median(e.rss) }));
  return { series, breakdown };
}

// ---- run ---------------------------------------------------------------------------------------

export async function run(): Promise<FailoverResult> {
  startedAt = performance.now();
  const loadavg = os.loadavg();
  const empty: FailoverResult = { module: 'failover', reduced: REDUCED, cut: '', failover: [], steady: [], sideBySide: [], exec: [], breakdown: [], captureDropped: -1, loadavg, loadavgEnd: loadavg, cpus: os.cpus().length, notes: [], targets: [] };
  if (process.getuid?.() !== 0) return { ...empty, skipped: 'needs root (network namespaces, raw sockets)' };
  for (const tool of ['tcpdump', 'ip']) if (!have(tool)) return { ...empty, skipped: `${tool} not installed (apt-get install -y ${tool === 'ip' ? 'iproute2' : tool})` };
  if (!existsSync(join(ROOT, 'host/native/build/Release/vigil_shim.node'))) return { ...empty, skipped: 'the native shim is not built: run `make`' };
  const kinds: Kind[] = have('keepalived') ? ['vigil', 'keepalived'] : ['vigil'];
  const notes: string[] = [];
  if (kinds.length === 1) notes.push('keepalived is not installed (apt-get install -y keepalived): vigil alone, comparisons not made');
  if (REDUCED) notes.push(`reduced run (${RUNS} failovers per series, ${STEADY_MS / 1000} s window, ${EXEC_RUNS} exec runs): ` +
    (process.env.VIGIL_BENCH_QUICK === '1' ? 'VIGIL_BENCH_QUICK=1' : `the per-module timeout is ${budgetMs / 1000} s; the full run needs VIGIL_BENCH_TIMEOUT_MS=${RECOMMENDED_TIMEOUT_MS}`));

  const work = workdir();
  const reap = reaper(PREFIX, work.dir);
  const agents = new Set<Agent>();
  const onExit = () => { sweep(PREFIX); work.remove(); };
  const onSignal = (sig: NodeJS.Signals) => { onExit(); process.exit(sig === 'SIGINT' ? 130 : 143); };
  process.on('exit', onExit);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let lan: Lan | undefined;
  const observers: { stop(): Promise<void> }[] = [];
  try {
    lan = new Lan(PREFIX, ['a', 'b']);
    const ctx = await observe(lan, work.dir, notes, agents, observers);
    const { wire } = ctx;

    const failover: FailoverSeries[] = [];
    const steadyFigs: Steady[] = [];
    let sideFigs: Steady[] = [];
    for (const iv of [10, 50]) {
      if (!PARTS.has('failover') && !(iv === 10 && PARTS.has('steady'))) continue;
      for (const kind of kinds) {
        if (outOfTime(15_000)) { note(ctx, `${kind} ${iv} ms: skipped, out of the time budget`); continue; }
        await withPair(ctx, kind, iv, false, async (A, B) => {
          if (iv === 10 && PARTS.has('steady')) steadyFigs.push(...await steady([{ ctx, kind, label: kind, A, B }], iv));
          if (PARTS.has('failover')) failover.push(await failovers(ctx, kind, iv, RUNS));
        });
      }
      if (iv === 10 && PARTS.has('steady') && kinds.includes('keepalived') && !outOfTime(30_000)) {
        // keepalived with the real-time scheduling vigil's config asks for, steady window only.
        await withPair(ctx, 'keepalived', iv, true, async (A, B) => {
          steadyFigs.push(...await steady([{ ctx, kind: 'keepalived', label: 'keepalived rt', A, B }], iv));
        });
      }
      // The CPU comparison: both pairs in one window. The windows above stay one pair at a time:
      // the jitter and memory figures come from them, undisturbed by a second pair.
      if (iv === 10 && PARTS.has('steady') && kinds.includes('keepalived')) {
        if (outOfTime(STEADY_MS + 20_000)) note(ctx, 'side by side: skipped, out of the time budget');
        else sideFigs = await sideBySide(ctx, iv);
      }
    }
    const { series: exec, breakdown } = PARTS.has('exec') ? await execSeries(ctx, kinds) : { series: [], breakdown: [] };
    await wire.stop();

    const result: FailoverResult = {
      module: 'failover', reduced: REDUCED,
      cut: "the master's switch port down (its veth peer on the bridge: ip -n vbfo-br link set p-a down)",
      failover, steady: steadyFigs, sideBySide: sideFigs, exec, breakdown, captureDropped: wire.dropped,
      loadavg, loadavgEnd: os.loadavg(), cpus: os.cpus().length, notes, targets: [],
    };
    result.targets = targets(result, kinds);
    return result;
  } finally {
    for (const ag of agents) await ag.stop().catch(() => {});
    for (const o of observers) await o.stop().catch(() => {});
    lan?.destroy();
    sweep(PREFIX);
    work.remove();
    reap.close();
    process.off('exit', onExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function targets(r: FailoverResult, kinds: Kind[]): Target[] {
  const t: Target[] = [];
  const f = (k: Kind, iv: number) => r.failover.find((s) => s.kind === k && s.intervalMs === iv);
  for (const iv of [10, 50]) {
    const v = f('vigil', iv);
    const k = f('keepalived', iv);
    if (!v) continue;
    // On the time from the old master's last advert to the VIP on the backup: the time from the
    // cut adds a random phase (0..one interval) that would swamp the difference in 20 runs.
    t.push({
      name: `failover ${iv} ms: vigil median last-advert->VIP vs keepalived's (from the cut in brackets)`, target: '<= keepalived',
      value: kinds.includes('keepalived') && k ? `${ms(v.lastAdvertToVip.median)} vs ${ms(k.lastAdvertToVip.median)} (${n1(v.vip.median)} vs ${n1(k.vip.median)})` : 'keepalived n/a',
      met: !!k && v.lastAdvertToVip.median <= k.lastAdvertToVip.median,
    });
    t.push({
      name: `failover ${iv} ms: vigil median wire gap vs Master_Down_Interval ${ms(v.masterDownMs)}`, target: 'within 5 ms',
      value: `${ms(v.wireGap.median)} (${sign(v.wireGap.median - v.masterDownMs)})`,
      met: Math.abs(v.wireGap.median - v.masterDownMs) <= 5,
    });
  }
  const vs = r.steady.find((s) => s.label === 'vigil');
  const ks = r.steady.find((s) => s.label === 'keepalived');
  const cpu = cpuTarget(r, vs, ks);
  if (cpu) t.push(cpu);
  if (vs) {
    const er = vs.master.engine.rssMB;
    t.push({ name: 'VRRP engine RSS (vigil master\'s engine process, steady)', target: '<= 48 MB',
      value: `${er.toFixed(1)} MB${vs.master.total ? ` (all vigil processes ${vs.master.total.rssMB.toFixed(1)} MB)` : ''}`, met: er <= 48 });
    // PSS per process: shared pages (the node binary) counted once across the agent, as on a router.
    const pss = Object.entries(vs.master).filter(([, f]) => f && Number.isFinite(f.pssMB)).map(([p, f]) => `${p} ${f.pssMB.toFixed(1)}`).join(', ');
    if (pss) t.push({ name: 'PSS per process (vigil master, steady)', target: 'whole agent <= 100 MB', value: `${pss} MB`, met: (vs.master.total?.pssMB ?? vs.master.engine.pssMB) <= 100 });
    t.push({ name: 'advert jitter p99.9 (vigil master, 10 ms, idle)', target: '<= 1 ms', value: ms(vs.jitter.p999, 2), met: vs.jitter.p999 <= 1 });
  }
  const ve = r.exec.find((e) => e.label === 'vigil');
  if (ve) t.push({ name: 'exec to first advert (vigil, median)', target: '<= 150 ms', value: ms(ve.median), met: ve.median <= 150 });
  const vd = r.exec.find((e) => e.label.includes('dist/vigil'));
  if (vd) t.push({ name: 'exec to first advert (dist/vigil, the single executable, median)', target: '<= 150 ms', value: ms(vd.median), met: vd.median <= 150 });
  return t;
}

const masterCpu = (s: Steady) => (s.master.total ?? s.master.engine).cpuPct;
// Two decimals: the target is at 2x, where one would round 2.02x down to a "2.0x" that is not met.
const versus = (v: Steady, k: Steady) => `${pct(masterCpu(v))} vs ${pct(masterCpu(k))} (${(masterCpu(v) / masterCpu(k)).toFixed(2)}x)`;

/**
 * On the side-by-side window when both pairs stayed settled in it (the VM's noise then falls on
 * both alike); else on the windows one after the other, said so, the noise then in the ratio.
 */
function cpuTarget(r: FailoverResult, vs: Steady | undefined, ks: Steady | undefined): Target | undefined {
  const vb = r.sideBySide.find((s) => s.kind === 'vigil');
  const kb = r.sideBySide.find((s) => s.kind === 'keepalived');
  const side = vb?.settled && kb?.settled ? [vb, kb] as const : undefined;
  const [v, k] = side ?? [vs, ks];
  if (!v) return undefined;
  const procs = Object.keys(v.master).filter((p) => p !== 'total').join(' + ');
  const seq = vs && ks ? `one after the other ${versus(vs, ks)}` : 'one after the other n/a';
  return {
    name: `CPU at 100 adverts/s (master, both pairs side by side in one window): vigil (${procs}) vs keepalived (parent + VRRP child)`, target: '<= 2x keepalived',
    value: !k ? `${pct(masterCpu(v))}; keepalived n/a` : side ? `${versus(v, k)}; ${seq}` : `side by side ${vb && kb ? 'not settled' : 'n/a'}; ${seq}`,
    met: !!k && masterCpu(v) <= 2 * masterCpu(k),
  };
}

// ---- format ------------------------------------------------------------------------------------

const ms = (v: number, d = 1) => (Number.isFinite(v) ? `${v.toFixed(d)} ms` : 'n/a');
const n1 = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
const pct = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)} %` : 'n/a');
const sign = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(1)}`;

export function format(r: FailoverResult): string {
  if (r.skipped) return `failover: skipped (${r.skipped})`;
  const out: string[] = [];
  out.push(`failover: VRRPv3 IPv4 multicast, master 150 / backup 100, two namespaces on a bridge; cut = ${r.cut}` +
    `${r.reduced ? ' [REDUCED RUN]' : ''}`);
  out.push(`load average ${r.loadavg.map((l) => l.toFixed(2)).join(' ')} at the start, ${r.loadavgEnd.map((l) => l.toFixed(2)).join(' ')} at the end (${r.cpus} CPUs)`);
  out.push('ms; MDI = Master_Down_Interval of the backup (priority 100); VIP = from the link event of the cut to RTM_NEWADDR of the VIP in the backup' +
    ' (ip -ts monitor); last adv->VIP = from the old master\'s last advert on the wire to that RTM_NEWADDR (no random phase);' +
    ' wire = old master\'s last advert to the new master\'s first (tcpdump on the bridge), the interval MDI bounds;' +
    ' recovery = port up to the master holding the VIP again');
  out.push(table(
    ['agent', 'advert', 'runs', 'MDI', 'VIP med', 'p95', 'max', 'last adv->VIP med', 'p95', 'wire med', 'p95', 'max', 'min', 'recovery med'],
    r.failover.map((s) => [s.kind, `${s.intervalMs} ms`, `${s.runs.length}${s.failed ? ` (${s.failed} failed)` : ''}`, n1(s.masterDownMs),
      n1(s.vip.median), n1(s.vip.p95), n1(s.vip.max), n1(s.lastAdvertToVip.median), n1(s.lastAdvertToVip.p95),
      n1(s.wireGap.median), n1(s.wireGap.p95), n1(s.wireGap.max), n1(s.wireGap.min), n1(s.recover.median)])));
  out.push('');
  out.push(`CPU and memory, the pair steady at 10 ms adverts (100 adverts/s) for ${n1((r.steady[0]?.windowMs ?? 0) / 1000)} s; CPU = % of one core, all threads ` +
    '(schedstat; utime+stime ticks in brackets); wakeups = voluntary context switches of the main thread per advert sent; keepalived rt = vrrp_rt_priority 50 + vrrp_no_swap;' +
    ' one pair at a time, then "side by side": the vigil and keepalived pairs in one window, each on its own LAN');
  const rows: string[][] = [];
  for (const s of [...r.steady, ...r.sideBySide]) {
    for (const [role, figs] of [['master', s.master], ['backup', s.backup]] as const) {
      for (const [proc, f] of Object.entries(figs)) {
        rows.push([s.label, role, proc, proc === 'total' ? '' : String(f.pid), `${pct(f.cpuPct)} (${pct(f.cpuPctTicks)})`, n1(f.wakeupsPerAdvert, 2), n1(f.rssMB), n1(f.pssMB), n1(f.hwmMB), String(f.threads), f.policy]);
      }
    }
  }
  out.push(table(['agent', 'role', 'process', 'pid', 'CPU', 'wakeups', 'RSS MB', 'PSS MB', 'peak RSS MB', 'threads', 'sched'], rows));
  const [vs, ks] = (['vigil', 'keepalived'] as const).map((k) => r.steady.find((s) => s.label === k));
  const [vb, kb] = (['vigil', 'keepalived'] as const).map((k) => r.sideBySide.find((s) => s.kind === k));
  const unsettled = r.sideBySide.filter((s) => !s.settled).map((s) => s.label);
  if (vb && kb) {
    out.push(`master CPU, vigil vs keepalived: side by side ${versus(vb, kb)} (box busy ${n1(vb.system.busyPct, 0)} %, steal ${n1(vb.system.stealPct, 1)} %` +
      `${unsettled.length ? `; NOT SETTLED: ${unsettled.join(', ')}` : ''}); one after the other ${vs && ks ? versus(vs, ks) : 'n/a'}`);
  } else if (vs && ks) {
    out.push(`master CPU, vigil vs keepalived: side by side n/a (see the notes); one after the other ${versus(vs, ks)}`);
  }
  out.push('');
  out.push('advert jitter on the wire, the steady master above: gap between adverts minus 10 ms, in ms; box busy / steal: the whole machine (all CPUs, /proc/stat) in the window');
  out.push(table(['agent', 'adverts', 'mean gap', 'p50', 'p99', 'p99.9', 'max', 'min', 'box busy', 'steal'],
    r.steady.map((s) => [s.label, String(s.jitter.adverts), n1(s.jitter.meanGapMs, 3), n1(s.jitter.p50, 3), n1(s.jitter.p99, 3), n1(s.jitter.p999, 3),
      n1(s.jitter.max, 3), n1(s.jitter.min, 3), `${n1(s.system.busyPct, 0)} %`, `${n1(s.system.stealPct, 1)} %`])));
  out.push('');
  out.push('exec to first advert: spawn of `ip netns exec NS <agent>` at priority 255, alone on the LAN, to its first advert on the wire; RSS 300 ms after it');
  out.push(table(['agent', 'runs', 'median ms', 'min', 'max', 'RSS MB'],
    r.exec.map((e) => [e.label, String(e.runs.length), n1(e.median), n1(e.min), n1(e.max), n1(e.rssMB)])));
  for (const [i, b] of r.breakdown.entries()) {
    const f = (v: number) => n1(v, 0);
    out.push(`  where vigil's start goes (probe run ${i + 1}; ms since spawn, a little slower than unprobed): ` +
      b.processes.map((p) => `[${p.role} process: starts ${f(p.startMs)}, Node bootstrapped ${f(p.bootstrapMs)}, first host module ${f(p.firstModuleMs)}, ` +
        `last of ${p.modules} modules (${p.tsModules} .ts) ${f(p.lastModuleMs)}${p.heavy.length ? `; loaded ${[...new Set(p.heavy)].join(' ')}` : ''}]`).join(' -> ') +
      (Number.isNaN(b.handedOverMs)
        ? ` -> config + SCHED_FIFO ${f(b.configuredMs)} -> engine started (init -> master) ${f(b.engineStartedMs)} -> advert on the wire ${f(b.advertMs)}`
        : `; a warm start: the run process's own engine started (init -> master) ${f(b.engineStartedMs)} -> advert on the wire ${f(b.advertMs)} -> handed over to the engine process ${f(b.handedOverMs)}`));
  }
  if (r.breakdown.some((b) => b.processes.some((p) => p.heavy.length))) {
    out.push('  (amaro = type stripping, skipped with a warm compile cache or shipped JS; undici, http2 and tls come with `import ... from \'node:http\'`; log stamps have 1 ms resolution)');
  }
  if (r.captureDropped > 0) out.push(`capture: tcpdump reported ${r.captureDropped} packets dropped by the kernel`);
  if (r.notes.length) out.push('', 'notes:', ...r.notes.map((n) => `  - ${n}`));
  out.push('', targetsTable(r.targets));
  return out.join('\n');
}

if (process.argv[1] === SELF) {
  const r = await run();
  console.log(format(r));
}
