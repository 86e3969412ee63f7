// The master's engine stopped for 2 s (SIGSTOP), then resumed: B took over meanwhile, and A
// reads 2 s of B's adverts at once. It used to answer each of them (169-191 adverts and 185-200
// gratuitous ARPs within 50 ms); now at most one answer per advert interval, counted on the
// wire. Then: A alone holds the VIP within one Master_Down_Interval, the client back on A's MAC.
import t from 'tap';
import { skipReason } from '../net/netns.ts';
import { needTools } from '../helpers/tools.ts';
import { holders } from '../helpers/agents.ts';
import { Capture } from '../net/capture.ts';
import { pair, waitHolder, clientOn, macOf, mdiMs, vipEvents, enginePid, VIP } from './harness.ts';

const skip = skipReason() ?? needTools('nft', 'tcpdump', 'tshark');

t.test('SIGSTOP 2 s, then SIGCONT: no burst, back to A', { skip, timeout: 60_000 }, async (t) => {
  const p = await pair(t, 'vcs-', ['vigil', 'vigil']);
  const macA = macOf(p.a.ns);
  const onB = await vipEvents(t, p.b.ns);
  const cap = await Capture.start(p.c.ns, 'eth0', 'vrrp or arp');
  t.teardown(() => cap.dispose());
  const engine = enginePid(p.pa.child.pid!);
  process.kill(engine, 'SIGSTOP');
  t.teardown(() => { try { process.kill(engine, 'SIGCONT'); } catch { /* gone */ } });
  await new Promise((r) => setTimeout(r, 2000));
  t.same(holders(p.routers, VIP).sort(), [p.a.ns, p.b.ns].sort(), 'B took over while A was stopped (A kept its VIP: it could do nothing)');
  const contAt = Date.now();
  process.kill(engine, 'SIGCONT');
  await waitHolder(p.routers, p.a.ns, 2000);
  const dual = (await onB.next(true, contAt, 1000)) - contAt;
  t.ok(dual < mdiMs(100) + 15, `dual master ${dual.toFixed(1)} ms after SIGCONT (Master_Down_Interval ${mdiMs(100).toFixed(1)} ms)`);
  t.ok(await clientOn(p.c.ns, macA, 1000) < Infinity, 'the client back on A\'s MAC within 1 s');
  await new Promise((r) => setTimeout(r, 500));
  await cap.stop();
  t.same(holders(p.routers, VIP), [p.a.ns], 'A alone holds the VIP');

  // A's frames after SIGCONT, by A's MAC.
  const rows = cap.fields('frame.time_epoch', 'eth.src', 'frame.protocols')
    .map(([at, src, protos]) => ({ at: Number(at) * 1000, src, arp: /arp/.test(protos!), vrrp: /vrrp/.test(protos!) }))
    .filter((r) => r.src === macA && r.at >= contAt - 5);
  t.ok(rows.length > 0, `${rows.length} frames from A after SIGCONT`);
  const first = rows[0]!.at;
  const within = (ms: number, f: (r: typeof rows[number]) => boolean) => rows.filter((r) => r.at < first + ms && f(r)).length;
  const adverts50 = within(50, (r) => r.vrrp), garps50 = within(50, (r) => r.arp);
  const adverts100 = within(100, (r) => r.vrrp);
  t.comment(`A's first 50 ms after SIGCONT: ${adverts50} adverts, ${garps50} gratuitous ARPs; first 100 ms: ${adverts100} adverts`);
  // 10 ms adverts: 5 regular in 50 ms, and at most one answer (advert + announce: 5 ARPs at 10 ms
  // by default) per interval; the backlog alone earns one.
  t.ok(adverts50 <= 12, `at most one answer per interval: ${adverts50} adverts in 50 ms (was 169-191)`);
  t.ok(adverts100 <= 22, `${adverts100} adverts in 100 ms`);
  t.ok(garps50 <= 10, `${garps50} gratuitous ARPs in 50 ms (was 185-200)`);
  // No 10 ms window with more than 2 adverts (a regular one and an answer).
  const adv = rows.filter((r) => r.vrrp).map((r) => r.at);
  let worst = 0;
  for (let i = 0; i < adv.length; i++) worst = Math.max(worst, adv.filter((x) => x >= adv[i]! && x < adv[i]! + 10).length);
  t.ok(worst <= 3, `at most ${worst} adverts in any 10 ms`);
});
