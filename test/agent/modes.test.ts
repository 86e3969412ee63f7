// Two vigil agents in each mode the product promises: unicast, IPv6 (adverts from the
// link-local), v2 with PASS auth (a wrong password dropped and counted), nopreempt, and equal
// priorities resolved by the higher address.
import t from 'tap';
import { skipReason, nsExec } from '../net/netns.ts';
import { needTools } from '../helpers/tools.ts';
import { agentStatus, holders, until, vigilConfig, lab } from '../helpers/agents.ts';

const skip = skipReason() ?? needTools('ping');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setup(t: { teardown(fn: () => unknown): void }, prefix: string) {
  const l = lab(t, prefix);
  const [a, b] = l.hosts;
  const start = (ns: string, name: string, cfg: Parameters<typeof vigilConfig>[0]) => l.vigil(ns === a.ns ? a : b, name, cfg);
  return { topo: l.topo, a, b, ns: l.ns, start, work: l.work };
}

function status(ns: string) {
  return agentStatus(ns).instances[0];
}

t.test('unicast: adverts go to the peer only, and the VIP moves', { skip }, async (t) => {
  const s = setup(t, 'vagmu-');
  const pa = s.start(s.a.ns, 'a.yaml', { priority: 150, interval: '50ms', peers: [s.b.v4] });
  await pa.waitLine(/"to":"master"/, 10_000);
  const pb = s.start(s.b.ns, 'b.yaml', { priority: 100, interval: '50ms', peers: [s.a.v4] });
  await pb.waitLine(/"to":"backup"/, 10_000);
  await sleep(400);
  t.same(holders(s.ns, '192.0.2.100'), [s.a.ns]);
  t.ok(status(s.b.ns).counters.advertsReceived > 3, 'B receives A\'s unicast adverts');
  nsExec(s.a.ns, 'ip', 'link', 'set', 'eth0', 'down');
  await until(() => holders([s.b.ns], '192.0.2.100').length === 1, 2000, 'B to take over');
  t.pass('failover over unicast');
});

t.test('IPv6: adverts from the link-local, VIP moves', { skip }, async (t) => {
  const s = setup(t, 'vagm6-');
  const [llA] = await s.topo.linkLocals();
  const vip = '2001:db8::100';
  const cfg = { family: 6 as const, interval: '50ms', vips: ['2001:db8::100/64'] };
  const pa = s.start(s.a.ns, 'a.yaml', { ...cfg, priority: 150 });
  await pa.waitLine(/"to":"master"/, 10_000);
  const pb = s.start(s.b.ns, 'b.yaml', { ...cfg, priority: 100 });
  await pb.waitLine(/"to":"backup"/, 10_000);
  await sleep(400);
  t.same(holders(s.ns, vip), [s.a.ns]);
  t.equal(status(s.b.ns).masterAddress, llA, 'the master is known by its link-local address (RFC 5798 §5.1.2.2)');
  nsExec(s.a.ns, 'ip', 'link', 'set', 'eth0', 'down');
  await until(() => holders([s.b.ns], vip).length === 1, 2000, 'B to take over the IPv6 VIP');
  t.pass('IPv6 failover');
});

t.test('v2 PASS auth: a wrong password is dropped and counted', { skip }, async (t) => {
  const s = setup(t, 'vagm2-');
  const pa = s.start(s.a.ns, 'a.yaml', { priority: 150, version: 2, interval: '1s', auth: 'right' });
  await pa.waitLine(/"to":"master"/, 10_000);
  const pb = s.start(s.b.ns, 'b.yaml', { priority: 100, version: 2, interval: '1s', auth: 'wrong' });
  await pb.waitLine(/"to":"backup"/, 10_000);
  // B cannot authenticate A, so after Master_Down_Interval (3.6 s) it becomes master too.
  await pb.waitLine(/"to":"master"/, 6000);
  const sb = status(s.b.ns);
  t.ok((sb.drops.auth_fail ?? 0) >= 2, `auth_fail drops counted: ${JSON.stringify(sb.drops)}`);
  t.equal(sb.counters.advertsReceived, 0, 'nothing accepted from the wrong password');
});

t.test('nopreempt: a higher priority joining later does not take over', { skip }, async (t) => {
  const s = setup(t, 'vagmn-');
  const pb = s.start(s.b.ns, 'b.yaml', { priority: 100, interval: '50ms' });
  await pb.waitLine(/"to":"master"/, 10_000);
  const pa = s.start(s.a.ns, 'a.yaml', { priority: 150, interval: '50ms', preempt: false });
  await pa.waitLine(/"to":"backup"/, 10_000);
  await sleep(1000);
  t.same(holders(s.ns, '192.0.2.100'), [s.b.ns], 'the lower-priority master keeps the VIP');
  t.notOk(pa.lines.some((l) => /"to":"master"/.test(l)));
});

t.test('equal priorities: the higher primary address wins', { skip }, async (t) => {
  const s = setup(t, 'vageq-');
  // Start the lower address first so that it is master when the other arrives.
  const pa = s.start(s.a.ns, 'a.yaml', { priority: 120, interval: '50ms' });
  await pa.waitLine(/"to":"master"/, 10_000);
  const pb = s.start(s.b.ns, 'b.yaml', { priority: 120, interval: '50ms' });
  await pb.waitLine(/"to":"backup"/, 10_000);
  // B (192.0.2.11) is a backup at equal priority: it holds back while A speaks (RFC 5798
  // §6.4.2). Cut A and restore it: now both meet as masters and the higher address stays.
  nsExec(s.a.ns, 'ip', 'link', 'set', 'eth0', 'down');
  await until(() => holders([s.b.ns], '192.0.2.100').length === 1, 2000, 'B to take over');
  nsExec(s.a.ns, 'ip', 'link', 'set', 'eth0', 'up');
  await sleep(1000);
  t.same(holders(s.ns, '192.0.2.100'), [s.b.ns], 'B (higher address) stays master, A stays backup');
  t.equal(status(s.a.ns).state, 'backup');
});

t.test('VMAC: the VIP lives on a macvlan with the virtual MAC, moves, and is gone at SIGTERM', { skip }, async (t) => {
  const l = lab(t, 'vagmm-', ['a', 'b', 'c']);
  const [a, b, c] = l.hosts;
  const vmacHolders = () => l.ns.slice(0, 2).filter((ns) => {
    try {
      const j = JSON.parse(nsExec(ns, 'ip', '-j', 'addr', 'show', 'dev', 'vrrp.51'));
      return j[0].addr_info.some((x: { local: string }) => x.local === '192.0.2.100');
    } catch { return false; }
  });
  const pa = l.vigil(a, 'a.yaml', { priority: 150, interval: '50ms', extra: '    vmac: true' });
  await pa.waitLine(/"to":"master"/, 10_000);
  const pb = l.vigil(b, 'b.yaml', { priority: 100, interval: '50ms', extra: '    vmac: true' });
  await pb.waitLine(/"to":"backup"/, 10_000);
  await until(() => vmacHolders().join() === a.ns, 2000, 'A to hold the VIP on vrrp.51');
  const link = JSON.parse(nsExec(a.ns, 'ip', '-j', '-d', 'link', 'show', 'vrrp.51'))[0];
  t.equal(link.address, '00:00:5e:00:01:33', 'RFC 5798 §7.3 virtual MAC for VRID 51');
  t.equal(link.linkinfo?.info_kind, 'macvlan');
  // A client resolves the VIP to the virtual MAC, whoever is master.
  nsExec(c.ns, 'ping', '-c', '1', '-W', '1', '192.0.2.100');
  const neigh = () => JSON.parse(nsExec(c.ns, 'ip', '-j', 'neigh', 'show', '192.0.2.100'))[0]?.lladdr;
  t.equal(neigh(), '00:00:5e:00:01:33', `client resolves the VIP to ${neigh()} (A's eth0 is ${a.mac})`);
  nsExec(a.ns, 'ip', 'link', 'set', 'eth0', 'down');
  await until(() => vmacHolders().join() === b.ns, 3000, 'B to hold the VIP on its vrrp.51');
  nsExec(c.ns, 'ping', '-c', '1', '-W', '1', '192.0.2.100');
  t.equal(neigh(), '00:00:5e:00:01:33', 'the client\'s cache needs no update: same MAC');
  t.equal(await pb.stop(), 0);
  t.throws(() => nsExec(b.ns, 'ip', 'link', 'show', 'vrrp.51'), 'SIGTERM removed the VMAC');
});

t.test('tracking and sync groups: a tracked interface going down moves the whole group', { skip }, async (t) => {
  const l = lab(t, 'vagmg-');
  const [a, b] = l.hosts;
  // A second interface on A to track: a veth pair whose far end we can take down.
  nsExec(a.ns, 'ip', 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up1');
  nsExec(a.ns, 'ip', 'link', 'set', 'up0', 'up');
  nsExec(a.ns, 'ip', 'link', 'set', 'up1', 'up');
  const two = (priority: number, track: boolean) => `instances:
  - name: VI_1
    interface: eth0
    vrid: 51
    priority: ${priority}
    advertInterval: 50ms
    virtualAddresses: [192.0.2.100/24]
${track ? '    track: { interfaces: [{ name: up0, weight: 0 }, { name: up1, weight: -20 }] }\n' : ''}  - name: VI_2
    interface: eth0
    vrid: 52
    priority: ${priority}
    advertInterval: 50ms
    virtualAddresses: [192.0.2.200/24]
syncGroups: [{ name: G1, instances: [VI_1, VI_2] }]
realtime: false
`;
  const pa = l.vigilFile(a, l.work.file('a.yaml', two(150, true)));
  await until(() => pa.lines.filter((x) => /"to":"master"/.test(x)).length === 2, 10_000, 'A master of both');
  const pb = l.vigilFile(b, l.work.file('b.yaml', two(100, false)));
  await until(() => pb.lines.filter((x) => /"to":"backup"/.test(x)).length === 2, 10_000, 'B backup of both');
  await sleep(300);
  t.same([holders(l.ns, '192.0.2.100'), holders(l.ns, '192.0.2.200')], [[a.ns], [a.ns]]);
  // up1 down takes up0's carrier: VI_1 faults (weight 0), and VI_2 follows through the group.
  nsExec(a.ns, 'ip', 'link', 'set', 'up1', 'down');
  await until(() => holders(l.ns, '192.0.2.100').join() === b.ns && holders(l.ns, '192.0.2.200').join() === b.ns, 3000, 'B to hold both VIPs');
  await pa.waitLine(/"instance":"VI_2","from":"master","to":"fault","reason":"sync_group"/, 2000);
  t.pass('VI_2 faulted with the group');
  nsExec(a.ns, 'ip', 'link', 'set', 'up1', 'up');
  await until(() => holders(l.ns, '192.0.2.100').join() === a.ns && holders(l.ns, '192.0.2.200').join() === a.ns, 3000, 'A to take both back');
  t.pass('the group recovered and preempted back together');
});
