// VRRP sockets between real namespaces: v3 over IPv4 and IPv6, multicast and unicast,
// with the received TTL / hop limit, source and destination reported right.
import t from 'tap';
import { Topology, skipReason, type Peer } from './netns.ts';
import { hex, vrrp3 } from './frames.ts';

const reason = skipReason();
if (reason) t.plan(0, reason);
else {
  const topo = Topology.create('vnet-sock-', ['a', 'b', 'c']);
  t.teardown(() => topo.destroy());
  const [A, B, C] = topo.hosts as [typeof topo.hosts[0], typeof topo.hosts[0], typeof topo.hosts[0]];
  const [llA] = await topo.linkLocals();
  const a = await topo.peer(A);
  const b = await topo.peer(B);
  const c = await topo.peer(C);

  const open = (p: Peer, args: object) => p.call('vrrpOpen', { ifname: 'eth0', ...args });
  const listen = async (p: Peer, args: object) => {
    const s = await open(p, args);
    await p.call('vrrpListen', { sock: s.id });
    return s;
  };
  const got = (p: Peer, sock: number, payload: Uint8Array, ms = 2000) =>
    p.waitEvent((e) => e.event === 'vrrp' && e.sock === sock && e.hex === hex(payload), ms);

  const b4 = await listen(b, { family: 4 });
  const c4 = await listen(c, { family: 4 });
  const b6 = await listen(b, { family: 6 });
  const c6 = await listen(c, { family: 6 });

  t.test('IPv4 multicast: source is the primary address, TTL 255 reported', async (t) => {
    const s = await open(a, { family: 4 });
    t.equal(s.source, A.v4, 'source defaults to the primary IPv4 address');
    const adv = vrrp3({ vrid: 7, priority: 150, intervalCs: 100, vips: ['203.0.113.7'], src: A.v4, dst: '224.0.0.18' });
    t.equal(await a.call('vrrpSend', { sock: s.id, hex: hex(adv) }), adv.length);
    for (const [p, sock] of [[b, b4.id], [c, c4.id]] as const) {
      const e = await got(p, sock, adv);
      t.match(e, { src: A.v4, dst: '224.0.0.18', ttl: 255, ifindex: sock === b4.id ? b4.ifindex : c4.ifindex, truncated: false });
    }
  });

  t.test('IPv4 unicast to one peer: only that peer, destination reported', async (t) => {
    const s = await open(a, { family: 4, multicast: false });
    const adv = vrrp3({ vrid: 8, priority: 100, intervalCs: 100, vips: ['203.0.113.8'], src: A.v4, dst: B.v4 });
    await a.call('vrrpSend', { sock: s.id, hex: hex(adv), to: B.v4 });
    t.match(await got(b, b4.id, adv), { src: A.v4, dst: B.v4, ttl: 255 });
    await new Promise((r) => setTimeout(r, 200));
    t.notOk(c.events.some((e) => e.hex === hex(adv)), 'the other namespace did not get it');
  });

  t.test('IPv4: a packet sent with TTL 64 is reported as 64', async (t) => {
    const s = await open(a, { family: 4, ttl: 64 });
    const adv = vrrp3({ vrid: 9, priority: 100, intervalCs: 100, vips: ['203.0.113.9'], src: A.v4, dst: '224.0.0.18' });
    await a.call('vrrpSend', { sock: s.id, hex: hex(adv) });
    t.match(await got(b, b4.id, adv), { src: A.v4, ttl: 64 });
  });

  t.test('IPv6 multicast: source is the link-local, hop limit 255 reported', async (t) => {
    const s = await open(a, { family: 6 });
    t.equal(s.source, llA, 'source defaults to the link-local address');
    const adv = vrrp3({ vrid: 7, priority: 150, intervalCs: 100, vips: ['2001:db8:1::7'], src: llA!, dst: 'ff02::12' });
    await a.call('vrrpSend', { sock: s.id, hex: hex(adv) });
    for (const [p, sock] of [[b, b6.id], [c, c6.id]] as const) {
      t.match(await got(p, sock, adv), { src: llA, dst: 'ff02::12', ttl: 255 });
    }
  });

  t.test('IPv6 unicast from a global source', async (t) => {
    const s = await open(a, { family: 6, multicast: false, source: A.v6 });
    const adv = vrrp3({ vrid: 8, priority: 100, intervalCs: 100, vips: ['2001:db8:1::8'], src: A.v6, dst: B.v6 });
    await a.call('vrrpSend', { sock: s.id, hex: hex(adv), to: B.v6 });
    t.match(await got(b, b6.id, adv), { src: A.v6, dst: B.v6, ttl: 255 });
  });

  t.test('IPv6: a packet sent with hop limit 64 is reported as 64', async (t) => {
    const s = await open(a, { family: 6, ttl: 64 });
    const adv = vrrp3({ vrid: 9, priority: 100, intervalCs: 100, vips: ['2001:db8:1::9'], src: llA!, dst: 'ff02::12' });
    await a.call('vrrpSend', { sock: s.id, hex: hex(adv) });
    t.match(await got(b, b6.id, adv), { src: llA, ttl: 64 });
  });

  t.test('an unknown interface is named', async (t) => {
    await t.rejects(a.call('vrrpOpen', { ifname: 'nosuch9', family: 4, source: A.v4 }), {
      code: 'VIGIL_ENET_NOIF',
      message: /nosuch9/,
    });
  });

  t.test('without CAP_NET_RAW the error says so and how to grant it', async (t) => {
    const nobody = await topo.peerAs(A, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all']);
    await t.rejects(nobody.call('vrrpOpen', { ifname: 'eth0', family: 4, source: A.v4 }), {
      code: 'VIGIL_ENET_PERM',
      message: /needs CAP_NET_RAW.*setcap/,
    });
  });
}
