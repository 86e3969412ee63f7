// Gratuitous ARP and unsolicited NA through AF_PACKET: seen by tcpdump, decoded by tshark
// without warnings, and updating a neighbour's cache; bursts and refresh keep their timing.
import t from 'tap';
import { Capture } from './capture.ts';
import { Topology, nsExec, skipReason } from './netns.ts';
import { needTools } from '../helpers/tools.ts';
import { garp, hex, unsolicitedNa } from './frames.ts';

const reason = skipReason() ?? needTools('tcpdump', 'tshark');
if (reason) t.plan(0, reason);
else {
  const topo = Topology.create('vnet-ann-', ['a', 'b']);
  t.teardown(() => topo.destroy());
  const [A, B] = topo.hosts as [typeof topo.hosts[0], typeof topo.hosts[0]];
  const [llA] = await topo.linkLocals();
  const a = await topo.peer(A);
  const STALE_MAC = '02:00:00:00:00:99';

  const neigh = (ns: string, ip: string) =>
    (JSON.parse(nsExec(ns, 'ip', '-j', 'neigh', 'show', ip, 'dev', 'eth0'))[0] ?? {}) as { lladdr?: string; state?: string[] };

  t.test('gratuitous ARP: on the wire, decoded cleanly, updates the neighbour', async (t) => {
    const vip = '192.0.2.100';
    nsExec(B.ns, 'ip', 'neigh', 'replace', vip, 'lladdr', STALE_MAC, 'dev', 'eth0', 'nud', 'stale');
    const cap = await Capture.start(B.ns, 'eth0', 'arp');
    t.teardown(() => cap.dispose());
    const r = await a.call('announce', { ifname: 'eth0', frames: [hex(garp(A.mac, vip))], count: 3, intervalMs: 20, wait: 150 });
    t.equal(r.sent, 3, 'three frames in the burst');
    await new Promise((r) => setTimeout(r, 100));
    await cap.stop();
    const rows = cap.fields('eth.src', 'arp.opcode', 'arp.src.proto_ipv4', 'arp.dst.proto_ipv4', 'arp.isgratuitous');
    t.equal(rows.length, 3, 'tcpdump saw the burst');
    for (const row of rows) t.same(row, [A.mac, '1', vip, vip, '1'], 'tshark: a gratuitous ARP from A for the VIP');
    t.same(cap.expertWarnings(), [], 'tshark: no warnings');
    t.equal(neigh(B.ns, vip).lladdr, A.mac, "the neighbour's ARP entry now points at A");
  });

  t.test('unsolicited NA: on the wire, decoded cleanly, updates the neighbour', async (t) => {
    const vip = '2001:db8::100';
    nsExec(B.ns, 'ip', '-6', 'neigh', 'replace', vip, 'lladdr', STALE_MAC, 'dev', 'eth0', 'nud', 'stale');
    const cap = await Capture.start(B.ns, 'eth0', 'icmp6 and ip6[40] == 136');
    t.teardown(() => cap.dispose());
    const r = await a.call('announce', { ifname: 'eth0', frames: [hex(unsolicitedNa(A.mac, llA!, vip))], count: 2, intervalMs: 20, wait: 100 });
    t.equal(r.sent, 2);
    await new Promise((r) => setTimeout(r, 100));
    await cap.stop();
    const rows = cap.fields('ipv6.src', 'ipv6.dst', 'ipv6.hlim', 'icmpv6.type', 'icmpv6.nd.na.target_address', 'icmpv6.nd.na.flag.o', 'icmpv6.opt.linkaddr', 'icmpv6.checksum.status');
    t.equal(rows.length, 2, 'tcpdump saw the burst');
    for (const row of rows) t.same(row, [llA, 'ff02::1', '255', '136', vip, '1', A.mac, '1'], 'tshark: an NA from A, override, good checksum');
    t.same(cap.expertWarnings(), [], 'tshark: no warnings');
    t.equal(neigh(B.ns, vip).lladdr, A.mac, "the neighbour's entry now points at A");
  });

  t.test("control: tshark's check does flag a corrupt NA", async (t) => {
    const cap = await Capture.start(B.ns, 'eth0', 'icmp6 and ip6[40] == 136');
    t.teardown(() => cap.dispose());
    const bad = unsolicitedNa(A.mac, llA!, '2001:db8::102');
    bad[bad.length - 1]! ^= 0xff; // the last MAC byte of the option: checksum no longer matches
    await a.call('announce', { ifname: 'eth0', frames: [hex(bad)], count: 1, intervalMs: 0 });
    await new Promise((r) => setTimeout(r, 100));
    await cap.stop();
    t.match(cap.expertWarnings().join('\n'), /Bad checksum/);
  });

  t.test('burst then periodic refresh keep their intervals', async (t) => {
    const cap = await Capture.start(B.ns, 'eth0', 'arp');
    t.teardown(() => cap.dispose());
    const r = await a.call('announce', { ifname: 'eth0', frames: [hex(garp(A.mac, '192.0.2.101'))], count: 3, intervalMs: 30, refreshMs: 150, wait: 500 });
    await new Promise((r) => setTimeout(r, 100));
    await cap.stop();
    const times = cap.fields('frame.time_relative').map(([s]) => Number(s) * 1000);
    t.equal(times.length, r.sent, 'every frame sent was seen');
    t.ok(times.length >= 5 && times.length <= 6, `3 in the burst and 2-3 refreshes in 500 ms (got ${times.length})`);
    const gaps = times.slice(1).map((x, i) => x - times[i]!);
    t.ok(gaps.slice(0, 2).every((g) => g >= 25 && g < 80), `burst gaps ~30 ms: ${gaps.slice(0, 2).map((g) => g.toFixed(1))}`);
    t.ok(gaps.slice(2).every((g) => g >= 140 && g < 250), `refresh gaps ~150 ms: ${gaps.slice(2).map((g) => g.toFixed(1))}`);
  });
}
