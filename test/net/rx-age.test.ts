// The kernel's receive stamp on VRRP sockets, as the packet's age at recv (ReceivedPacket.ageUs):
// the engine subtracts it so Master_Down_Interval runs from the advert's arrival, not from when
// the loop got to it. Proved by leaving a packet queued for a known time before receiving it.
import t from 'tap';
import { Topology, skipReason } from './netns.ts';
import { hex, vrrp3 } from './frames.ts';

const reason = skipReason();
if (reason) t.plan(0, reason);
else {
  const topo = Topology.create('vnet-age-', ['a', 'b']);
  t.teardown(() => topo.destroy());
  const [A, B] = topo.hosts as [typeof topo.hosts[0], typeof topo.hosts[0]];
  const [llA] = await topo.linkLocals();
  const a = await topo.peer(A);
  const b = await topo.peer(B);
  const WAIT_MS = 30;

  for (const family of [4, 6] as const) {
    t.test(`IPv${family}: a packet left queued ${WAIT_MS} ms is that old at recv`, async (t) => {
      const tx = await a.call('vrrpOpen', { ifname: 'eth0', family });
      const rx = await b.call('vrrpOpen', { ifname: 'eth0', family });
      // The kernel turns stamping on through a work queue when the first socket asks for it: a
      // packet sent at once may arrive unstamped (see test/net/shim.test.ts).
      await new Promise((r) => setTimeout(r, 50));
      const adv = family === 4
        ? vrrp3({ vrid: 20, priority: 100, intervalCs: 1, vips: ['203.0.113.20'], src: A.v4, dst: '224.0.0.18' })
        : vrrp3({ vrid: 20, priority: 100, intervalCs: 1, vips: ['2001:db8:1::20'], src: llA!, dst: 'ff02::12' });
      // Sent and delivered (a veth pair and a bridge: synchronous in the sender's softirq)
      // before b is even asked; b then sleeps WAIT_MS before its recv.
      const t0 = performance.now();
      t.equal(await a.call('vrrpSend', { sock: tx.id, hex: hex(adv) }), adv.length);
      const got = await b.call('vrrpRecv', { sock: rx.id, delayMs: WAIT_MS });
      const bound = (performance.now() - t0) * 1000;
      t.ok(got, 'the packet was queued');
      t.equal(got.hex, hex(adv));
      t.ok(got.ageUs >= WAIT_MS * 1000, `age ${got.ageUs} us >= the ${WAIT_MS} ms it was left queued`);
      t.ok(got.ageUs <= bound, `age ${got.ageUs} us <= the ${bound.toFixed(0)} us from asking for the send to the reply`);

      // Received as it comes (listen): young, and present.
      await b.call('vrrpListen', { sock: rx.id });
      const adv2 = adv.slice();
      adv2[2] = 101;
      adv2[6] = 0; adv2[7] = 0; // checksum not checked by the socket, only compared as bytes
      await a.call('vrrpSend', { sock: tx.id, hex: hex(adv2) });
      const e = await b.waitEvent((e) => e.event === 'vrrp' && e.sock === rx.id && e.hex === hex(adv2), 2000);
      t.ok(e.ageUs >= 0 && e.ageUs < WAIT_MS * 1000, `received on readiness: age ${e.ageUs} us`);
      await a.call('vrrpClose', { sock: tx.id });
      await b.call('vrrpClose', { sock: rx.id });
    });
  }
}
