// Every transition of RFC 5798 §6.4 (and the v2 / Fault / tracking / sync-group additions),
// driven through the real core.wasm on a virtual clock.
import t from 'tap';
import { Bench, MS, kinds, advert } from '../helpers/single.ts';
import { parseAddress } from '../../host/core/addr.ts';
import { CoreConfigError } from '../../host/errors.ts';

// The core's reason for refusing a configuration call, or 'accepted'.
function refusal(fn: () => unknown): string {
  try { fn(); } catch (err) {
    if (err instanceof CoreConfigError && err.code === 'VIGIL_ECORE_CONFIG') return err.reason;
    throw err;
  }
  return 'accepted';
}

t.test('RFC 5798 §6.1 timers: Master_Down_Interval and Skew_Time', async (t) => {
  const b = new Bench({ priority: 100, advertIntervalCs: 1 });
  // 3 x 10 ms + (256 - 100) x 10 ms / 256 = 36.09375 ms
  t.equal(b.core.masterDownIntervalUs(b.slot), 36093.75);
  t.equal(b.core.skewTimeUs(b.slot), 6093.75);
  const v2 = new Bench({ version: 2, priority: 200, advertIntervalCs: 100 });
  // v2: 3 x 1 s + (256 - 200) / 256 s
  t.equal(v2.core.masterDownIntervalUs(v2.slot), 3e6 + (56 / 256) * 1e6);
});

t.test('Initialize: Startup with priority 255 -> Master, advert, announce', async (t) => {
  const b = new Bench({ priority: 255 });
  const a = b.start();
  t.same(kinds(a), ['init->master:startup_owner', 'vipsAdd', 'send', 'announce']);
  const send = a.find((x) => x.kind === 'send')!;
  t.equal(send.kind === 'send' && send.priority, 255);
  t.equal(send.kind === 'send' && send.destination, '224.0.0.18');
  t.equal(b.state, 'master');
});

t.test('Initialize: Startup below 255 -> Backup; Master_Down_Timer fires -> Master', async (t) => {
  const b = new Bench({ priority: 100 });
  t.same(kinds(b.start()), ['init->backup:startup']);
  t.same(b.advance(36 * MS), [], 'nothing before Master_Down_Interval');
  const a = b.advance(1 * MS);
  t.same(kinds(a), ['backup->master:master_down', 'vipsAdd', 'send', 'announce']);
  t.equal(b.now, 37 * MS);
});

t.test('Backup: adverts at >= local priority reset Master_Down_Timer', async (t) => {
  const b = new Bench({ priority: 100 });
  b.start();
  for (let i = 0; i < 10; i++) {
    b.advance(10 * MS);
    t.equal(b.receive({ source: '192.0.2.2', priority: 150 }).drop, 'none');
  }
  t.equal(b.state, 'backup', 'still backup after 100 ms of adverts');
  t.equal(b.core.masterAddress(b.slot, 4), '192.0.2.2');
  t.equal(b.core.masterPriority(b.slot), 150);
  // Equal priority also holds a backup down (RFC 5798 §6.4.2: "greater than or equal").
  b.receive({ source: '192.0.2.0', priority: 100 });
  t.same(b.advance(36 * MS), []);
  t.same(kinds(b.advance(1 * MS)).slice(0, 1), ['backup->master:master_down']);
});

t.test('Backup: v3 learns the master\'s advert interval', async (t) => {
  const b = new Bench({ priority: 100, advertIntervalCs: 1 });
  b.start();
  b.receive({ source: '192.0.2.2', priority: 150, advertInterval: 100 });
  t.equal(b.core.masterAdverIntervalCs(b.slot), 100);
  // 3 x 1 s + 156/256 s
  t.equal(b.core.masterDownIntervalUs(b.slot), 3e6 + 609375);
  t.same(b.advance(3_609_000), [], 'waits the learned interval, not its own 10 ms');
  t.same(kinds(b.advance(1 * MS)).slice(0, 1), ['backup->master:master_down']);
});

t.test('Backup: priority 0 advert -> Master after Skew_Time', async (t) => {
  const b = new Bench({ priority: 100 });
  b.start();
  b.receive({ source: '192.0.2.2', priority: 150 });
  b.advance(5 * MS);
  const r = b.receive({ source: '192.0.2.2', priority: 0 });
  t.equal(r.drop, 'none');
  t.equal(b.core.counter(b.slot, 'prio0Received'), 1);
  t.same(b.advance(6 * MS), [], 'not before skew 6.09 ms');
  t.same(kinds(b.advance(1 * MS)).slice(0, 1), ['backup->master:master_down']);
});

t.test('Backup with preempt: a lower-priority master is overridden', async (t) => {
  const b = new Bench({ priority: 200 });
  b.start();
  for (let i = 0; i < 3; i++) { b.advance(10 * MS); b.receive({ source: '192.0.2.2', priority: 100 }); }
  t.equal(b.state, 'backup', 'at 30 ms, before Master_Down_Interval (32.19 ms)');
  // Lower-priority adverts are discarded, so the Master_Down_Timer set at startup runs out.
  t.same(kinds(b.advanceTo(32.2 * MS)).slice(0, 1), ['backup->master:master_down']);
});

t.test('Backup with nopreempt: a lower-priority master is kept', async (t) => {
  const b = new Bench({ priority: 200, preempt: false });
  b.start();
  for (let i = 0; i < 20; i++) { b.advance(10 * MS); b.receive({ source: '192.0.2.2', priority: 100 }); }
  t.equal(b.state, 'backup');
  b.advance(40 * MS);
  t.equal(b.state, 'master', 'takes over only when the master goes silent');
});

t.test('Backup with preempt delay: tolerates a lower-priority master for the delay', async (t) => {
  const b = new Bench({ priority: 200, preemptDelayCs: 20 });  // 200 ms
  b.start();
  let tookOver = -1;
  for (let i = 0; i < 40 && tookOver < 0; i++) {
    b.advance(10 * MS);
    b.receive({ source: '192.0.2.2', priority: 100 });
    if (b.state === 'master') tookOver = b.now;
  }
  t.ok(tookOver >= 200 * MS, `not before the 200 ms delay (took over at ${tookOver / MS} ms)`);
  t.ok(tookOver <= 200 * MS + 40 * MS, 'within one Master_Down_Interval after it');
});

t.test('Backup: Shutdown -> Initialize without an advert', async (t) => {
  const b = new Bench({ priority: 100 });
  b.start();
  t.same(kinds(b.stop()), ['backup->init:shutdown']);
  t.equal(b.core.pollTimeout(), Infinity, 'no timer left');
});

t.test('Master: Adver_Timer sends every interval, keeping cadence', async (t) => {
  const b = new Bench({ priority: 255, advertIntervalCs: 1 });
  b.start();
  const sends: number[] = [];
  for (let i = 0; i < 10; i++) {
    for (const a of b.advance(10 * MS)) if (a.kind === 'send') sends.push(b.now);
  }
  t.same(sends, [10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((x) => x * MS));
  t.equal(b.core.counter(b.slot, 'advertsSent'), 11);
});

t.test('Master: Shutdown sends priority 0 and releases the VIPs', async (t) => {
  const b = new Bench({ priority: 255 });
  b.start();
  const a = b.stop();
  t.same(kinds(a), ['send', 'vipsDel', 'master->init:shutdown']);
  t.equal(a[0].kind === 'send' && a[0].priority, 0);
});

t.test('Master: priority 0 from another -> advert at once', async (t) => {
  const b = new Bench({ priority: 255 });
  b.start();
  b.advance(3 * MS);
  const r = b.receive({ source: '192.0.2.2', priority: 0 });
  // The packet path owes it; the advert timer, due at once, sends it (never a burst: see below).
  t.same(kinds(r.actions), [], 'owed, not sent from the packet path');
  t.equal(b.core.pollTimeout(), 3 * MS, 'Adver_Timer brought forward to now');
  t.same(kinds(b.advance(0)), ['send']);
  t.same(b.advance(9 * MS), [], 'Adver_Timer was reset');
  t.same(kinds(b.advance(4 * MS)), ['send']);
});

t.test('Master: higher priority -> Backup', async (t) => {
  const b = new Bench({ priority: 150 });
  b.start(); b.advance(40 * MS);
  t.equal(b.state, 'master');
  const r = b.receive({ source: '192.0.2.2', priority: 200 });
  // Then one advert at its own priority: the winner may not have heard of a second master (its
  // advert crossed ours after a partition), and this makes it announce again.
  t.same(kinds(r.actions), ['vipsDel', 'master->backup:higher_priority', 'send']);
  const sent = r.actions[2];
  t.equal(sent.kind === 'send' && sent.priority, 150, 'at its own priority');
  const later = [];
  for (let i = 0; i < 10; i++) { later.push(...b.advance(10 * MS)); b.receive({ source: '192.0.2.2', priority: 200 }); }
  t.same(later, [], 'then silent, as a backup is');
});

t.test('Master: equal priority, tie to the higher primary address', async (t) => {
  const b = new Bench({ priority: 150, primary: '192.0.2.5' });
  b.start(); b.advance(40 * MS);
  // Lower address (or lower priority): stays master, answers and announces again, so
  // neighbours that followed a brief second master come back (keepalived does the same).
  t.same(b.receive({ source: '192.0.2.4', priority: 150 }).actions, [], 'lower address: owed, not sent from the packet path');
  t.same(kinds(b.advance(0)), ['send', 'announce'], 'lower address: re-asserted by the advert timer');
  t.equal(b.state, 'master');
  b.advance(20 * MS);
  t.same(b.receive({ source: '192.0.2.3', priority: 120 }).actions, []);
  t.same(kinds(b.advance(0)), ['send', 'announce'], 'lower priority: re-asserted');
  t.equal(b.state, 'master');
  t.same(kinds(b.receive({ source: '192.0.2.6', priority: 150 }).actions), ['vipsDel', 'master->backup:higher_priority', 'send']);
});

t.test('Master: at most one answer per advert interval, however many adverts are queued', async (t) => {
  // A master resumed by SIGCONT reads 2 s of a lower-priority master's adverts at once, each
  // with its own (old) arrival time: it answers once per interval, not 200 times.
  const b = new Bench({ priority: 150 });
  b.start(); b.advance(40 * MS);
  const t0 = b.now;
  b.now = t0 + 2000 * MS;
  const bytes = advert(b.core, { source: '192.0.2.3', priority: 120, family: 4, vrid: 51, version: 3 });
  let inPacketPath = 0;
  for (let i = 0; i < 200; i++) {
    // Each with its kernel arrival time, 10 ms apart, all read now.
    t.equal(b.core.handleVrrp(t0 + i * 10 * MS, 1, 4, 255, parseAddress('192.0.2.3'), parseAddress('224.0.0.18'), bytes), 'none');
    inPacketPath += b.take().length;
  }
  t.equal(inPacketPath, 0, 'nothing sent from the packet path');
  const a = b.advance(0);
  t.same(kinds(a), ['send', 'announce'], 'one answer for the whole backlog');
  // More lower-priority adverts within the interval: the answer waits for the interval.
  b.advance(2 * MS);
  b.receive({ source: '192.0.2.3', priority: 120 });
  t.same(kinds(b.advance(7 * MS)), [], 'no second answer within the interval');
  const next = b.advance(1 * MS);
  t.same(kinds(next), ['send', 'announce'], 'the next one an interval after the first');
  t.equal(b.now - (t0 + 2000 * MS), 10 * MS);
  // Over 100 ms of adverts every 1 ms: at most 11 answers (one per 10 ms interval).
  let answers = 0;
  for (let i = 0; i < 100; i++) {
    b.receive({ source: '192.0.2.3', priority: 120 });
    answers += kinds(b.advance(1 * MS)).filter((k) => k === 'announce').length;
  }
  t.ok(answers <= 11 && answers >= 9, `${answers} answers in 100 ms`);
});

t.test('Master: an answer goes beside the advert cadence, not in its place', async (t) => {
  // A one-way partition: the other master's adverts reach us, ours do not reach it. When it
  // heals, it must hear of us after its own next advert (answered at once) or our next regular
  // one, whichever is first: the answer must not push the regular advert back.
  // The owner (255): Master at the start, its adverts exactly every 10 ms from there.
  const b = new Bench({ priority: 255 });
  b.start();
  t.same(kinds(b.advance(10 * MS)), ['send'], 'a regular advert');
  const phase = b.now;
  b.advance(3 * MS);
  t.same(b.receive({ source: '192.0.2.3', priority: 120 }).actions, [], 'owed, not sent from the packet path');
  t.same(kinds(b.advance(0)), ['send', 'announce'], 'answered at the next timer call');
  t.same(kinds(b.advance(6 * MS)), [], 'nothing more before the cadence');
  t.same(kinds(b.advance(1 * MS)), ['send'], 'the regular advert on its own cadence');
  t.equal(b.now - phase, 10 * MS, 'one interval after the last, as if no answer had gone');
  // Priority 0 (RFC 5798 §6.4.3): send, and the advert timer restarts from that advert.
  b.advance(4 * MS);
  b.receive({ source: '192.0.2.3', priority: 0 });
  t.same(kinds(b.advance(0)), ['send'], 'an advert for a priority 0');
  t.same(kinds(b.advance(9 * MS)), [], 'no advert at the old cadence');
  t.same(kinds(b.advance(1 * MS)), ['send'], 'an interval after the answer');
});

t.test('IPv6: tie compares 128-bit addresses; multicast to ff02::12', async (t) => {
  const b = new Bench({ family: 6, priority: 150, primary: 'fe80::5' });
  const a = b.start();
  t.same(kinds(a), ['init->backup:startup']);
  b.advance(40 * MS);
  t.equal(b.state, 'master');
  const send = b.advance(10 * MS).find((x) => x.kind === 'send');
  t.equal(send?.kind === 'send' && send.destination, 'ff02::12');
  t.same(b.receive({ source: 'fe80::4', priority: 150 }).actions, []);
  t.same(kinds(b.receive({ source: 'fe80::1:0', priority: 150 }).actions), ['vipsDel', 'master->backup:higher_priority', 'send']);
});

t.test('Unicast: one advert per peer, checksummed for each destination', async (t) => {
  const b = new Bench({ priority: 255, peers: ['192.0.2.2', '192.0.2.3'] });
  const sends = b.start().filter((a) => a.kind === 'send');
  t.same(sends.map((s) => s.kind === 'send' && s.destination), ['192.0.2.2', '192.0.2.3']);
  const [s1, s2] = sends;
  if (s1.kind !== 'send' || s2.kind !== 'send') throw new Error('unreachable');
  t.not(Buffer.from(s1.bytes).readUInt16BE(6), Buffer.from(s2.bytes).readUInt16BE(6), 'pseudo-header differs');
  const d = b.core.decodeBare(s2.bytes, 4, 255, '192.0.2.1', '192.0.2.3');
  t.equal(d.valid, true);
});

t.test('Receive checks that need the configuration', async (t) => {
  const b = new Bench({ priority: 100 });
  b.start();
  t.equal(b.receive({ source: '192.0.2.2', priority: 150, vrid: 52 }).drop, 'vrid_unknown');
  t.equal(b.receive({ source: '192.0.2.2', priority: 150, ifindex: 9 }).drop, 'vrid_unknown', 'same VRID, other interface');
  t.equal(b.receive({ source: '192.0.2.1', priority: 150 }).drop, 'own_packet');
  t.equal(b.receive({ source: '192.0.2.2', priority: 150, ttl: 254 }).drop, 'ttl');
  t.equal(b.receive({ source: '192.0.2.2', priority: 150, version: 2, advertInterval: 1 }).drop, 'version_mismatch');
  t.equal(b.receive({ source: '192.0.2.2', priority: 150, vips: ['192.0.2.99'] }).drop, 'none', 'address mismatch is logged, not dropped');
  t.equal(b.core.counter(b.slot, 'addressMismatch'), 1);
  // The TTL is checked once the instance is known (a unicast one may accept less): counted on it.
  t.same(b.core.drops(b.slot), { ttl: 1, own_packet: 1, version_mismatch: 1 });
  t.same(b.core.dropTotals(), { ttl: 1, vrid_unknown: 2, version_mismatch: 1, own_packet: 1 });
});

t.test('TTL / hop limit: 255 on the link; less only from a unicast instance\'s own peers', async (t) => {
  // keepalived's IPv6 unicast adverts leave with hop limit 64 unless it is told unicast_ttl 255.
  const multicast = new Bench({ priority: 100 });
  multicast.start();
  t.equal(multicast.receive({ source: '192.0.2.2', priority: 150, ttl: 64 }).drop, 'ttl', 'multicast: RFC 5798 §7.1');
  t.equal(multicast.core.state(multicast.slot), 'backup');
  const unicast = new Bench({ priority: 100, peers: ['192.0.2.2', '192.0.2.3'] });
  unicast.start();
  t.equal(unicast.receive({ source: '192.0.2.3', priority: 150, ttl: 64, destination: '192.0.2.1' }).drop, 'none', 'from a configured peer');
  t.equal(unicast.core.counter(unicast.slot, 'advertsReceived'), 1);
  t.equal(unicast.receive({ source: '192.0.2.9', priority: 150, ttl: 64, destination: '192.0.2.1' }).drop, 'ttl', 'from anyone else');
  t.equal(unicast.receive({ source: '192.0.2.9', priority: 150, destination: '192.0.2.1' }).drop, 'none', 'at 255, as before');
});

t.test('v2: auth and interval checks of RFC 3768 §7.1', async (t) => {
  const b = new Bench({ version: 2, advertIntervalCs: 100, auth: { type: 'pass', password: 's3cret' } });
  b.start();
  const ok = { source: '192.0.2.2', priority: 150, version: 2 as const, advertInterval: 1, authType: 1, authData: 's3cret' };
  t.equal(b.receive(ok).drop, 'none');
  t.equal(b.receive({ ...ok, authData: 'wrong' }).drop, 'auth_fail');
  t.equal(b.receive({ ...ok, authType: 0, authData: undefined }).drop, 'auth_mismatch');
  t.equal(b.receive({ ...ok, authType: 2 }).drop, 'auth_ah');
  t.equal(b.receive({ ...ok, advertInterval: 2 }).drop, 'interval_mismatch');
  t.same(b.core.drops(b.slot), { auth_fail: 1, auth_mismatch: 1, interval_mismatch: 1 });
  // Its own adverts carry the password.
  const master = new Bench({ version: 2, advertIntervalCs: 100, priority: 255, auth: { type: 'pass', password: 's3cret' } });
  const send = master.start().find((a) => a.kind === 'send');
  if (send?.kind !== 'send') throw new Error('no advert');
  const d = master.core.decodeBare(send.bytes, 4, 255, '192.0.2.1', '224.0.0.18');
  t.equal(d.valid, true);
  t.equal(d.authData, 's3cret');
  t.equal(d.advertInterval, 1);
});

t.test('Tracking: weights change the effective priority; weight 0 faults', async (t) => {
  const b = new Bench({ priority: 150 });
  b.start(); b.advance(40 * MS);
  t.equal(b.state, 'master');
  t.same(b.track(0, -60, true), []);
  t.equal(b.core.effectivePriority(b.slot), 90);
  const send = b.advance(10 * MS).find((a) => a.kind === 'send');
  t.equal(send?.kind === 'send' && send.priority, 90, 'adverts carry the effective priority');
  t.same(kinds(b.receive({ source: '192.0.2.2', priority: 100 }).actions), ['vipsDel', 'master->backup:higher_priority', 'send']);
  b.track(0, -60, false);
  t.equal(b.core.effectivePriority(b.slot), 150);
  // Clamped to 1..254: tracking never resigns nor makes an owner.
  b.track(1, -500 + 300, true); b.track(2, -200, true);
  t.equal(b.core.effectivePriority(b.slot), 1);
  b.track(1, 0, false); b.track(2, 0, false);
  // Fault from Master: priority 0 first, so the backup need not wait Master_Down_Interval.
  const m = new Bench({ priority: 255 });
  m.start();
  const f = m.track(3, 0, true);
  t.same(kinds(f), ['send', 'vipsDel', 'master->fault:fault']);
  t.equal(f[0].kind === 'send' && f[0].priority, 0);
  t.equal(m.core.pollTimeout(), Infinity, 'Fault sends nothing');
  t.same(m.receive({ source: '192.0.2.2', priority: 100 }).actions, [], 'Fault ignores adverts');
  m.advance(100 * MS);
  t.same(kinds(m.track(3, 0, false)), ['fault->master:fault_cleared', 'vipsAdd', 'send', 'announce']);
});

t.test('Fault at start, and from Backup', async (t) => {
  const b = new Bench({ priority: 100 });
  b.track(0, 0, true);
  t.same(kinds(b.start()), ['init->fault:fault']);
  t.same(kinds(b.track(0, 0, false)), ['fault->backup:fault_cleared']);
  t.same(kinds(b.track(0, 0, true)), ['backup->fault:fault']);
});

t.test('Availability observed from transitions', async (t) => {
  const b = new Bench({ priority: 100 });
  b.start();
  b.advance(900 * MS);
  b.track(0, 0, true);       // failure 1
  b.advance(100 * MS);
  b.track(0, 0, false);      // repair 1
  b.advance(1900 * MS);
  b.track(0, 0, true);       // failure 2
  b.advance(300 * MS);
  const o = b.core.observed(b.slot, b.now);
  t.equal(o.failures, 2);
  t.equal(o.repairs, 1);
  t.equal(o.upUs, 2800 * MS);
  t.equal(o.downUs, 400 * MS);
  t.equal(o.mttfUs, 1400 * MS);
  t.equal(o.mttrUs, 100 * MS, 'MTTR counts only faults that ended');
  t.equal(o.availability, 2800 / 3200);
});

t.test('Reconfigure while running: identity is refused, priority applies', async (t) => {
  const b = new Bench({ priority: 100 });
  b.start();
  t.equal(refusal(() => b.core.configure(b.slot, { ...b.cfg, vrid: 9 })), 'running');
  b.core.configure(b.slot, { ...b.cfg, priority: 120 });
  t.equal(b.core.effectivePriority(b.slot), 120);
  t.equal(b.state, 'backup', 'a reload does not blip the state');
  t.equal(refusal(() => b.core.addInstance({ ...b.cfg, vrid: 0 })), 'vrid');
  t.equal(refusal(() => b.core.addInstance({ ...b.cfg, version: 2, advertIntervalCs: 150 })), 'interval');
  t.equal(refusal(() => b.core.addInstance({ ...b.cfg, version: 2, family: 6 })), 'family');
  t.equal(refusal(() => b.core.addInstance({ ...b.cfg, vips: [] })), 'count');
});
