// Memory pressure on the master's checker (checker-pressure.ts): moved into a memory cgroup of
// its own, 8 MiB of room, a hog beside it for 3 s. The OOM killer takes the larger (here the
// checker, 31-64 MiB of RSS): the supervisor restarts it, outside that cgroup. Whatever happens
// to the checker, the engine's adverts go on (no gap over 3 advert intervals), the VIP stays on
// the master, and the check does not flap (a false failure would drop the master to 90, under
// the backup's 100).
import t from 'tap';
import { skipReason } from '../net/netns.ts';
import { needTools } from '../helpers/tools.ts';
import { VIP } from './harness.ts';
import { checkedPair, checkerPressure } from './checker-pressure.ts';
import { ownMemcg } from './memcg.ts';

const cg = ownMemcg();
const skip = skipReason() ?? needTools('curl', 'python3', 'chrt') ?? ('skip' in cg ? cg.skip : undefined);

t.test('the checker squeezed for memory: VRRP and the check unaffected', { skip, timeout: 90_000 }, async (t) => {
  const cp = await checkedPair(t, 'vchm-');
  const r = await checkerPressure(t, cp, (cg as { dir: string }).dir, 3000);
  t.comment(`checker RSS ${r.rssMiB.toFixed(1)} MiB, its cgroup ${r.usageMiB.toFixed(1)} MiB, limit ${r.limitMiB.toFixed(1)} MiB; OOM kills ${r.oomKills} (hogs ${r.hogsKilled}), ` +
    `the checker ${r.deaths.join(', ') || 'lived'}; check rounds' longest gap ${r.roundGapMs.toFixed(0)} ms`);
  t.ok(r.failcnt > 0, `the cgroup's limit was hit (${r.failcnt} times): there was pressure`);
  t.ok(r.advertGapMs <= 30, `A's longest advert gap ${r.advertGapMs.toFixed(1)} ms (${r.advertsInWindow} adverts in ${r.windowMs.toFixed(0)} ms)`);
  t.equal(r.vipMoves, 0, 'no VIP move');
  t.equal(r.transitions, 0, 'no state change on either router');
  t.equal(r.checkFlips, 0, 'the check did not flap in the engine');
  t.equal(r.checkState, 'up', 'the check is up');
  t.equal(r.priorityAfter, r.priorityBefore, `A's priority still ${r.priorityBefore}`);
  t.equal(r.checkerRestarts, r.checkerKilled, 'a checker that died was restarted by the supervisor');
  t.ok(r.checkerRunning, 'a checker runs at the end');
  t.same(r.holders, [cp.a.ns], `A alone holds ${VIP}`);
});
