// Two vigil agents in namespaces on a bridge: one master, the VIP on exactly one box, and the
// VIP moving when the master's link is cut or it stops.
import t from 'tap';
import { skipReason, nsExec } from '../net/netns.ts';
import { holders, until, lab } from '../helpers/agents.ts';

const skip = skipReason();
const VIP = '192.0.2.100';

t.test('two agents: election, link cut, recovery, SIGTERM', { skip }, async (t) => {
  const l = lab(t, 'vag2-');
  const [a, b] = l.hosts;
  const ns = l.ns;
  // A first: a process takes a while to start, and B alone would rightly become master.
  const pa = l.vigil(a, 'a.yaml', { priority: 150 });
  await pa.waitLine(/"to":"master"/, 10_000);
  const pb = l.vigil(b, 'b.yaml', { priority: 100 });
  await pb.waitLine(/"to":"backup"/, 10_000);
  await until(() => holders(ns, VIP).length === 1 && holders(ns, VIP)[0] === a.ns, 2000, 'A to hold the VIP');
  // Steady: no flapping for a while.
  await new Promise((r) => setTimeout(r, 300));
  t.same(holders(ns, VIP), [a.ns], 'exactly one box holds the VIP');
  t.notOk(pb.lines.some((l) => /"to":"master"/.test(l)), 'B never became master');

  // Cut A's link: A faults (its own interface is tracked), B takes over.
  nsExec(a.ns, 'ip', 'link', 'set', 'eth0', 'down');
  const took = await until(() => holders([b.ns], VIP).length === 1, 2000, 'B to hold the VIP');
  t.ok(took < 1000, `B holds the VIP ${took.toFixed(1)} ms after the cut (timing: make bench)`);
  await pa.waitLine(/"to":"fault"/, 1000);
  t.same(holders(ns, VIP), [b.ns], 'A released the VIP on fault');

  // Link back: A preempts (priority 150 > 100).
  nsExec(a.ns, 'ip', 'link', 'set', 'eth0', 'up');
  await until(() => holders(ns, VIP).length === 1 && holders(ns, VIP)[0] === a.ns, 3000, 'A to take the VIP back');
  t.pass('A took the VIP back after its link came up');

  // SIGTERM A: priority 0, B takes over at once, A leaves nothing behind.
  const t0 = performance.now();
  const code = await pa.stop();
  t.equal(code, 0, 'A exited 0');
  await until(() => holders([b.ns], VIP).length === 1, 1000, 'B to take over after SIGTERM');
  t.ok(performance.now() - t0 < 1000, 'takeover after SIGTERM within a second');
  t.same(holders([a.ns], VIP), [], 'no VIP left on A');
  t.ok(pb.lines.some((l) => /"reason":"master_down"/.test(l)), 'B took over by Master_Down (skew after priority 0)');
});
