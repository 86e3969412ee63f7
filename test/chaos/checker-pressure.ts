// Memory pressure on the master's checker, for test/chaos and bench/chaos: a vigil pair whose
// master (150) tracks a TCP check (weight -60: a false failure would hand the VIP to the backup
// at 100) against a listener in its own namespace; the checker is moved into a memory cgroup of
// its own, limited a little above its usage, beside a hog. What it should not touch: the
// engine's adverts, the VIP, the check's state. keepalived's checker needs IPVS (not in this
// kernel): vigil only.
import { readFileSync } from 'node:fs';
import { nsExec } from '../net/netns.ts';
import { lab, holders } from '../helpers/agents.ts';
import { waitHolder, vipEvents, VIP } from './harness.ts';
import { probe, monoMs, within } from './probe.ts';
import { Memcg, sweepMemcgs } from './memcg.ts';

type T = { teardown(fn: () => unknown): void };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const CHECK_INTERVAL_MS = 100;
const PORT = '7070';

const children = (pid: number) => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
const isChecker = (pid: number) => { try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('checker'); } catch { return false; } };
const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024;
const status = (ns: string) => JSON.parse(nsExec(ns, 'curl', '-sf', '--max-time', '3', 'http://127.0.0.1:9110/status'));

/** The pair, the master's check up and the VIP on it; with monitors on both routers. */
export async function checkedPair(t: T, prefix: string) {
  const l = lab(t, prefix, ['a', 'b']);
  const [a, b] = l.hosts;
  const target = await probe(t, a.ns, ['listen', '127.0.0.1', PORT]);
  const extra = '    track: { checks: [{ name: svc, weight: -60 }] }\n' +
    `checks:\n  - { name: svc, type: tcp, target: "127.0.0.1:${PORT}", interval: ${CHECK_INTERVAL_MS}ms, timeout: 50ms, rise: 2, fall: 3 }`;
  const pa = l.vigil(a, `${a.ns}.yaml`, { priority: 150, extra });
  await pa.waitLine(/check svc: up/, 15_000);
  await waitHolder([a.ns, b.ns], a.ns, 10_000);
  const pb = l.vigil(b, `${b.ns}.yaml`, { priority: 100 });
  await pb.waitLine(/"to":"backup"/, 10_000);
  const onA = await vipEvents(t, a.ns), onB = await vipEvents(t, b.ns);
  return { l, a, b, pa, pb, target, onA, onB, routers: [a.ns, b.ns] };
}
export type CheckedPair = Awaited<ReturnType<typeof checkedPair>>;

/**
 * The master's checker under pressure for `ms`; what it did to the pair. `stall`: the cgroup's
 * OOM killer off, so the checker waits for memory whenever it needs a page, until the hog goes.
 */
export async function checkerPressure(t: T, cp: CheckedPair, cgroupParent: string, ms = 5000, stall = false) {
  const sup = cp.pa.child.pid!;
  const checker = children(sup).find(isChecker);
  if (!checker) throw new Error(`no checker under the supervisor ${sup}`);
  const st0 = status(cp.a.ns), stB0 = status(cp.b.ns);
  // The supervisor's line for each checker that died: "checker killed by SIGKILL: restarting ...".
  const lines0 = cp.pa.lines.length;
  const deaths = () => cp.pa.lines.slice(lines0).flatMap((l) => /checker (killed by \w+|exited with status \d+): restarting/.exec(l)?.[1] ?? []);
  const evA = cp.onA.events.length, evB = cp.onB.events.length;
  const adverts = await probe(t, cp.l.topo.br, ['adverts', 'p-a', cp.a.v4], true);
  sweepMemcgs(cgroupParent, 'vchm-');
  const cg = new Memcg(cgroupParent, `vchm-${process.pid}-${Date.now() % 100000}`);
  t.teardown(() => cg.destroy());
  let from = 0, to = 0, hogsKilled = 0, usage = 0, rss = 0, limit = 0, oomKills = NaN, failcnt = NaN;
  const wallFrom = Date.now();
  try {
    cg.add(checker);
    usage = cg.usage();
    rss = rssOf(checker);
    // "A little above": 8 MiB of room over what the cgroup holds, what a round or two of a
    // check and a GC need. (Where charges no longer move, 6.x, it holds only what the checker
    // allocates from now on: the room is the same, the checker's RSS stays charged outside.)
    limit = usage + (8 << 20);
    cg.limit(limit);
    if (stall) cg.noOomKiller();
    from = monoMs();
    hogsKilled = await cg.hog(ms);
    to = monoMs();
    oomKills = cg.oomKills(); failcnt = cg.failcnt();
  } finally {
    await cg.destroy();
  }
  const wallTo = Date.now();
  // A killed checker's successor: restarted, risen, reporting again.
  await sleep(2500);
  adverts.stop();
  const st1 = status(cp.a.ns), stB1 = status(cp.b.ns);
  const gaps = (s: number[], a: number, b: number) => {
    const x = [a, ...within(s, a, b), b];
    return Math.max(...x.slice(1).map((v, i) => v - x[i]!));
  };
  const vipAdds = (ev: typeof cp.onA.events, i: number) => ev.slice(i).filter((e) => e.addr === VIP && !e.deleted).length;
  const checkerAlive = (() => { try { return isChecker(checker) && children(sup).includes(checker); } catch { return false; } })();
  return {
    window: { wallFrom, wallTo },
    usageMiB: usage / 2 ** 20, rssMiB: rss / 2 ** 20, limitMiB: limit / 2 ** 20, oomKills, failcnt, hogsKilled,
    checkerKilled: checkerAlive ? 0 : 1,
    checkerRestarts: deaths().length,
    deaths: deaths(),
    checkerRunning: children(sup).some(isChecker),
    advertGapMs: gaps(adverts.stamps, from, to),
    advertsInWindow: within(adverts.stamps, from, to).length,
    windowMs: to - from,
    // The check's rounds as its target saw them, to the end of the successor's first rounds.
    roundGapMs: gaps(cp.target.stamps, from, to + 2500),
    checkFlips: st1.checks[0].transitions - st0.checks[0].transitions,
    checkState: st1.checks[0].state as string,
    priorityBefore: st0.instances[0].effectivePriority as number,
    priorityAfter: st1.instances[0].effectivePriority as number,
    transitions: (st1.instances[0].counters.transitions - st0.instances[0].counters.transitions) +
      (stB1.instances[0].counters.transitions - stB0.instances[0].counters.transitions),
    vipMoves: vipAdds(cp.onA.events, evA) + vipAdds(cp.onB.events, evB),
    holders: holders(cp.routers, VIP),
  };
}
