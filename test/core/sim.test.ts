// The in-process simulator: N real cores on a virtual LAN with latency, jitter and loss.
// RFC 5798's promise, checked for N up to 50: exactly one master, the highest priority
// (ties to the higher address), and a new one within Master_Down_Interval of silence.
import t from 'tap';
import { Lan, rng, type Router } from '../helpers/lan.ts';

const MS = 1000;
const addr = (i: number) => `192.0.2.${i + 1}`;

function build(n: number, seed: number, opts: { loss?: number; latencyUs?: number; jitterUs?: number; tiePriority?: boolean } = {}) {
  const lan = new Lan(opts.latencyUs ?? 200, opts.jitterUs ?? 300, opts.loss ?? 0, seed);
  const r = rng(seed * 7919);
  // Distinct priorities (1..254) unless ties are wanted; addresses shuffled against priority.
  const prios = Array.from({ length: 254 }, (_, i) => i + 1).sort(() => r() - 0.5).slice(0, n);
  for (let i = 0; i < n; i++) {
    lan.add({ address: addr(i), priority: opts.tiePriority ? 100 : prios[i] });
  }
  return lan;
}

function expectedWinner(routers: Router[]): Router {
  return [...routers].sort((a, b) =>
    b.opts.priority - a.opts.priority || Buffer.compare(Buffer.from(b.address), Buffer.from(a.address)))[0];
}

// Counts the instants, sampled at every 1 ms, with other than one master.
function watch(lan: Lan, durationUs: number): { zero: number; many: number } {
  let zero = 0, many = 0;
  const end = lan.now + durationUs;
  while (lan.now < end) {
    lan.runFor(1 * MS);
    const m = lan.masters().length;
    if (m === 0) zero++;
    if (m > 1) many++;
  }
  return { zero, many };
}

for (const n of [2, 3, 10, 50]) {
  t.test(`${n} routers converge to one master, the highest priority`, async (t) => {
    for (const seed of [1, 2, 3]) {
      const lan = build(n, seed, { loss: 0.01 });
      lan.startAll();
      lan.runFor(200 * MS);
      const masters = lan.masters();
      t.equal(masters.length, 1, `seed ${seed}: one master`);
      t.equal(masters[0], expectedWinner(lan.routers), `seed ${seed}: the highest priority wins`);
      t.same(watch(lan, 500 * MS), { zero: 0, many: 0 }, `seed ${seed}: stable for 500 ms with 1% loss`);
      t.equal(lan.routers.filter((r) => r.vipsHeld.size > 0).length, 1, 'exactly one holds the VIP');
    }
  });

  t.test(`${n} routers: master goes silent, the next one takes over within Master_Down_Interval`, async (t) => {
    const lan = build(n, 11 + n, { latencyUs: 200, jitterUs: 300 });
    lan.startAll();
    lan.runFor(200 * MS);
    let alive = lan.routers.slice();
    // Kill masters one after another while at least two routers are left.
    for (let round = 0; round < Math.min(n - 1, 5); round++) {
      const [old] = lan.masters();
      const killedAt = lan.now;
      lan.kill(old);
      alive = alive.filter((r) => r !== old);
      const winner = expectedWinner(alive);
      const mdi = winner.core.masterDownIntervalUs(winner.slots[0]);
      lan.runFor(mdi + 2 * MS);
      const took = winner.transitions.findLast((x) => x.to === 'master');
      t.ok(took && took.t > killedAt, `round ${round}: ${winner.name} (priority ${winner.opts.priority}) became master`);
      const delay = took!.t - killedAt;
      // It last heard the master at most one interval + latency before the kill.
      t.ok(delay <= mdi + lan.latencyUs + lan.jitterUs, `round ${round}: took over after ${(delay / MS).toFixed(2)} ms <= MDI ${(mdi / MS).toFixed(2)} ms + latency`);
      t.ok(delay >= mdi - 10 * MS, `round ${round}: not before MDI - one interval`);
      lan.runFor(50 * MS);
      t.same(lan.masters(), [winner], `round ${round}: exactly one master after re-election`);
    }
  });
}

t.test('equal priorities: the higher primary address wins', async (t) => {
  for (const seed of [1, 2, 3, 4]) {
    const lan = build(10, seed, { tiePriority: true });
    lan.startAll();
    lan.runFor(300 * MS);
    const m = lan.masters();
    t.equal(m.length, 1, `seed ${seed}`);
    t.equal(m[0].name, '192.0.2.10', `seed ${seed}: highest address`);
  }
});

t.test('preempt: a higher priority router joining later takes over; nopreempt does not', async (t) => {
  for (const preempt of [true, false]) {
    const lan = new Lan(200, 0, 0, 5);
    const low = lan.add({ address: '192.0.2.1', priority: 100 });
    const high = lan.add({ address: '192.0.2.2', priority: 200, preempt });
    lan.start(low);
    lan.runFor(100 * MS);
    t.same(lan.masters(), [low]);
    lan.start(high);
    lan.runFor(200 * MS);
    t.same(lan.masters(), [preempt ? high : low], `preempt ${preempt}`);
  }
});

t.test('graceful stop: priority 0 hands over after Skew_Time, not Master_Down_Interval', async (t) => {
  const lan = new Lan(200, 0, 0, 6);
  const a = lan.add({ address: '192.0.2.1', priority: 200 });
  const b = lan.add({ address: '192.0.2.2', priority: 100 });
  lan.startAll();
  lan.runFor(100 * MS);
  t.same(lan.masters(), [a]);
  const at = lan.now;
  lan.stop(a);
  lan.runFor(20 * MS);
  const took = b.transitions.findLast((x) => x.to === 'master')!;
  const skew = b.core.skewTimeUs(b.slots[0]);
  t.ok(took.t - at <= skew + 200 + 1, `took over after ${((took.t - at) / MS).toFixed(2)} ms (skew ${(skew / MS).toFixed(2)} ms)`);
});

t.test('sync group: members move together, a fault in one faults the group', async (t) => {
  const lan = new Lan(200, 0, 0, 7);
  const mk = (address: string, priority: number) => lan.add({
    address, priority, vrid: 51, group: 0, vips: ['192.0.2.100'],
    extraInstances: [{ vrid: 52, vips: ['192.0.2.200'] }],
  });
  const a = mk('192.0.2.1', 200);
  const b = mk('192.0.2.2', 100);
  lan.startAll();
  lan.runFor(100 * MS);
  t.same([a.state(0), a.state(1), b.state(0), b.state(1)], ['master', 'master', 'backup', 'backup']);
  // A tracked failure (weight 0) on one member of A faults both of A's instances...
  lan.track(a, 1, 0, 0, true);
  t.same([a.state(0), a.state(1)], ['fault', 'fault']);
  t.equal(a.transitions.find((x) => x.slot === a.slots[0] && x.to === 'fault')?.reason, 'sync_group');
  lan.runFor(50 * MS);
  // ...and B takes both over (priority 0 from A makes it quick).
  t.same([b.state(0), b.state(1)], ['master', 'master']);
  // Recovery: A leaves Fault as a group, then preempts both back.
  lan.track(a, 1, 0, 0, false);
  lan.runFor(100 * MS);
  t.same([a.state(0), a.state(1), b.state(0), b.state(1)], ['master', 'master', 'backup', 'backup']);
  // One member falling to Backup takes the other along.
  const c = new Lan(200, 0, 0, 8);
  const x = c.add({ address: '192.0.2.1', priority: 150, group: 1, extraInstances: [{ vrid: 52 }] });
  const y = c.add({ address: '192.0.2.2', priority: 100, extraInstances: [{ vrid: 52, priority: 250 }] });
  c.start(x);
  c.runFor(100 * MS);
  t.same([x.state(0), x.state(1)], ['master', 'master']);
  c.start(y, 1);  // y runs only VRID 52, at priority 250
  c.runFor(100 * MS);
  t.same([x.state(0), x.state(1)], ['backup', 'backup'], 'VRID 51 follows VRID 52 to Backup');
  t.equal(x.transitions.find((tr) => tr.slot === x.slots[0] && tr.to === 'backup' && tr.t > 0)?.reason, 'sync_group');
});

t.test('IPv6 and v2 LANs elect too', async (t) => {
  const six = new Lan(200, 100, 0, 9);
  for (let i = 1; i <= 5; i++) six.add({ address: `fe80::${i}`, priority: 100 + i });
  six.startAll();
  six.runFor(200 * MS);
  t.same(six.masters().map((r) => r.name), ['fe80::5']);
  const two = new Lan(200, 100, 0, 10);
  for (let i = 1; i <= 5; i++) two.add({ address: `192.0.2.${i}`, priority: 100 + i, version: 2, advertIntervalCs: 100, auth: { type: 'pass', password: 'pw' } });
  two.startAll();
  two.runFor(10_000 * MS);
  t.same(two.masters().map((r) => r.name), ['192.0.2.5']);
  const total = two.routers.reduce((n, r) => n + Object.values(r.core.dropTotals()).reduce((a, b) => a + (b ?? 0), 0), 0);
  t.equal(total, 0, 'no drops between agreeing v2 routers');
});

t.test('sync group: stopping the failing member frees the rest; a member that starts late does not drop the group', async (t) => {
  const lan = new Lan(200, 0, 0, 12);
  const r = lan.add({ address: '192.0.2.1', priority: 150, group: 0, extraInstances: [{ vrid: 52 }, { vrid: 53 }] });
  lan.start(r, 0); lan.start(r, 1);
  lan.runFor(100 * MS);
  t.same([r.state(0), r.state(1)], ['master', 'master']);
  // The third member joins later (a reload adding it): it starts in Backup, and must not take
  // the two masters down with it.
  lan.start(r, 2);
  t.same([r.state(0), r.state(1), r.state(2)], ['master', 'master', 'backup'], 'the running members keep their VIPs');
  lan.runFor(100 * MS);
  t.same([r.state(0), r.state(1), r.state(2)], ['master', 'master', 'master']);
  // One member faults: all fault. Stopping that member (a reload removing it) frees the others.
  lan.track(r, 0, 0, 0, true);
  t.same([r.state(0), r.state(1), r.state(2)], ['fault', 'fault', 'fault']);
  r.core.stop(r.slots[0], lan.now);
  r.core.takeActions();
  t.same([r.state(1), r.state(2)], ['backup', 'backup'], 'the rest of the group leaves Fault (fuzz_events found this)');
  lan.runFor(100 * MS);
  t.same([r.state(1), r.state(2)], ['master', 'master'], 'and elects again');
});
