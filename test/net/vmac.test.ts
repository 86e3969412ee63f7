// A macvlan VMAC (00:00:5e:00:01:VRID / 00:00:5e:00:02:VRID) created with keepalived's
// sysctls, used as the source of adverts on the wire, and removed with the parent restored.
import t from 'tap';
import { Capture } from './capture.ts';
import { Topology, nsExec, skipReason } from './netns.ts';
import { needTools } from '../helpers/tools.ts';
import { hex, vrrp3 } from './frames.ts';

const reason = skipReason() ?? needTools('tcpdump', 'tshark');
if (reason) t.plan(0, reason);
else {
  const topo = Topology.create('vnet-vmac-', ['a', 'b']);
  t.teardown(() => topo.destroy());
  const [A, B] = topo.hosts as [typeof topo.hosts[0], typeof topo.hosts[0]];
  const [llA] = await topo.linkLocals();
  const a = await topo.peer(A);
  const b = await topo.peer(B);
  const sysctl = (ifname: string, key: string) => nsExec(A.ns, 'cat', `/proc/sys/net/ipv4/conf/${ifname}/${key}`).trim();

  for (const family of [4, 6] as const) {
    t.test(`IPv${family} VMAC: created, carries adverts, removed`, async (t) => {
      const vrid = 42;
      const mac = `00:00:5e:00:0${family === 4 ? 1 : 2}:2a`;
      const before = { arp_ignore: sysctl('eth0', 'arp_ignore'), arp_filter: sysctl('eth0', 'arp_filter') };
      const v = await a.call('vmacCreate', { parent: 'eth0', vrid, family });
      t.match(v, { name: family === 4 ? 'vrrp.42' : 'vrrp6.42', mac });
      const d = JSON.parse(nsExec(A.ns, 'ip', '-j', '-d', 'link', 'show', v.name))[0];
      t.match(d, { address: mac, link: 'eth0', operstate: /UP|UNKNOWN/, linkinfo: { info_kind: 'macvlan', info_data: { mode: 'private' } } }, 'ip -d link: a private macvlan on eth0 with the VMAC');
      t.same(
        ['arp_ignore', 'accept_local', 'rp_filter', 'promote_secondaries'].map((k) => sysctl(v.name, k)),
        ['1', '1', '0', '1'],
        'VMAC sysctls as keepalived sets them',
      );
      t.same([sysctl('eth0', 'arp_ignore'), sysctl('eth0', 'arp_filter')], ['1', '1'], 'parent: arp_ignore=1, arp_filter=1');
      if (family === 6) {
        const ll = JSON.parse(nsExec(A.ns, 'ip', '-j', '-6', 'addr', 'show', 'dev', v.name))[0].addr_info.map((x: { local: string }) => x.local);
        t.same(ll, [llA], "the VMAC's only link-local is the parent's (no EUI-64 from the shared MAC)");
      }

      const listen = await b.call('vrrpOpen', { ifname: 'eth0', family });
      await b.call('vrrpListen', { sock: listen.id });
      const cap = await Capture.start(B.ns, 'eth0', 'ip proto 112 or ip6 proto 112');
      t.teardown(() => cap.dispose());
      const s = await a.call('vrrpOpen', { ifname: v.name, family, sourceIfname: 'eth0' });
      const src = family === 4 ? A.v4 : llA!;
      t.equal(s.source, src, "source is the parent's primary / link-local address");
      const adv = vrrp3({ vrid, priority: 200, intervalCs: 100, vips: [family === 4 ? '203.0.113.42' : '2001:db8:42::1'], src, dst: family === 4 ? '224.0.0.18' : 'ff02::12' });
      await a.call('vrrpSend', { sock: s.id, hex: hex(adv) });
      t.match(await b.waitEvent((e) => e.event === 'vrrp' && e.hex === hex(adv)), { src, ttl: 255 }, 'the neighbour received it');
      await new Promise((r) => setTimeout(r, 100));
      await cap.stop();
      const rows = cap.fields('eth.src', family === 4 ? 'ip.src' : 'ipv6.src', 'vrrp.virt_rtr_id', 'vrrp.checksum.status');
      t.same(rows, [[mac, src, '42', '1']], 'on the wire: from the VMAC, the right source, a valid VRRP checksum');
      t.same(cap.expertWarnings(), [], 'tshark: no warnings');
      await a.call('vrrpClose', { sock: s.id });
      await b.call('vrrpClose', { sock: listen.id });

      await a.call('vmacRemove', { name: v.name });
      t.throws(() => nsExec(A.ns, 'ip', 'link', 'show', v.name), 'the VMAC is gone');
      t.same({ arp_ignore: sysctl('eth0', 'arp_ignore'), arp_filter: sysctl('eth0', 'arp_filter') }, before, 'parent sysctls restored');
    });
  }

  t.test('a VMAC on a missing parent names it and leaves nothing', async (t) => {
    await t.rejects(a.call('vmacCreate', { parent: 'nosuch3', vrid: 9, family: 4 }), { code: 'VIGIL_ENET_NOIF', message: /nosuch3/ });
    t.notMatch(nsExec(A.ns, 'ip', 'link'), /vrrp\.9/);
  });
}
