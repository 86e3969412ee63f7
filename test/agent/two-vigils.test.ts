// Two vigil agents in namespaces on a bridge: one master, the VIP on exactly one box, and the
// VIP moving when the master's link is cut or it stops; /status keeps the transitions and the
// availability each box observed.
import t, { type Test } from 'tap';
import { skipReason, nsExec } from '../net/netns.ts';
import { addressMonitor, holders, until, lab } from '../helpers/agents.ts';

const skip = skipReason();
const VIP = '192.0.2.100';

// GET /status inside a namespace (the agent listens on that namespace's 127.0.0.1:9110).
interface Transition { at: string; from: string; to: string; reason: string; why: string }
interface Instance {
  state: string; counters: Record<string, number>; transitions: Transition[];
  availability: { upSeconds: number; downSeconds: number; failures: number; repairs: number;
    mttfSeconds: number | null; mttrSeconds: number | null; availability: number | null };
}
function status(ns: string): Instance {
  const s = JSON.parse(nsExec(ns, 'curl', '-sf', '--max-time', '3', 'http://127.0.0.1:9110/status'));
  return s.instances[0];
}

const STATES = ['init', 'backup', 'master', 'fault'];
// Every entry has from, to, reason and an ISO time; each starts where the previous one ended,
// and the times never go back.
function checkTransitions(t: Test, who: string, tr: Transition[], since: number): void {
  t.ok(tr.length >= 2, `${who}: ${tr.length} transitions: ${tr.map((x) => `${x.from}->${x.to} (${x.reason})`).join(', ')}`);
  let prev = since;
  tr.forEach((x, i) => {
    const at = Date.parse(x.at);
    t.ok(STATES.includes(x.from) && STATES.includes(x.to) && x.from !== x.to, `${who} #${i}: ${x.from} -> ${x.to}`);
    t.ok(typeof x.reason === 'string' && x.reason !== 'none' && typeof x.why === 'string' && x.why.length > 0, `${who} #${i}: reason ${x.reason} (${x.why})`);
    t.ok(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(x.at) && at >= prev && at <= Date.now(), `${who} #${i}: at ${x.at}, not before the one before`);
    if (i > 0) t.equal(x.from, tr[i - 1].to, `${who} #${i}: starts where #${i - 1} ended`);
    prev = at;
  });
}


t.test('two agents: election, link cut, recovery, SIGTERM', { skip }, async (t) => {
  const l = lab(t, 'vag2-');
  const [a, b] = l.hosts;
  const ns = l.ns;
  const startedAt = Date.now();
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
  const cutAt = Date.now();
  nsExec(a.ns, 'ip', 'link', 'set', 'eth0', 'down');
  const took = await until(() => holders([b.ns], VIP).length === 1, 2000, 'B to hold the VIP');
  t.ok(took < 1000, `B holds the VIP ${took.toFixed(1)} ms after the cut (timing: make bench)`);
  await pa.waitLine(/"to":"fault"/, 1000);
  t.same(holders(ns, VIP), [b.ns], 'A released the VIP on fault');

  // /status on the new master: it took over by Master_Down_Timer, after the cut.
  const b1 = status(b.ns);
  t.equal(b1.state, 'master', 'B: master in /status');
  checkTransitions(t, 'B after the cut', b1.transitions, startedAt);
  t.match(b1.transitions.at(-1), { from: 'backup', to: 'master', reason: 'master_down' }, 'B: last transition backup -> master by master_down');
  t.ok(Date.parse(b1.transitions.at(-1)!.at) >= cutAt - 1, 'B: at or after the cut');
  // And on the old one: faulted.
  const a1 = status(a.ns);
  t.equal(a1.state, 'fault', 'A: fault in /status');
  t.match(a1.transitions.at(-1), { from: 'master', to: 'fault', reason: 'fault' }, 'A: last transition master -> fault');
  t.ok(Date.parse(a1.transitions.at(-1)!.at) >= cutAt - 1, 'A: at or after the cut');
  t.equal(a1.availability.failures, 1, 'A: one failure');

  // Link back: A preempts (priority 150 > 100).
  const upAt = Date.now();
  nsExec(a.ns, 'ip', 'link', 'set', 'eth0', 'up');
  await until(() => holders(ns, VIP).length === 1 && holders(ns, VIP)[0] === a.ns, 3000, 'A to take the VIP back');
  t.pass('A took the VIP back after its link came up');

  // A lost mastership (fault) and regained it: its transitions say so, and its observed
  // availability counts the time in fault.
  await until(() => status(a.ns).state === 'master' && status(b.ns).state === 'backup', 2000, '/status to show A master, B backup');
  const a2 = status(a.ns);
  checkTransitions(t, 'A after the repair', a2.transitions, startedAt);
  const tail = a2.transitions.slice(-3).map(({ from, to, reason }) => ({ from, to, reason }));
  // Out of fault as at startup (backup, priority < 255), then B's lower-priority adverts are
  // discarded (preempt) and Master_Down_Timer runs out (RFC 5798 6.4.2).
  t.same(tail, [
    { from: 'master', to: 'fault', reason: 'fault' },
    { from: 'fault', to: 'backup', reason: 'fault_cleared' },
    { from: 'backup', to: 'master', reason: 'master_down' },
  ], 'A: master -> fault -> backup -> master, with the reasons');
  t.ok(Date.parse(a2.transitions.at(-2)!.at) >= upAt - 1, 'A: out of fault after the link came up');
  const av = a2.availability;
  t.equal(av.failures, 1, 'A: one failure');
  t.equal(av.repairs, 1, 'A: one repair');
  t.ok(typeof av.mttfSeconds === 'number' && av.mttfSeconds > 0, `A: MTTF ${av.mttfSeconds} s`);
  t.ok(typeof av.mttrSeconds === 'number' && av.mttrSeconds > 0 && av.mttrSeconds < (Date.now() - cutAt) / 1000, `A: MTTR ${av.mttrSeconds} s, within the time since the cut`);
  t.ok(typeof av.availability === 'number' && av.availability > 0 && av.availability < 1, `A: availability ${av.availability} < 1`);
  t.ok(Math.abs(av.availability! - av.upSeconds / (av.upSeconds + av.downSeconds)) < 1e-9, 'A: availability = up / (up + down)');
  t.ok(Math.abs(av.mttrSeconds! - av.downSeconds) < 0.05, `A: MTTR ${av.mttrSeconds} s is its one time in fault (${av.downSeconds} s)`);
  // B never faulted: always up.
  const b2 = status(b.ns);
  t.match(b2.transitions.at(-1), { from: 'master', to: 'backup', reason: 'higher_priority' }, 'B: back to backup on A\'s higher-priority advert');
  t.match(b2.availability, { failures: 0, repairs: 0, mttfSeconds: null, mttrSeconds: null, availability: 1 }, 'B: no failure, availability 1');

  // SIGTERM A: priority 0, B takes over after Skew_Time (RFC 5798 6.4.2: on a priority-0
  // advert a backup sets Master_Down_Timer to Skew_Time), not after Master_Down_Interval.
  const monA = await addressMonitor(t, a.ns, VIP, '203.0.113.1');
  const monB = await addressMonitor(t, b.ns, VIP, '203.0.113.2');
  const prio0Before = status(b.ns).counters.prio0Received;
  const code = await pa.stop();
  t.equal(code, 0, 'A exited 0');
  await until(() => holders([b.ns], VIP).length === 1, 1000, 'B to take over after SIGTERM');
  t.same(holders([a.ns], VIP), [], 'no VIP left on A');
  await until(() => monA.deleted() !== undefined && monB.added() !== undefined, 2000, 'the monitors to report the move');
  // A's engine sends the priority-0 advert and then deletes its VIP, in the same turn: A's
  // delete stands for the advert. B (priority 100, 10 ms adverts):
  const interval = 10, priorityB = 100;
  const skew = (256 - priorityB) * interval / 256;        // 6.09 ms
  const mdi = 3 * interval + skew;                           // 36.09 ms
  // Margin: 3 ms for the two monitors' stamps (see addressMonitor) and B's own turn from the
  // timer to the netlink add. Without the priority 0, B would wait for Master_Down_Timer: at
  // least Master_Down_Interval - one interval (26 ms) after A's last advert.
  const MARGIN_MS = 3;
  const takeover = monB.added()! - monA.deleted()!;
  t.ok(takeover <= skew + MARGIN_MS,
    `B added the VIP ${takeover.toFixed(2)} ms after A deleted its own: within Skew_Time ${skew.toFixed(2)} ms + ${MARGIN_MS} ms (Master_Down_Interval ${mdi.toFixed(2)} ms)`);
  const b3 = status(b.ns);
  t.equal(b3.counters.prio0Received, prio0Before + 1, 'B counted the priority-0 advert');
  // No reason of its own for a priority 0: the Master_Down_Timer, set to Skew_Time, ran out.
  t.match(b3.transitions.at(-1), { from: 'backup', to: 'master', reason: 'master_down' }, 'B: backup -> master by master_down (Skew_Time after priority 0)');
  t.ok(pb.lines.some((l) => /"reason":"master_down"/.test(l)), 'B logged it');
});
