// Whole engine states (host/agent/engine-state.ts) on a virtual-clock LAN: the engine's own
// decisions around the core (tracks, checks, sync groups, VIPs, hooks, reloads, stop) proved
// without root, sockets or namespaces, in well under a second of real time per case.
import t from 'tap';
import { EngineLan, instanceYaml, MS } from '../helpers/engine-lan.ts';

const cfg = (...instances: string[]) => `instances:\n${instances.join('\n')}\n`;

function pair(pa = 150, pb = 100, extra: { a?: object; b?: object } = {}) {
  const lan = new EngineLan();
  const a = lan.add('a'), b = lan.add('b');
  a.boot(cfg(instanceYaml({ priority: pa, ...extra.a })));
  b.boot(cfg(instanceYaml({ priority: pb, ...extra.b })));
  lan.runFor(200 * MS);
  return { lan, a, b };
}

t.test('election: the higher priority is master and alone holds the VIP; hooks and logs follow', async (t) => {
  const { lan, a, b } = pair(150, 100, { a: { notify: true }, b: { notify: true } });
  t.same(lan.masters('VI_1'), ['a']);
  t.same(lan.holders('VI_1'), ['a']);
  t.equal(b.sent, 0, 'the backup never advertised');
  t.ok(a.announced >= 1, 'the master announced its VIP');
  t.same(a.notified.map((n) => `${n.previous}->${n.state} ${n.hook}`), ['init->backup /bin/false', 'backup->master /bin/true']);
  t.same(b.notified.map((n) => n.state), ['backup']);
  t.match(a.logs.at(-1), /backup -> master \(Master_Down_Timer expired\)/);
  const r = a.state.router('VI_1')!;
  t.equal(r.transitions.length, 2, 'the transitions are recorded');
  t.match(r.transitions[1], { from: 'backup', to: 'master', reason: 'master_down' });
});

t.test('a killed master: the backup takes over within Master_Down_Interval; preemption when it comes back', async (t) => {
  const { lan, a, b } = pair();
  const killedAt = lan.now;
  lan.kill(a);
  a.held.clear();
  let tookOver = -1;
  while (lan.now - killedAt < 100 * MS) {
    lan.runFor(1 * MS);
    if (tookOver < 0 && b.holds('VI_1')) tookOver = lan.now - killedAt;
  }
  // Master_Down_Interval at 10 ms and priority 100: 3 x 10 + (256 - 100) x 10 / 256 = 36.1 ms.
  t.ok(tookOver > 30 * MS && tookOver <= 37 * MS, `the backup holds the VIP ${tookOver / MS} ms after the master went silent`);
  // The master restarts: a fresh state on the same box, which preempts (priority 150 > 100).
  a.up = true;
  a.state = a.fresh();
  a.boot(cfg(instanceYaml({ priority: 150 })));
  lan.runFor(100 * MS);
  t.same(lan.masters('VI_1'), ['a'], 'preempted');
  t.same(lan.holders('VI_1'), ['a'], 'the VIP moved back');
  t.equal(b.stateOf('VI_1'), 'backup');
});

t.test('no preemption: a higher priority that comes later stays backup', async (t) => {
  const lan = new EngineLan();
  const b = lan.add('b');
  b.boot(cfg(instanceYaml({ priority: 100, preempt: false })));
  lan.runFor(100 * MS);
  const a = lan.add('a');
  a.boot(cfg(instanceYaml({ priority: 150, preempt: false })));
  lan.runFor(300 * MS);
  t.same(lan.masters('VI_1'), ['b']);
  t.equal(a.stateOf('VI_1'), 'backup');
});

t.test('a VIP deleted by hand from the master is put back at once', async (t) => {
  const { lan, a } = pair();
  a.deleteByHand('VI_1', '192.0.2.100');
  t.same(lan.holders('VI_1'), ['a'], 'back as the event is handled, before any timer');
  t.match(a.logs.join('\n'), /VIP 192\.0\.2\.100 was removed from eth0 by someone else while master: putting it back/);
  // The backup's copy of an event for an address it does not hold changes nothing.
  const before = lan.nodes[1]!.logs.length;
  lan.nodes[1]!.deleteByHand('VI_1', '192.0.2.100');
  t.equal(lan.nodes[1]!.logs.length, before);
  t.notOk(lan.nodes[1]!.holds('VI_1'));
});

t.test('a tracked link: weight lowers the priority and moves the master; weight 0 is FAULT; its own link too', async (t) => {
  const { lan, a, b } = pair(150, 100, { a: { trackInterfaces: [{ name: 'eth1', weight: -60 }] } });
  t.same(lan.masters('VI_1'), ['a']);
  a.setLink('eth1', false);
  t.equal(a.state.core.effectivePriority(a.state.router('VI_1')!.slot), 90);
  lan.runFor(100 * MS);
  t.same(lan.masters('VI_1'), ['b'], 'priority 90 < 100: b preempts');
  t.same(lan.holders('VI_1'), ['b']);
  a.setLink('eth1', true);
  lan.runFor(100 * MS);
  t.same(lan.masters('VI_1'), ['a'], 'back up: a preempts again');
  // Its own interface down: FAULT, no VIP, whatever the weights.
  a.setLink('eth0', false);
  lan.runFor(100 * MS);
  t.equal(a.stateOf('VI_1'), 'fault');
  t.notOk(a.holds('VI_1'));
  t.same(lan.holders('VI_1'), ['b']);
  a.setLink('eth0', true);
  lan.runFor(100 * MS);
  t.same(lan.holders('VI_1'), ['a']);
  // A tracked interface with weight 0 down: FAULT.
  const c = new EngineLan().add('c');
  c.links.set('eth2', false);
  c.boot(cfg(instanceYaml({ priority: 150, trackInterfaces: [{ name: 'eth2', weight: 0 }] })));
  c.lan.runFor(100 * MS);
  t.equal(c.stateOf('VI_1'), 'fault', 'down at the start: FAULT from the start');
  c.setLink('eth2', true);
  c.lan.runFor(100 * MS);
  t.equal(c.stateOf('VI_1'), 'master');
});

t.test('check weights: a check counts as failing until it first rises; a failing weight-0 check is FAULT', async (t) => {
  const checks = 'checks:\n  - { name: web, type: tcp, target: "198.51.100.10:80" }\n  - { name: db, type: tcp, target: "198.51.100.11:5432" }\n';
  const lan = new EngineLan();
  const a = lan.add('a'), b = lan.add('b');
  a.boot(cfg(instanceYaml({ priority: 150, trackChecks: [{ name: 'web', weight: -60 }, { name: 'db', weight: 0 }] })) + checks);
  b.boot(cfg(instanceYaml({ priority: 100 })));
  lan.runFor(200 * MS);
  t.equal(a.stateOf('VI_1'), 'fault', 'db (weight 0) not yet up: FAULT');
  t.same(lan.holders('VI_1'), ['b']);
  a.check('db', true);
  lan.runFor(200 * MS);
  t.equal(a.stateOf('VI_1'), 'backup', 'web not yet up: 150 - 60 = 90 < 100');
  a.check('web', true);
  lan.runFor(200 * MS);
  t.same(lan.masters('VI_1'), ['a'], 'both up: 150, master');
  const st = a.state.checks.get('web')!;
  t.match(st, { up: true, known: true, transitions: 1 });
  a.check('web', false);
  lan.runFor(200 * MS);
  t.same(lan.masters('VI_1'), ['b'], 'web down again: b');
  t.match(a.logs.join('\n'), /check web: down \(refused\)/);
});

t.test('sync groups: a member that goes to FAULT takes the whole group with it', async (t) => {
  const sync = 'syncGroups: [{ name: G, instances: [VI_1, VI_2] }]\n';
  const two = (p: number, track?: boolean) => cfg(
    instanceYaml({ priority: p, ...(track ? { trackInterfaces: [{ name: 'eth1', weight: 0 }] } : {}) }),
    instanceYaml({ name: 'VI_2', vrid: 52, priority: p, vips: ['192.0.2.101/24'] })) + sync;
  const lan = new EngineLan();
  const a = lan.add('a'), b = lan.add('b');
  a.boot(two(150, true));
  b.boot(two(100));
  lan.runFor(200 * MS);
  t.same([lan.masters('VI_1'), lan.masters('VI_2')], [['a'], ['a']]);
  a.setLink('eth1', false);
  lan.runFor(200 * MS);
  t.equal(a.stateOf('VI_1'), 'fault');
  t.not(a.stateOf('VI_2'), 'master', 'VI_2 follows its group out of master');
  t.same([lan.holders('VI_1'), lan.holders('VI_2')], [['b'], ['b']], 'b holds both');
});

t.test('reload: a changed priority applies in place, state and VIPs kept; a removed instance releases; an added one starts', async (t) => {
  const { lan, a, b } = pair();
  const sentBefore = a.sent;
  a.reload(cfg(instanceYaml({ priority: 200 })));
  lan.runFor(50 * MS);
  t.same(lan.masters('VI_1'), ['a'], 'still master');
  t.equal(a.state.router('VI_1')!.transitions.length, 2, 'no transition from the reload');
  t.ok(a.sent > sentBefore, 'adverts go on');
  // VIPs changed while holding: the swap.
  a.reload(cfg(instanceYaml({ priority: 200, vips: ['192.0.2.100/24', '192.0.2.102/24'] })));
  t.same([...a.held.get('VI_1')!].sort(), ['192.0.2.100', '192.0.2.102']);
  // Lower than b: b preempts.
  a.reload(cfg(instanceYaml({ priority: 50 })));
  lan.runFor(100 * MS);
  t.same(lan.masters('VI_1'), ['b']);
  // A second instance added, the first removed.
  b.reload(cfg(instanceYaml({ name: 'VI_2', vrid: 52, priority: 100, vips: ['192.0.2.101/24'] })));
  t.equal(b.stateOf('VI_1'), 'gone');
  t.notOk(b.holds('VI_1'), 'the removed instance released its VIP');
  lan.runFor(200 * MS);
  t.same(lan.masters('VI_1'), ['a'], 'a takes VI_1 back once b left it');
  t.same(lan.masters('VI_2'), ['b']);
  // A changed VRID is another router: restarted, not reconfigured.
  b.reload(cfg(instanceYaml({ name: 'VI_2', vrid: 53, priority: 100, vips: ['192.0.2.101/24'] })));
  t.equal(b.state.router('VI_2')!.spec.vrid, 53);
  t.equal(b.stateOf('VI_2'), 'backup', 'restarted: from init');
});

t.test('stop: a master sends priority 0 and releases; the backup takes over at once (Skew_Time, not MDI)', async (t) => {
  const { lan, a, b } = pair(150, 100, { a: { notify: true } });
  const at = lan.now;
  a.state.stop(lan.now);
  t.notOk(a.holds('VI_1'), 'VIPs released');
  t.equal(a.deadline, Infinity, 'no timer left armed');
  let tookOver = -1;
  while (lan.now - at < 50 * MS) {
    lan.runFor(0.5 * MS);
    if (tookOver < 0 && b.holds('VI_1')) tookOver = lan.now - at;
  }
  // Skew_Time at priority 100, 10 ms: (256 - 100) x 10 / 256 = 6.1 ms.
  t.ok(tookOver > 0 && tookOver < 8 * MS, `b holds the VIP ${tookOver / MS} ms after the stop`);
  const before = a.logs.length;
  a.check('web', true);
  a.setLink('eth0', false);
  t.equal(a.logs.length, before, 'a stopped state takes no more input');
});

t.test('unicast: a SEND names its peer by index in the configured list, found without a search', async (t) => {
  const { parseConfig } = await import('../../host/config/load.ts');
  const { toEngineSpec } = await import('../../host/agent/spec.ts');
  const { VirtualRouter } = await import('../../host/agent/virtual-router.ts');
  const { parseAddress } = await import('../../host/core/addr.ts');
  const spec = (peers: string[], family: 4 | 6) => toEngineSpec(parseConfig(`instances:\n${instanceYaml({ priority: 100, vips: [family === 4 ? '192.0.2.100/24' : '2001:db8::100/64'] })}\n    unicastPeers: [${peers.join(', ')}]\n`, 'u.yaml')).instances[0]!;
  const env = { ifindex: 1, ifname: 'eth0', mac: null, source: '192.0.2.1', linkFailing: false, tracksFailing: [], vmac: null };
  const v4 = new VirtualRouter(spec(['192.0.2.2', '192.0.2.3', '198.51.100.7'], 4), 0, env, -1);
  const dst4 = (a: string) => parseAddress(a).subarray(0, 4);   // the core's SEND destination: 4 bytes for IPv4
  t.same(['192.0.2.2', '192.0.2.3', '198.51.100.7', '192.0.2.4', '224.0.0.18'].map((a) => v4.peerOf(dst4(a))), [0, 1, 2, -1, -1]);
  // 2001:db8::3 and 2001:db8::1:0:2 have the same key (their 32-bit words XOR alike).
  const v6 = new VirtualRouter(spec(['fe80::2', '2001:db8::3', '2001:db8::1:0:2'], 6), 0, env, -1);
  t.same(['fe80::2', '2001:db8::3', '2001:db8::1:0:2', '2001:db8::4', 'ff02::12'].map((a) => v6.peerOf(parseAddress(a))), [0, 1, 2, -1, -1],
    'IPv6, two peers of one key told apart by their bytes');
  const multicast = new VirtualRouter(toEngineSpec(parseConfig(`instances:\n${instanceYaml({ priority: 100 })}\n`, 'm.yaml')).instances[0]!, 0, env, -1);
  t.equal(multicast.peerOf(dst4('224.0.0.18')), -1, 'no peers: the group');
});
