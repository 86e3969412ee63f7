// make chaos: faults side by side, a vigil pair against a keepalived pair (VRRPv3, 10 ms
// adverts, priorities 150 / 100, a client on the same bridge), each in its own namespaces, run
// interleaved (the order alternates per run) and printed as medians [min–max] per fault.
// Loss is an nftables `numgen random` drop on the bridge (the kernel here has no netem).
// CHAOS_RUNS (default 3) runs; CHAOS_ONLY=name,name to pick faults. Needs root.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nsExec } from '../../test/net/netns.ts';
import { holders, lab } from '../../test/helpers/agents.ts';
import {
  pair, waitHolder, clientOn, clientMac, macOf, vipEvents, enginePid, keepalivedVrrpPid, keepalivedConf, VIP, type Impl,
} from '../../test/chaos/harness.ts';
import { held, overlapMs, takes, longestGap, cpuTimeMs, summary } from './measure.ts';
import { floodStatus } from './status-flood.ts';
import { clockJump, checkerMemory } from './host-faults.ts';

const RUNS = Number(process.env.CHAOS_RUNS ?? 3);
const ONLY = process.env.CHAOS_ONLY?.split(',');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FLOOD_SRC = fileURLToPath(new URL('flood.c', import.meta.url));
const FLOOD = '/tmp/vigil-chaos-flood';
const REORDER = fileURLToPath(new URL('reorder.py', import.meta.url));

type Pair = Awaited<ReturnType<typeof pair>>;
interface Lab { impl: Impl; p: Pair; onA: Awaited<ReturnType<typeof vipEvents>>; onB: Awaited<ReturnType<typeof vipEvents>> }
type Metrics = Record<string, number>;

const teardowns: (() => unknown)[] = [];
const T = { teardown: (f: () => unknown) => { teardowns.push(f); } };

async function setUp(impl: Impl, prefix: string): Promise<Lab> {
  const p = await pair(T, prefix, [impl, impl]);
  return { impl, p, onA: await vipEvents(T, p.a.ns), onB: await vipEvents(T, p.b.ns) };
}

// The window's dual master (both held the VIP), once the monitors' lines are in.
async function dual(l: Lab, from: number, to: number): Promise<number> {
  await sleep(300);
  return overlapMs(held(l.onA.events, from, to), held(l.onB.events, from, to));
}

// The process that sends the adverts: vigil's engine, keepalived's VRRP child.
const advertiser = (l: Lab) => l.impl === 'vigil' ? enginePid(l.p.pa.child.pid!) : keepalivedVrrpPid(l.p.l.work.dir, l.p.a.ns);

// A's adverts as they enter the bridge (tcpdump on A's port in the bridge's namespace, at
// SCHED_FIFO 70 so a hog or a flood does not starve the capture itself), while `during` runs,
// and the window `during` took.
async function advertsOfA(l: Lab, during: () => Promise<void>): Promise<{ stamps: number[]; from: number; to: number }> {
  const cap = spawn('ip', ['netns', 'exec', l.p.l.topo.br, 'chrt', '-f', '70', 'tcpdump', '-tt', '-n', '-l', '--immediate-mode',
    '-i', 'p-a', `vrrp and src host ${l.p.a.v4}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stamps: number[] = [];
  let err = '';
  cap.stdout!.on('data', (d: Buffer) => { for (const m of d.toString().matchAll(/^(\d+\.\d+) /gm)) stamps.push(Number(m[1]) * 1000); });
  cap.stderr!.on('data', (d: Buffer) => { err += d; });
  for (let i = 0; !err.includes('listening on'); i++) {
    if (cap.exitCode !== null || i > 250) throw new Error(`tcpdump did not start: ${err}`);
    await sleep(20);
  }
  const from = Date.now();
  let to = from;
  try { await during(); } finally {
    to = Date.now();
    await sleep(50);
    const done = new Promise((r) => cap.once('exit', r));
    cap.kill('SIGINT');
    await done;
  }
  return { stamps, from, to };
}

const loss = (pct: number, both: boolean) => async (l: Lab): Promise<Metrics> => {
  const from = Date.now();
  l.p.faults.drop('a', '*', pct);
  if (both) l.p.faults.drop('b', '*', pct);
  await sleep(10_000);
  l.p.faults.heal();
  const to = Date.now();
  return { 'dual-master ms / 10 s': await dual(l, from, to), 'backup took the VIP (times)': takes(l.onB.events, from, to) };
};

const FAULTS: Record<string, { what: string; run: (l: Lab) => Promise<Metrics> }> = {
  loss20: { what: '20% of the master\'s adverts dropped, 10 s', run: loss(20, false) },
  loss50: { what: '50% of the master\'s adverts dropped, 10 s', run: loss(50, false) },
  lossBoth: { what: '20% dropped both ways, 10 s', run: loss(20, true) },
  oneWay: {
    what: 'one-way partition (A -> B lost) 3 s, then heal',
    async run(l) {
      l.p.faults.drop('a', 'b');
      await sleep(1000);
      const clientOnA1s = clientMac(l.p.c.ns) === macOf(l.p.a.ns) ? 1 : 0;
      await sleep(2000);
      const healedAt = l.p.faults.heal();
      const gone = await l.onB.next(true, healedAt, 2000);
      const client = await clientOn(l.p.c.ns, macOf(l.p.a.ns), 1000);
      return { 'client on A 1 s into it (1 = yes)': clientOnA1s, 'dual master after heal ms': gone - healedAt, 'client on A within 1 s of heal (1 = yes)': client < Infinity ? 1 : 0 };
    },
  },
  partition: {
    what: 'partition 3 s, then heal (x3 per run)',
    async run(l) {
      const m: Metrics = { 'heal until one holder ms': 0, 'client on A within 1 s (of 3)': 0 };
      const ones: number[] = [];
      for (let i = 0; i < 3; i++) {
        l.p.faults.partition();
        await sleep(3000 + 37 * i);
        const healedAt = l.p.faults.heal();
        ones.push((await l.onB.next(true, healedAt, 2000)) - healedAt);
        if (await clientOn(l.p.c.ns, macOf(l.p.a.ns), 1000) < Infinity) m['client on A within 1 s (of 3)']!++;
        await settle(l);
      }
      m['heal until one holder ms'] = Math.max(...ones);
      return m;
    },
  },
  sigstop: {
    what: 'master SIGSTOP 2 s, then SIGCONT',
    async run(l) {
      const pid = advertiser(l);
      let contAt = 0;
      const { stamps } = await advertsOfA(l, async () => {
        process.kill(pid, 'SIGSTOP');
        await sleep(2000);
        contAt = Date.now();
        process.kill(pid, 'SIGCONT');
        await sleep(2500);
      });
      const gone = l.onB.first(true, contAt);
      const after = stamps.filter((s) => s >= contAt);
      const first = after[0] ?? NaN;
      return {
        'dual master after SIGCONT ms': (gone ?? Infinity) - contAt,
        'A\'s adverts in its first 50 ms after SIGCONT': after.filter((s) => s < first + 50).length,
      };
    },
  },
  flaps: {
    what: '20 link flaps of the master at 100 ms',
    async run(l) {
      const from = Date.now();
      for (let i = 0; i < 20; i++) {
        nsExec(l.p.a.ns, 'ip', 'link', 'set', 'eth0', 'down'); await sleep(50);
        nsExec(l.p.a.ns, 'ip', 'link', 'set', 'eth0', 'up'); await sleep(50);
      }
      await sleep(1000);
      return { 'dual-master ms': await dual(l, from, Date.now()) };
    },
  },
  kill9: {
    what: 'kill -9 of the whole daemon, restart 1 s later',
    async run(l) {
      const p = l.p;
      const pids = l.impl === 'vigil'
        ? [p.pa.child.pid!, enginePid(p.pa.child.pid!)]
        : ['main', 'vrrp'].map((k) => Number(readFileSync(join(p.l.work.dir, `${p.a.ns}.${k}.pid`), 'utf8')));
      const killedAt = Date.now();
      for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
      await p.pa.exited;
      await sleep(1000);
      // keepalived's VRRP child, orphaned, stays a zombie here (this container's pid 1 reaps no
      // orphans; systemd would), and keepalived takes its pid file for a running daemon: gone
      // with the process, as they would be on a real box.
      if (l.impl === 'keepalived') {
        for (const k of ['main', 'vrrp', 'check']) rmSync(join(p.l.work.dir, `${p.a.ns}.${k}.pid`), { force: true });
      }
      const execAt = Date.now();
      p.pa = l.impl === 'vigil' ? p.l.vigilFile(p.a, join(p.l.work.dir, `${p.a.ns}.yaml`)) : p.l.keepalived(p.a, p.a.ns, keepalivedConf(150));
      const removed = await l.onA.next(true, execAt, 5000);
      await waitHolder(p.routers, p.a.ns, 10_000).catch((e) => { throw new Error(`${(e as Error).message}; A's log: ${p.pa.lines.slice(-8).join(' | ')}`); });
      return { 'the killed run\'s VIP removed after exec ms': removed - execAt, 'dual master while dead ms': await dual(l, killedAt, execAt) };
    },
  },
  dup: {
    what: 'every advert duplicated (nft dup), 5 s',
    async run(l) {
      const from = Date.now();
      // The bridge family has no dup: a netdev ingress hook on A's port copies each advert
      // straight out of B's port, beside the bridge's own forwarding.
      const br = l.p.l.topo.br;
      nft(br, 'add table netdev chaosdup\nadd chain netdev chaosdup in { type filter hook ingress device "p-a" priority 0; }\n' +
        'add rule netdev chaosdup in ip protocol vrrp dup to "p-b"\n');
      await sleep(5000);
      nft(br, 'delete table netdev chaosdup\n');
      const to = Date.now();
      return { 'VIP moves': takes(l.onA.events, from, to) + takes(l.onB.events, from, to), 'dual-master ms': await dual(l, from, to) };
    },
  },
  reorder: {
    what: 'A\'s adverts to B reordered (swapped pairs, a relay), 5 s',
    async run(l) {
      // The relay listens first, the bridge stops forwarding A -> B after, and forwards again
      // before the relay ends: B never misses an advert for want of a path.
      const relay = spawn('ip', ['netns', 'exec', l.p.l.topo.br, 'chrt', '-f', '70', 'python3', REORDER, 'p-a', 'p-b', '6'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      relay.stdout!.on('data', (d) => { out += d; });
      const exited = new Promise((r) => relay.on('exit', r));
      while (!out.includes('ready')) await sleep(10);
      const from = Date.now();
      l.p.faults.drop('a', 'b');
      await sleep(5000);
      l.p.faults.heal();
      const to = Date.now();
      await exited;
      return { 'adverts relayed out of order': Number(out.replace('ready', '').trim()), 'VIP moves': takes(l.onA.events, from, to) + takes(l.onB.events, from, to), 'dual-master ms': await dual(l, from, to) };
    },
  },
  vrrpFlood: {
    what: '100,000 malformed / spoofed VRRP packets/s at the pair, 5 s',
    async run(l) {
      const pid = advertiser(l);
      const drops = (): Record<string, number> => {
        if (l.impl !== 'vigil') return {};
        const st = JSON.parse(nsExec(l.p.a.ns, 'curl', '-sf', '--max-time', '3', 'http://127.0.0.1:9110/status'));
        return st.drops as Record<string, number>;   // the engine's totals, by reason
      };
      const before = drops();
      const cpu0 = cpuTimeMs(pid);
      let sent = '';
      try { nsExec(l.p.c.ns, 'ip', 'route', 'add', '224.0.0.0/4', 'dev', 'eth0'); } catch { /* there */ }
      const { stamps, from, to } = await advertsOfA(l, async () => {
        const f = spawn('ip', ['netns', 'exec', l.p.c.ns, FLOOD, '100000', '5'], { stdio: ['ignore', 'pipe', 'inherit'] });
        f.stdout!.on('data', (d) => { sent += d; });
        await new Promise((r) => f.on('exit', r));
      });
      const cpu = (cpuTimeMs(pid) - cpu0) / (Date.now() - from) * 100;
      const s = JSON.parse(sent) as Record<string, number>;
      const m: Metrics = {
        'dual-master ms': await dual(l, from, to), 'A\'s longest advert gap ms': longestGap(stamps, from, to),
        'advertiser CPU %': cpu, 'flood sent (k/s, as fast as the box let it)': (s.checksum! + s.ttl! + s.vrid! + s.malformed!) / 1000 / s.seconds!,
      };
      for (const [k, v] of Object.entries(drops())) if (v - (before[k] ?? 0) > 0) m[`engine's drops: ${k} (k)`] = (v - (before[k] ?? 0)) / 1000;
      return m;
    },
  },
  statusFlood: {
    what: 'status listener: 1,000 concurrent + slowloris, 5 s (vigil; keepalived has none)',
    async run(l): Promise<Metrics> {
      if (l.impl !== 'vigil') return {};
      let r = { opened: 0, refused: 0, held: 0 };
      const { stamps, from, to } = await advertsOfA(l, async () => { r = await floodStatus(l.p.a.ns, 1000, 5000); });
      return { 'connections opened': r.opened, 'still open at the end': r.held, 'A\'s longest advert gap ms': longestGap(stamps, from, to), 'dual-master ms': await dual(l, from, to) };
    },
  },
  threeCut: {
    what: 'three routers (150, 120, 100), the master\'s link cut 600 ms (x3 per run)',
    async run(l) {
      const all: Metrics[] = [];
      for (let i = 0; i < 3; i++) all.push(await threeCut(l.impl));
      const sum = (k: string) => all.reduce((a, m) => a + (m[k] ?? 0), 0);
      return {
        'cuts where the lowest held the VIP (of 3)': sum('lowest priority held the VIP (1 = yes)'),
        'lowest priority held it ms (sum)': sum('lowest priority held it ms'),
        'B took over after the cut ms (worst)': Math.max(...all.map((m) => m['B took over after the cut ms']!)),
      };
    },
  },
  fifoHog: {
    what: 'SCHED_FIFO 60 hog on the advertiser\'s CPU, 100 ms bursts, 5 s',
    async run(l) {
      const pid = advertiser(l);
      execFileSync('taskset', ['-a', '-p', '-c', '0', String(pid)], { stdio: 'ignore' });
      const { stamps, from, to } = await advertsOfA(l, async () => {
        const hog = spawn('chrt', ['-f', '60', 'taskset', '-c', '0', 'python3', '-c',
          'import time\nend=time.time()+5\nwhile time.time()<end:\n t=time.time()\n while time.time()-t<0.1: pass\n time.sleep(0.1)'], { stdio: 'ignore' });
        await new Promise((r) => hog.on('exit', r));
      });
      execFileSync('taskset', ['-a', '-p', '-c', '0-1', String(pid)], { stdio: 'ignore' });
      return { 'A\'s longest advert gap ms': longestGap(stamps, from, to), 'dual-master ms': await dual(l, from, to) };
    },
  },
  checkerMemory: {
    what: 'the master\'s checker in a memory cgroup 8 MiB over its usage, a hog beside it, 5 s (vigil; keepalived\'s checker needs IPVS, not in this kernel)',
    run: (l) => checkerMemory(T, l.impl),
  },
  checkerStall: {
    what: 'the same with the cgroup\'s OOM killer off: the checker waits for memory, 5 s (vigil only)',
    run: (l) => checkerMemory(T, l.impl, true),
  },
  // Last: the address events' wall-clock stamps of a jump would confuse later windows if any came.
  clockJump: {
    what: 'CLOCK_REALTIME +1 h, then -1 h, 2 s each (the machine\'s one clock, restored from CLOCK_MONOTONIC)',
    run: (l) => clockJump(T, l),
  },
};

function nft(ns: string, script: string): void {
  execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: script, stdio: ['pipe', 'pipe', 'pipe'] });
}

// Three routers (A 150, B 120, D 100) of one implementation on their own bridge, kept across
// runs: A's link cut; B should take over, and D (the lowest) never hold the VIP.
const trios = new Map<Impl, { l: ReturnType<typeof lab>; ev: Awaited<ReturnType<typeof vipEvents>>[] }>();
async function trio(impl: Impl) {
  let x = trios.get(impl);
  if (x) return x;
  const l = lab(T, impl === 'vigil' ? 'b3v-' : 'b3k-', ['a', 'b', 'd']);
  const prios = [150, 120, 100];
  for (const [i, h] of l.hosts.entries()) {
    if (impl === 'vigil') l.vigil(h, `${h.ns}.yaml`, { priority: prios[i]! });
    else l.keepalived(h, h.ns, keepalivedConf(prios[i]!));
    if (i === 0) await waitHolder(l.ns, l.hosts[0]!.ns, 10_000);
  }
  await sleep(1500);
  x = { l, ev: await Promise.all(l.ns.map((ns) => vipEvents(T, ns))) };
  trios.set(impl, x);
  return x;
}
async function threeCut(impl: Impl): Promise<Metrics> {
  const { l, ev } = await trio(impl);
  await waitHolder(l.ns, l.hosts[0]!.ns, 5000).catch(() => {});
  await sleep(300);
  const cut = Date.now();
  nsExec(l.hosts[0]!.ns, 'ip', 'link', 'set', 'eth0', 'down');
  await sleep(600);
  nsExec(l.hosts[0]!.ns, 'ip', 'link', 'set', 'eth0', 'up');
  const back = Date.now();
  await waitHolder(l.ns, l.hosts[0]!.ns, 5000).catch(() => {});
  await sleep(300);
  const dHeld = held(ev[2]!.events, cut, back).reduce((a, [s, e]) => a + e - s, 0);
  const bTook = ev[1]!.first(false, cut);
  return { 'lowest priority held the VIP (1 = yes)': dHeld > 0 ? 1 : 0, 'lowest priority held it ms': dHeld, 'B took over after the cut ms': (bTook ?? Infinity) - cut };
}

async function settle(l: Lab): Promise<void> {
  l.p.faults.heal();
  await waitHolder(l.p.routers, l.p.a.ns, 5000).catch(() => {});
  await clientOn(l.p.c.ns, macOf(l.p.a.ns), 1000);
  await sleep(500);
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) { console.log('make chaos needs root (namespaces, nft, raw sockets)'); return; }
  execFileSync('gcc', ['-O2', '-o', FLOOD, FLOOD_SRC]);
  const labs = [await setUp('vigil', 'bcv-'), await setUp('keepalived', 'bck-')];
  const results = new Map<string, Map<Impl, Metrics[]>>();
  const names = Object.keys(FAULTS).filter((n) => !ONLY || ONLY.includes(n));
  for (let run = 0; run < RUNS; run++) {
    for (const name of names) {
      for (const l of run % 2 ? [...labs].reverse() : labs) {
        await settle(l);
        const m = await FAULTS[name]!.run(l).catch((e: Error) => ({ [`error: ${e.message.slice(0, 60)}`]: NaN } as Metrics));
        await settle(l);
        const stale = holders(l.p.routers, VIP);
        if (stale.length !== 1 || stale[0] !== l.p.a.ns) m['not settled after (holders)'] = stale.length;
        if (!results.has(name)) results.set(name, new Map());
        const per = results.get(name)!;
        per.set(l.impl, [...(per.get(l.impl) ?? []), m]);
        process.stderr.write(`run ${run + 1} ${name} ${l.impl}: ${JSON.stringify(m)}\n`);
      }
    }
  }
  console.log(`\nFaults side by side: VRRPv3, 10 ms adverts, priorities 150/100, ${RUNS} interleaved runs; median [min–max]`);
  console.log('| fault | measure | keepalived | vigil |\n|---|---|---|---|');
  for (const name of names) {
    const per = results.get(name)!;
    const keys = [...new Set([...(per.get('vigil') ?? []), ...(per.get('keepalived') ?? [])].flatMap((m) => Object.keys(m)))];
    for (const k of keys) {
      const col = (i: Impl) => summary((per.get(i) ?? []).map((m) => m[k] ?? NaN));
      console.log(`| ${FAULTS[name]!.what} | ${k} | ${col('keepalived')} | ${col('vigil')} |`);
    }
  }
  if (names.includes('clockJump')) console.log('\nclockJump moved the machine\'s one realtime clock (+1 h, -1 h): every other process on the box saw it too.');
}

const cleanUp = async () => { for (const f of teardowns.reverse()) { try { await f(); } catch { /* best effort */ } } };
process.on('SIGINT', () => { void cleanUp().then(() => process.exit(130)); });
try { await main(); } finally { await cleanUp(); }
