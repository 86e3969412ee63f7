// A warm start (host/agent/handover.ts) is a replay: an engine state fed the first engine's
// journal of inputs must be the first engine's state, down to the next deadline, or the second
// engine's first advert (or silence) differs from what the first would have done.
import t, { type Test } from 'tap';
import { COUNTERS } from '../../host/core/codes.ts';
import { EngineState, type Input } from '../../host/agent/engine-state.ts';
import { after, HANDOVER_LINE, HandoverError, parseHandover, replay, type Handover } from '../../host/agent/handover.ts';
import { rng } from '../helpers/lan.ts';
import { EngineLan, instanceYaml, MS, type SimNode } from '../helpers/engine-lan.ts';

const CHECKS = 'checks:\n  - { name: web, type: tcp, target: "198.51.100.10:80" }\n';
const SYNC = 'syncGroups: [{ name: G, instances: [VI_1, VI_2] }]\n';
const config = (p: number, vips = ['192.0.2.100/24']) => `instances:\n${[
  instanceYaml({ priority: p, vips, trackInterfaces: [{ name: 'eth1', weight: -60 }], trackChecks: [{ name: 'web', weight: -30 }], notify: true }),
  instanceYaml({ name: 'VI_2', vrid: 52, priority: p, vips: ['192.0.2.101/24'] }),
  instanceYaml({ name: 'VI_6', vrid: 53, priority: 250 - p, vips: ['2001:db8::100/64'] }).replace('advertInterval: 10ms', 'advertInterval: 20ms'),
].join('\n')}\n${CHECKS}${SYNC}`;

// Everything a replica must agree on. The time is read as the driver would next arm its timer.
function snapshot(s: EngineState) {
  const c = s.core;
  return {
    pollTimeout: c.pollTimeout(),
    dropTotals: c.dropTotals(),
    checks: [...s.checks.values()],
    routers: [...s.routers.values()].map((r) => ({
      name: r.spec.name, slot: r.slot, spec: r.spec, wantVips: r.wantVips, transitions: r.transitions,
      state: c.state(r.slot), effectivePriority: c.effectivePriority(r.slot), masterPriority: c.masterPriority(r.slot),
      masterAddress: c.masterAddress(r.slot, r.spec.family), masterAdverIntervalCs: c.masterAdverIntervalCs(r.slot),
      counters: Object.fromEntries(COUNTERS.map((n) => [n, c.counter(r.slot, n)])), drops: c.drops(r.slot),
    })),
  };
}

// A LAN of three nodes, `a` journaling, driven by a seeded script: adverts, timers, links,
// checks, VIPs deleted by hand, reloads (in place, VIPs swapped, an instance removed and added).
// `cutAt`: after that many steps, a's state is replaced by a replay of its journal (through JSON,
// as the handover line carries it), and the run goes on with the replica.
function scenario(seed: number, cutAt = -1): { a: SimNode; lan: EngineLan; journal: Input[]; replicaChecks: string[] } {
  const r = rng(seed);
  const lan = new EngineLan();
  const a = lan.add('a'), b = lan.add('b'), c = lan.add('c');
  let journal: Input[] = [];
  a.state.record = (e) => { journal.push(e); };
  a.boot(config(150));
  b.boot(config(120));
  c.boot(config(100));
  const replicaChecks: string[] = [];
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  for (let i = 0; i < 120; i++) {
    if (i === cutAt) {
      const replica = new EngineState({ commands: a, wallOffsetMs: a.state.wallOffsetMs });
      replay(replica, JSON.parse(JSON.stringify(journal)) as Input[]);
      replicaChecks.push(JSON.stringify(snapshot(replica)) === JSON.stringify(snapshot(a.state)) ? 'same' : 'differs');
      replica.record = (e) => { journal.push(e); };
      a.state.record = undefined;
      a.state = replica;
      // The driver arms its timer from the replica, as adopt() does.
      a.deadline = replica.core.pollTimeout();
    }
    lan.runFor(Math.floor(r() * 40 * MS));
    const x = r(), n = pick([a, a, b, c]);
    if (x < 0.25) n.setLink('eth1', r() < 0.5);
    else if (x < 0.45) n.check('web', r() < 0.6);
    else if (x < 0.55) { if (n.holds('VI_1')) n.deleteByHand('VI_1', '192.0.2.100'); }
    else if (x < 0.65) n.reload(config(pick([90, 130, 150, 200])));
    else if (x < 0.7) n.reload(config(pick([110, 160]), ['192.0.2.100/24', '192.0.2.102/24']));
    else if (x < 0.75) n.reload(`instances:\n${instanceYaml({ name: 'VI_3', vrid: 60, priority: 100, vips: ['192.0.2.103/24'] })}\n`);
    else if (x < 0.8) n.setLink('eth0', r() < 0.7);
  }
  lan.runFor(300 * MS);
  return { a, lan, journal, replicaChecks };
}

t.test('a replayed journal is the recorded state, and goes on live as it would', async (t) => {
  for (const seed of [1, 2, 3, 4]) {
    const whole = scenario(seed);
    const kinds = new Set(whole.journal.map((e) => e[0]));
    for (const k of ['checks', 'add', 'start', 'configure', 'remove', 'vrrp', 'timeout', 'link', 'check']) {
      t.ok(kinds.has(k as Input[0]), `seed ${seed}: ${k} journaled`);
    }
    // At the end, from scratch.
    const replica = new EngineState({ commands: whole.a, wallOffsetMs: whole.a.state.wallOffsetMs });
    replay(replica, JSON.parse(JSON.stringify(whole.journal)) as Input[]);
    t.same(snapshot(replica), snapshot(whole.a.state), `seed ${seed}: the replica of the whole run is the state`);
    for (const cut of [10, 60, 110]) {
      const handed = scenario(seed, cut);
      t.same(handed.replicaChecks, ['same'], `seed ${seed}: the replica at step ${cut} is the state`);
      t.same(snapshot(handed.a.state), snapshot(whole.a.state), `seed ${seed}: handed over at step ${cut}, the run ends as without`);
      t.same([handed.a.sent, [...handed.a.held].map(([k, v]) => [k, [...v]])], [whole.a.sent, [...whole.a.held].map(([k, v]) => [k, [...v]])],
        `seed ${seed}, step ${cut}: the same adverts sent and VIPs held`);
    }
  }
});

// The class and the code the CLI reports: both, since a TypeError from a bad line would throw too.
function refuses(t: Test, fn: () => unknown, what: string): void {
  try { fn(); } catch (err) {
    t.ok(err instanceof HandoverError && err.code === 'VIGIL_EHANDOVER', `${what}: ${(err as Error).message}`);
    return;
  }
  t.fail(`${what}: accepted`);
}

t.test('the journal: refused inputs are replayed as refused; unknown entries refused', async (t) => {
  const lan = new EngineLan();
  const a = lan.add('a');
  const journal: Input[] = [];
  a.state.record = (e) => { journal.push(e); };
  a.boot(`instances:\n${instanceYaml({ priority: 100 })}\n`);
  // A configure the core refuses (an IPv4 instance given VIPs the core cannot take: none).
  const spec = structuredClone(a.state.router('VI_1')!.spec);
  spec.priority = 200;
  spec.virtualAddresses = [];
  t.throws(() => a.state.configure(lan.now, spec, -1, []));
  t.equal(journal.at(-1)![0], 'threw', 'a configure refused part way, journaled as refused');
  const replica = new EngineState({ commands: a, wallOffsetMs: 0 });
  replay(replica, journal);
  t.equal(replica.core.effectivePriority(0), a.state.core.effectivePriority(0), 'the refused configure\'s half taken alike');
  refuses(t, () => replay(new EngineState({ commands: a, wallOffsetMs: 0 }), [['bogus', 1]] as unknown as Input[]), 'an unknown entry');
  a.state.record = undefined;
  const n = journal.length;
  lan.runFor(100 * MS);
  t.equal(journal.length, n, 'nothing journaled once recording stops');
});

t.test('after: a datagram stamp against the cutoff', async (t) => {
  t.equal(after(undefined, 0, 0), true, 'no cutoff: the first engine read nothing');
  t.equal(after([100, 500], 100, 500), false, 'the last datagram read is not read twice');
  t.equal(after([100, 500], 100, 501), true);
  t.equal(after([100, 500], 100, 499), false);
  t.equal(after([100, 500], 99, 999_999_999), false);
  t.equal(after([100, 500], 101, 0), true);
  t.equal(after([0xffffffff, 999_999_999], 0, 0), true, 'the seconds wrap');
  t.equal(after([0, 0], 0xffffffff, 999_999_999), false, 'just before a wrap is before');
});

t.test('parseHandover', async (t) => {
  const config = '{"instances":[]}';
  const h: Handover = { v: 2, config, wallOffsetMs: 1.7e12, journal: [['start', 1.5, 'a'], ['timeout', 37_093.75]],
    cutoff: { 'eth0/4': [12, 345] }, instances: { a: { burstsLeft: 2 } } };
  const line = JSON.stringify({ handover: h });
  t.ok(line.startsWith(HANDOVER_LINE), 'the supervisor\'s line is told apart by its prefix');
  t.same(parseHandover(line, config), h);
  for (const [what, bad] of [
    ['not JSON', '{"handover":'],
    ['null', '{"handover":null}'],
    ['a JSON null', 'null'],
    ['another version', JSON.stringify({ handover: { ...h, v: 1 } })],
    ['no journal', JSON.stringify({ handover: { ...h, journal: {} } })],
    ['another config', JSON.stringify({ handover: { ...h, config: '{"instances":[1]}' } })],
  ]) refuses(t, () => parseHandover(bad, config), what);
});
