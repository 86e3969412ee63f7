// make chaos faults of the host rather than the LAN: CLOCK_REALTIME jumped under the pairs, and
// memory pressure on vigil's checker (test/chaos/clock-fault.ts, checker-pressure.ts do the
// work; test/chaos asserts the same invariants on shorter runs).
import { checkedPair, checkerPressure, CHECK_INTERVAL_MS, type CheckedPair } from '../../test/chaos/checker-pressure.ts';
import { clockJumps, type ClockPair } from '../../test/chaos/clock-fault.ts';
import { ownMemcg } from '../../test/chaos/memcg.ts';
import { waitHolder, type Impl } from '../../test/chaos/harness.ts';
import { held, overlapMs } from './measure.ts';

type T = { teardown(fn: () => unknown): void };
type Events = Parameters<typeof held>[0];
export interface HostLab { impl: Impl; p: ClockPair; onA: { events: Events }; onB: { events: Events } }
type Metrics = Record<string, number>;

/** +1 h then -1 h, 2 s each, undone from CLOCK_MONOTONIC; everything counted or monotonic. */
export async function clockJump(t: T, l: HostLab): Promise<Metrics> {
  const r = await clockJumps(t, l.impl, l.p, l.onA, l.onB, [3600, -3600], 2);
  const m: Metrics = {
    'state transitions (both routers)': r.transitions, 'VIP moves': r.vipMoves,
    'A\'s longest advert gap ms (monotonic)': r.advertGapMs, 'the same in the 1 s before (no jump) ms': r.baseline.gapMs,
    'A\'s adverts/s in the 1 s before': r.baseline.adverts / r.baseline.windowMs * 1000,
  };
  for (const j of r.per) {
    const w = `${j.seconds > 0 ? '+' : '-'}1 h`;
    m[`A's adverts/s from the ${w} jump to the next`] = j.adverts / j.windowMs * 1000;
  }
  m['realtime off after the restore ms'] = r.driftMs;
  return m;
}

// One vigil pair with a tracked check, kept across runs (the fault needs a check; the LAN
// faults' pair has none).
let checked: CheckedPair | undefined;

/**
 * The master's checker in a memory cgroup 8 MiB above its usage, a hog beside it for 5 s; with
 * `stall` the cgroup's OOM killer is off, so the checker waits for memory instead of dying.
 */
export async function checkerMemory(t: T, impl: Impl, stall = false): Promise<Metrics> {
  if (impl !== 'vigil') return {};   // keepalived's checker is for IPVS, which this kernel lacks
  const cg = ownMemcg();
  if ('skip' in cg) throw new Error(cg.skip);
  checked ??= await checkedPair(t, 'bcm-');
  const cp = checked;
  await waitHolder(cp.routers, cp.a.ns, 5000);
  await new Promise((r) => setTimeout(r, 500));
  const r = await checkerPressure(t, cp, cg.dir, 5000, stall);
  const { wallFrom, wallTo } = r.window;
  if (r.deaths.length) process.stderr.write(`checker${stall ? 'Stall' : 'Memory'}: the checker ${r.deaths.join(', ')}\n`);
  return {
    'A\'s longest advert gap ms': r.advertGapMs,
    'dual-master ms': overlapMs(held(cp.onA.events, wallFrom, wallTo + 2500), held(cp.onB.events, wallFrom, wallTo + 2500)),
    'VIP moves': r.vipMoves,
    'check flips seen by the engine': r.checkFlips,
    'A\'s priority changed by': r.priorityAfter - r.priorityBefore,
    'checker died (1 = yes)': r.checkerKilled,
    'checker restarted by the supervisor (its log)': r.checkerRestarts,
    'hogs OOM-killed': r.hogsKilled,
    [`check rounds' longest gap ms (interval ${CHECK_INTERVAL_MS})`]: r.roundGapMs,
    'checker\'s RSS when moved MiB': r.rssMiB,
  };
}
