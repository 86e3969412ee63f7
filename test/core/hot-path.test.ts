// The core's entry points for the engine's per-wake-up path: the timeout that answers with the
// next deadline, and timers of started instances only (in whatever slot).
import t from 'tap';
import { Core, type InstanceConfig } from '../../host/core/core.ts';
import { Bench, MS } from '../helpers/single.ts';

const cfg = (vrid: number, priority = 100): InstanceConfig => ({
  ifindex: 1, vrid, version: 3, family: 4, priority, advertIntervalCs: 1, preempt: true,
  primary: '192.0.2.1', vips: ['192.0.2.100'],
});

t.test('handleTimeout answers with the next deadline, the one pollTimeout gives', async (t) => {
  const b = new Bench({ priority: 255 });
  b.start();
  t.equal(b.core.pollTimeout(), 10 * MS, 'Adver_Timer one interval on');
  const next = b.core.handleTimeout(10 * MS);
  t.equal(next, 20 * MS, 'the next advert, from the same call');
  t.equal(next, b.core.pollTimeout());
  t.same(b.take().map((a) => a.kind), ['send']);
  b.stop();
  t.equal(b.core.handleTimeout(30 * MS), Infinity, 'nothing started: no deadline');
});

t.test('timers of started instances fire whatever their slot; stopped ones are not walked', async (t) => {
  const core = new Core();
  const slots: number[] = [];
  for (let v = 1; v <= 200; v++) slots.push(core.addInstance(cfg(v)));
  const high = slots[199]!, low = slots[3]!;
  t.ok(high > 150, `a high slot (${high})`);
  core.start(high, 0);
  core.takeActions();
  const mdi = core.masterDownIntervalUs(high);
  t.equal(core.pollTimeout(), mdi, 'its Master_Down_Timer is the deadline');
  core.start(low, 5 * MS);
  core.takeActions();
  t.equal(core.pollTimeout(), mdi, 'the earlier of the two');
  t.equal(core.handleTimeout(mdi), 5 * MS + mdi, 'the high slot took over; the low one is next');
  t.equal(core.state(high), 'master');
  t.equal(core.state(low), 'backup');
  core.takeActions();
  core.stop(low, mdi);
  core.takeActions();
  t.equal(core.pollTimeout(), mdi + 10 * MS, 'the stopped one leaves no deadline');
  core.remove(high, mdi);
  core.takeActions();
  t.equal(core.pollTimeout(), Infinity, 'a removed one neither');
  // A slot freed and allocated again starts from nothing.
  const again = core.addInstance(cfg(250));
  t.equal(core.pollTimeout(), Infinity, 'a new instance is not started');
  core.start(again, mdi);
  t.equal(core.pollTimeout(), mdi + core.masterDownIntervalUs(again));
});
