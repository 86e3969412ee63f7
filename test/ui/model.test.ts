// The status page's arithmetic (host/ui/model.ts): nines, the month's budget, rates, series.
import t from 'tap';
import { budget, duration, errorCode, fmtNines, matches, monthOf, nines, percent, progress, Rate, Series, si, sparkPoints, stateRank } from '../../host/ui/model.ts';

t.test('availability as percent and nines', async (t) => {
  t.equal(percent(1), '100 %');
  t.equal(percent(0.5), '50.00 %');
  t.equal(percent(0.999), '99.900 %');
  t.equal(percent(0.99999996), '99.999996 %');
  t.equal(percent(0.9999999999), '99.999999 %', 'never rounded up to 100 %');
  t.equal(percent(null), '–');
  t.equal(nines(1), Infinity);
  t.ok(Math.abs(nines(0.999)! - 3) < 1e-9);
  t.equal(fmtNines(nines(0.9995)), '3.3 nines');
  t.equal(fmtNines(Infinity), '∞ nines');
  t.equal(fmtNines(null), '–');
});

t.test('the month\'s downtime budget', async (t) => {
  t.same(monthOf(new Date('2026-02-10T12:00:00Z')), { start: Date.UTC(2026, 1, 1), seconds: 28 * 86400 });
  const now = new Date('2026-12-07T03:00:00Z');
  const b = budget(99.99, 20, '2026-12-01T00:00:00Z', now);
  t.ok(Math.abs(b.allowed - 267.84) < 1e-6, `99.99 % of 31 days is 267.84 s (${b.allowed})`);
  t.ok(Math.abs(b.left - 247.84) < 1e-6);
  t.equal(b.partial, false);
  t.equal(budget(99.9, 0, '2026-11-30T00:00:00Z', now).partial, true, 'an agent older than the month says its downtime may predate it');
  t.ok(budget(99.99, 300, '2026-12-01T00:00:00Z', now).left < 0, 'over budget is negative');
});

t.test('durations, rates, units', async (t) => {
  t.equal(duration(0.25), '250 ms');
  t.equal(duration(4.25), '4.3 s');
  t.equal(duration(267.84), '4 m 28 s');
  t.equal(duration(90061), '1 d 1 h');
  t.equal(duration(null), '–');
  const r = new Rate(10_000, 3000);
  t.equal(r.sample(0, 100), null, 'one value is no rate');
  t.equal(r.sample(500, 100), null, 'nor the same value again, soon');
  t.equal(r.sample(1000, 300), 200, 'a change: 200 over 1 s');
  t.equal(r.sample(1500, 300), 200, 'kept between the writer\'s updates (polls are faster)');
  t.equal(r.sample(2200, 500), 400 / 2.2, 'over the window, so one late poll moves it little');
  t.equal(r.sample(6200, 500), 400 / 6.2, 'quiet beyond 3 s: the quiet time counts');
  t.equal(r.sample(6700, 50), null, 'a counter reset starts again');
  t.equal(r.sample(6800, undefined), null);
  t.equal(si(1234, 'B'), '1.2 kB');
  t.equal(si(0), '0');
  t.equal(si(2.5e6), '2.5 M');
});

t.test('error codes, progress, sorting, filtering', async (t) => {
  t.equal(errorCode('connect: ECONNREFUSED'), 'ECONNREFUSED');
  t.equal(errorCode('status 503, expected 200'), '503');
  t.equal(errorCode('timed out after 80 ms'), 'TIMEOUT');
  t.equal(errorCode(null), null);
  const c = { name: 'x', type: 'tcp', target: '', state: 'up', up: true, error: null, latencyMs: 1, rounds: 5, failures: 1, since: null, trackedBy: [] };
  t.equal(progress(c), null, 'no progress without rise/fall in /status');
  t.same(progress({ ...c, run: { ok: 0, fail: 1, rise: 2, fall: 3 } }), { text: '1/3 failed, down at 3', done: 1, of: 3 });
  t.same(progress({ ...c, up: false, run: { ok: 1, fail: 0, rise: 2, fall: 3 } }), { text: '1/2 passed, up at 2', done: 1, of: 2 });
  t.same(progress({ ...c, up: false, run: { ok: 0, fail: 7, rise: 2, fall: 3 } }), { text: 'failing, up after 2 passed', done: 0, of: 2 });
  t.same(['master', 'fault', 'backup', 'init'].sort((a, b) => stateRank(a) - stateRank(b)), ['fault', 'init', 'backup', 'master']);
  t.ok(matches('web DOWN', 'web http down'));
  t.notOk(matches('web up', 'web http down'));
});

t.test('a series keeps its window and draws in its box', async (t) => {
  const s = new Series(1000, 3);
  for (const [at, v] of [[0, 1], [500, 2], [900, 4], [1600, 2]]) s.push(at, v);
  t.same(s.t, [900, 1600], 'older than 1 s dropped');
  const more = new Series(10_000, 3);
  for (let i = 0; i < 5; i++) more.push(i, i);
  t.same(more.v, [2, 3, 4], 'at most 3');
  t.equal(sparkPoints(more, 4, 4, 100, 21), '50.0,10.5 75.0,5.8 100.0,1.0');
});
