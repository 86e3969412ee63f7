// CLOCK_REALTIME jumped under a running pair (test/chaos, bench/chaos): +1 h, then -1 h, each
// held `holdS` and undone (clock.ts). Nothing may happen: no transition, no VIP move, no gap in
// the master's adverts. The wall clock lies during the jumps, so everything here is counted or
// stamped on CLOCK_MONOTONIC: the adverts by probe.py, transitions from vigil's counters or
// keepalived's log lines, the VIP's address events by count (their stamps are wall clock).
import { nsExec } from '../net/netns.ts';
import type { Proc } from '../helpers/agents.ts';
import { VIP, type Impl } from './harness.ts';
import { probe, monoMs, within } from './probe.ts';
import { jumpClock } from './clock.ts';

type T = { teardown(fn: () => unknown): void };
type Events = { events: { deleted: boolean; addr: string }[] };
export interface ClockPair { l: { topo: { br: string } }; a: { ns: string; v4: string }; b: { ns: string }; pa: Proc; pb: Proc }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const KA_STATE = /Entering (MASTER|BACKUP|FAULT) STATE/;

/** State changes so far of both routers: vigil's counters, keepalived's "Entering ... STATE" lines. */
function transitions(impl: Impl, p: ClockPair): number {
  if (impl === 'keepalived') return [p.pa, p.pb].reduce((n, x) => n + x.lines.filter((l) => KA_STATE.test(l)).length, 0);
  return [p.a.ns, p.b.ns].reduce((n, ns) => {
    const st = JSON.parse(nsExec(ns, 'curl', '-sf', '--max-time', '3', 'http://127.0.0.1:9110/status'));
    return n + (st.instances[0].counters.transitions as number);
  }, 0);
}

/** The longest gap (ms) between stamps in [from, to], the window's ends included. */
const longest = (s: number[], from: number, to: number) => {
  const x = [from, ...within(s, from, to), to];
  return Math.max(...x.slice(1).map((v, i) => v - x[i]!));
};

export async function clockJumps(t: T, impl: Impl, p: ClockPair, onA: Events, onB: Events, seconds = [3600, -3600], holdS = 2) {
  const adverts = await probe(t, p.l.topo.br, ['adverts', 'p-a', p.a.v4], true);
  const tr0 = transitions(impl, p);
  const evA = onA.events.length, evB = onB.events.length;
  const quiet = monoMs();
  await sleep(1000);   // a baseline: the same counts without a jump
  const from = monoMs();
  const { jumps, driftMs } = await jumpClock(seconds, holdS);
  const to = monoMs();
  await sleep(300);   // the monitors' last lines in
  adverts.stop();
  const vip = (ev: Events, i: number, deleted: boolean) => ev.events.slice(i).filter((e) => e.addr === VIP && e.deleted === deleted).length;
  // Per jump: from the jump to the next one (or the end), so what a restore sets off counts too.
  const per = jumps.map((j, i) => {
    const end = jumps[i + 1]?.jumped ?? to;
    return { seconds: seconds[i]!, gapMs: longest(adverts.stamps, j.jumped, end), adverts: within(adverts.stamps, j.jumped, end).length, windowMs: end - j.jumped };
  });
  return {
    per,
    baseline: { gapMs: longest(adverts.stamps, quiet, from), adverts: within(adverts.stamps, quiet, from).length, windowMs: from - quiet },
    advertGapMs: longest(adverts.stamps, from, to),
    transitions: transitions(impl, p) - tr0,
    vipMoves: vip(onA, evA, true) + vip(onB, evB, false),
    bTook: vip(onB, evB, false),
    driftMs,
  };
}
