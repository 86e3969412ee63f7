// rtnetlink from host/net inside a namespace: addresses added and deleted (as `ip addr`
// sees them), all-or-nothing batches, named errors, and link / address events with their
// latency.
import t from 'tap';
import { Topology, nsExec, skipReason } from './netns.ts';

const reason = skipReason();
if (reason) t.plan(0, reason);
else {
  const topo = Topology.create('vnet-nl-', ['a']);
  t.teardown(() => topo.destroy());
  const [A] = topo.hosts as [typeof topo.hosts[0]];
  const a = await topo.peer(A);
  const link = await a.call('getLink', { ifname: 'eth0' });
  const ipAddr = () => nsExec(A.ns, 'ip', 'addr', 'show', 'dev', 'eth0');

  t.test('getLink: index and MAC; an unknown interface is named', async (t) => {
    t.match(link, { name: 'eth0', mac: A.mac, up: true });
    t.equal(link.index, Number(nsExec(A.ns, 'cat', '/sys/class/net/eth0/ifindex')));
    await t.rejects(a.call('getLink', { ifname: 'nosuch7' }), { code: 'VIGIL_ENET_NOIF', message: /nosuch7/ });
  });

  t.test('IPv4 and IPv6 (nodad) addresses: add, list, delete', async (t) => {
    // DAD on for this interface, so nodad has something to prove.
    nsExec(A.ns, 'sysctl', '-qw', 'net.ipv6.conf.eth0.accept_dad=1');
    const v4 = { index: link.index, address: '198.51.100.7', prefixlen: 32 };
    const v6 = { index: link.index, address: '2001:db8:5::7', prefixlen: 128, nodad: true };
    await a.call('addAddress', v4);
    await a.call('addAddress', v6);
    t.match(ipAddr(), /inet 198\.51\.100\.7\/32 scope global eth0/);
    t.match(ipAddr(), /inet6 2001:db8:5::7\/128 scope global nodad/);
    t.notMatch(ipAddr(), /2001:db8:5::7\/128 .*tentative/, 'the IPv6 VIP is usable at once');
    const listed = await a.call('listAddresses', { index: link.index });
    t.ok(listed.some((x: { address: string }) => x.address === '198.51.100.7'));
    t.ok(listed.some((x: { address: string; tentative: boolean }) => x.address === '2001:db8:5::7' && !x.tentative));
    await t.rejects(a.call('addAddress', v4), { code: 'VIGIL_ENET_EXISTS' }, 'adding twice is a named error');
    await a.call('deleteAddress', v4);
    await a.call('deleteAddress', v6);
    t.notMatch(ipAddr(), /198\.51\.100\.7|2001:db8:5::7/);
    await t.rejects(a.call('deleteAddress', v4), { code: 'VIGIL_ENET_NOADDR' }, 'deleting a missing one too');
  });

  t.test('a batch that fails part way leaves nothing behind', async (t) => {
    const list = [
      { index: link.index, address: '198.51.100.8', prefixlen: 32 },
      { index: link.index, address: '2001:db8:5::8', prefixlen: 128, nodad: true },
      { index: 9999, address: '198.51.100.9', prefixlen: 32, ifname: 'gone0' },
    ];
    await t.rejects(a.call('addAddresses', { list }), { code: 'VIGIL_ENET_NOIF', message: /gone0/ });
    t.notMatch(ipAddr(), /198\.51\.100\.8|2001:db8:5::8/, 'the first two were rolled back');
  });

  t.test('without CAP_NET_ADMIN the error says so and how to grant it', async (t) => {
    const nobody = await topo.peerAs(A, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all']);
    await t.rejects(nobody.call('addAddress', { index: link.index, address: '198.51.100.11', prefixlen: 32 }), {
      code: 'VIGIL_ENET_PERM',
      message: /needs CAP_NET_ADMIN.*setcap/,
    });
    t.notMatch(ipAddr(), /198\.51\.100\.11/);
  });

  t.test('events: link down within 50 ms, a VIP deleted by someone else', async (t) => {
    await a.call('monitor');
    await a.call('addAddress', { index: link.index, address: '198.51.100.10', prefixlen: 32 });
    await a.call('addAddress', { index: link.index, address: '2001:db8:5::10', prefixlen: 128, nodad: true });

    nsExec(A.ns, 'ip', 'addr', 'del', '198.51.100.10/32', 'dev', 'eth0');
    nsExec(A.ns, 'ip', 'addr', 'del', '2001:db8:5::10/128', 'dev', 'eth0');
    t.match(await a.waitEvent((e) => e.event === 'address' && e.op === 'del' && e.address === '198.51.100.10'), { index: link.index, family: 4, prefixlen: 32 });
    t.match(await a.waitEvent((e) => e.event === 'address' && e.op === 'del' && e.address === '2001:db8:5::10'), { index: link.index, family: 6 });

    // `ip link set eth0 down` through an already running `ip -batch`: t0 is taken just
    // before the command is written to it, so this is an upper bound on the latency.
    await a.call('ipBatch', { line: 'link show dev lo' });
    const n = a.events.length;
    const t0 = BigInt(await a.call('ipBatch', { line: 'link set eth0 down' }));
    const ev = await a.waitEvent((e) => a.events.indexOf(e) >= n && e.event === 'link' && e.index === link.index && !e.up);
    const ms = Number(BigInt(ev.at) - t0) / 1e6;
    t.ok(ms < 50, `link down by ip(8) reached the host in ${ms.toFixed(2)} ms`);
    t.comment(`link-down event latency via ip(8): ${ms.toFixed(2)} ms`);

    // And through our own netlink request, without the spawn.
    await a.call('setLinkUp', { index: link.index, up: true });
    await a.waitEvent((e) => e.event === 'link' && e.index === link.index && e.up);
    const m = a.events.length;
    const t1 = BigInt(await a.call('now'));
    await a.call('setLinkUp', { index: link.index, up: false });
    const ev2 = await a.waitEvent((e) => a.events.indexOf(e) >= m && e.event === 'link' && e.index === link.index && !e.up);
    const ms2 = Number(BigInt(ev2.at) - t1) / 1e6;
    t.ok(ms2 < 50, `link down via rtnetlink reached the monitor in ${ms2.toFixed(2)} ms`);
    t.comment(`link-down event latency via rtnetlink: ${ms2.toFixed(2)} ms`);
    await a.call('setLinkUp', { index: link.index, up: true });
  });
}
