// A warm start (host/agent/handover.ts) is a replay: a core fed the first engine's journal must be
// the first engine's core, down to the next deadline, or the second engine's first advert (or
// silence) differs from what the first would have done.
import t, { type Test } from 'tap';
import { Core, type ActionHandler, type InstanceConfig } from '../../host/core/core.ts';
import { parseAddress } from '../../host/core/addr.ts';
import { COUNTERS } from '../../host/core/codes.ts';
import { after, HANDOVER_LINE, HandoverError, parseHandover, recordInputs, replay,
  type Handover, type JournalEntry } from '../../host/agent/handover.ts';
import { rng } from '../helpers/lan.ts';

const MS = 1000;
const V4: InstanceConfig = { ifindex: 1, vrid: 51, version: 3, family: 4, priority: 100, advertIntervalCs: 1,
  preempt: true, primary: '192.0.2.1', vips: ['192.0.2.100'] };
const V6: InstanceConfig = { ifindex: 1, vrid: 52, version: 3, family: 6, priority: 150, advertIntervalCs: 2,
  preempt: true, primary: 'fe80::1', vips: ['2001:db8::100'] };
const CFGS = [V4, V6];

// A core of its own builds the peers' packets: encode() writes into the core's buffers, and A and
// B must see only the inputs.
const peer = new Core();
const addr16 = (a: string) => { const b = new Uint8Array(16); parseAddress(a, b); return b; };

// Everything a replica must agree on. The time is read as the engine would next arm its timer.
function snapshot(c: Core, slots: number[]) {
  return {
    pollTimeout: c.pollTimeout(),
    dropTotals: c.dropTotals(),
    slots: slots.map((s, i) => ({
      state: c.state(s), effectivePriority: c.effectivePriority(s), masterPriority: c.masterPriority(s),
      masterAddress: c.masterAddress(s, CFGS[i].family), masterAdverIntervalCs: c.masterAdverIntervalCs(s),
      counters: Object.fromEntries(COUNTERS.map((n) => [n, c.counter(s, n)])), drops: c.drops(s),
    })),
  };
}

// The engine's handler, reduced to a log: bytes and destinations are views into the core's
// memory, so they are copied out as hex at once.
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
function recorder(log: string[]): ActionHandler {
  return {
    transition: (s, from, to, why) => log.push(`${s} ${from}->${to} ${why}`),
    send: (s, f, p, bytes, dst) => log.push(`${s} send v${f} ${p} ${hex(bytes)} ${hex(dst)}`),
    vips: (s, add) => log.push(`${s} vips ${add}`),
    announce: (s) => log.push(`${s} announce`),
  };
}

type Event =
  | { kind: 'timeout'; now: number }
  | { kind: 'ip'; now: number; bytes: Uint8Array }
  | { kind: 'vrrp'; now: number; bytes: Uint8Array; src: Uint8Array; ttl: number }
  | { kind: 'track'; now: number; slot: number; index: number; weight: number; failing: boolean }
  | { kind: 'configure'; slot: number; cfg: InstanceConfig }
  | { kind: 'restart'; now: number; slot: number };

// As host/agent/engine.ts does it: the packet read straight into inBuf, then the in-place call,
// then the actions drained.
function apply(c: Core, slots: number[], e: Event): string[] {
  const log: string[] = [], h = recorder(log);
  switch (e.kind) {
    case 'timeout': c.handleTimeout(e.now, h); break;
    case 'ip': c.inBuf.set(e.bytes); c.handleIpInPlace(e.now, 1, e.bytes.length); break;
    case 'vrrp': c.inBuf.set(e.bytes); c.handleVrrpInPlace(e.now, 1, 6, e.ttl, e.src, addr16('ff02::12'), e.bytes.length); break;
    case 'track': c.track(slots[e.slot], e.index, e.weight, e.failing, e.now); break;
    case 'configure': c.configure(slots[e.slot], e.cfg); break;
    case 'restart': c.stop(slots[e.slot], e.now); c.drain(h); c.start(slots[e.slot], e.now); break;
  }
  c.drain(h);
  return log;
}

// The next input after `now`: due deadlines first (the engine's one timer), then a peer's advert
// (above, equal to, below us, priority 0, for an unknown VRID, with a bad hop limit), a tracked
// object, a reload's priority change, or an instance restarted.
function nextEvent(r: () => number, c: Core, now: number): Event {
  const at = now + Math.floor(r() * 12 * MS);
  if (c.pollTimeout() <= at) return { kind: 'timeout', now: Math.max(now, c.pollTimeout()) };
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  const x = r();
  if (x < 0.35) {
    return { kind: 'ip', now: at, bytes: peer.encode({ version: 3, family: 4, vrid: pick([51, 51, 51, 99]),
      priority: pick([0, 50, 100, 150, 255]), advertInterval: 1, addresses: ['192.0.2.100'],
      source: pick(['192.0.2.2', '192.0.2.0']), destination: '224.0.0.18', ipHeader: true }) };
  }
  if (x < 0.65) {
    return { kind: 'vrrp', now: at, src: addr16(pick(['fe80::2', 'fe80::0:1'])), ttl: pick([255, 255, 255, 64]),
      bytes: peer.encode({ version: 3, family: 6, vrid: 52, priority: pick([0, 100, 150, 200]), advertInterval: 2,
        addresses: ['2001:db8::100'], source: 'fe80::2', destination: 'ff02::12' }) };
  }
  if (x < 0.8) return { kind: 'track', now: at, slot: pick([0, 1]), index: pick([0, 1]), weight: pick([0, -60, 60]), failing: r() < 0.5 };
  if (x < 0.92) return { kind: 'configure', slot: 0, cfg: { ...V4, priority: pick([50, 100, 200]) } };
  return { kind: 'restart', now: at, slot: pick([0, 1]) };
}

t.test('a replayed journal is the recorded core, and goes on live as it would', async (t) => {
  for (const seed of [1, 2, 3]) {
    const r = rng(seed);
    const a = new Core(), journal: JournalEntry[] = [];
    recordInputs(a, journal);
    // CLOCK_MONOTONIC is far from 0: the times must survive as f64 through the JSON line.
    let now = 123_456_789.5;
    const slots = CFGS.map((c) => a.addInstance(c));
    for (const s of slots) a.start(s, now);
    a.drain(recorder([]));
    const replicas: { core: Core; cut: number }[] = [];
    for (let i = 0; i < 400; i++) {
      if (i % 80 === 40) {
        const b = new Core();
        // Through JSON, as the handover line carries it.
        replay(b, JSON.parse(JSON.stringify(journal)) as JournalEntry[]);
        t.same(snapshot(b, slots), snapshot(a, slots), `seed ${seed}: replica at event ${i} is the core`);
        replicas.push({ core: b, cut: i });
      }
      const e = nextEvent(r, a, now);
      if ('now' in e) now = e.now;
      const want = apply(a, slots, e);
      for (const b of [...replicas]) {
        const got = apply(b.core, slots, e);
        // One t.same per event would drown the output: only the first difference is reported.
        if (got.join('\n') !== want.join('\n')) {
          t.same(got, want, `seed ${seed}: replica from event ${b.cut} differs at event ${i} (${e.kind})`);
          replicas.splice(replicas.indexOf(b), 1);
        }
      }
    }
    const seen = new Set(journal.map((e) => e[0]));
    t.same([...seen].sort(), ['add', 'configure', 'ip', 'start', 'stop', 'timeout', 'track', 'vrrp'], `seed ${seed}: every input kind journaled`);
    t.ok(a.counter(slots[0], 'becameMaster') > 0 && a.counter(slots[0], 'prio0Received') > 0, `seed ${seed}: the script moved slot 0`);
    for (const b of replicas) t.same(snapshot(b.core, slots), snapshot(a, slots), `seed ${seed}: replica from event ${b.cut} at the end`);
    t.equal(replicas.length, 5, `seed ${seed}: every replica kept in step`);
  }
});

// The class and the code the CLI reports: both, since a TypeError from a bad line would throw too.
function refuses(t: Test, fn: () => unknown, what: string): void {
  try { fn(); } catch (err) {
    t.ok(err instanceof HandoverError && err.code === 'VIGIL_HANDOVER', `${what}: ${(err as Error).message}`);
    return;
  }
  t.fail(`${what}: accepted`);
}

t.test('the recorder', async (t) => {
  const a = new Core(), journal: JournalEntry[] = [];
  const stop = recordInputs(a, journal);
  const cfg = structuredClone(V4);
  const slot = a.addInstance(cfg);
  t.same(journal, [['add', V4, slot]], 'addInstance is one entry, not an add and a configure');
  cfg.priority = 7;
  t.equal((journal[0] as ['add', InstanceConfig, number])[1].priority, 100, 'the entry is a copy of the config');
  t.throws(() => a.track(slot, 999, 0, true, 0));
  t.same(journal[1], ['threw', ['track', slot, 999, 0, true, 0]], 'an input the core refused is journaled as refused');
  // Core.configure applies the priority before it refuses an empty VIP list: the replica must
  // take the same half of it.
  t.throws(() => a.configure(slot, { ...V4, priority: 200, vips: [] }));
  t.equal(journal[2]![0], 'threw', 'a configure refused part way, journaled as refused');
  a.start(slot, 5);
  t.same(journal[3], ['start', slot, 5]);
  // A removed slot is free again in the replica too: the next add lands where it did on A.
  const extra = a.addInstance(V6);
  a.remove(extra, 6);
  t.same(journal.slice(4), [['add', V6, extra], ['remove', extra, 6]]);
  const b = new Core();
  replay(b, journal);
  t.equal(b.effectivePriority(slot), a.effectivePriority(slot), 'the refused configure\'s half taken alike');
  t.equal(b.addInstance(V6), extra, 'a removed slot is reused alike');
  stop();
  t.notOk(Object.hasOwn(a, 'start'), 'the core\'s own methods are back');
  a.handleTimeout(a.pollTimeout(), recorder([]));
  a.configure(slot, { ...V4, priority: 200 });
  a.stop(slot, 50 * MS);
  a.drain(recorder([]));
  t.equal(journal.length, 6, 'nothing journaled after stop');

  const tampered = structuredClone(journal);
  (tampered[0] as ['add', InstanceConfig, number])[2] = slot + 3;
  refuses(t, () => replay(new Core(), tampered), 'a slot the replay cannot reproduce');
  refuses(t, () => replay(new Core(), [['bogus', 1]] as unknown as JournalEntry[]), 'an unknown entry');
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
  const h: Handover = { v: 1, config, journal: [['add', V4, 0], ['start', 0, 1.5], ['timeout', 37_093.75]],
    cutoff: { 'eth0/4': [12, 345] }, instances: { a: { slot: 0, wantVips: true, burstsLeft: 2, transitions: [] } } };
  const line = JSON.stringify({ handover: h });
  t.ok(line.startsWith(HANDOVER_LINE), 'the supervisor\'s line is told apart by its prefix');
  t.same(parseHandover(line, config), h);
  for (const [what, bad] of [
    ['not JSON', '{"handover":'],
    ['null', '{"handover":null}'],
    ['a JSON null', 'null'],
    ['another version', JSON.stringify({ handover: { ...h, v: 2 } })],
    ['no journal', JSON.stringify({ handover: { ...h, journal: {} } })],
    ['another config', JSON.stringify({ handover: { ...h, config: '{"instances":[1]}' } })],
  ]) refuses(t, () => parseHandover(bad, config), what);
});
