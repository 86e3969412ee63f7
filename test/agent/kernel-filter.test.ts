// The VRRP receive sockets' kernel filter in a running agent (host/net/vrrp-filter.ts): bad
// packets from a neighbour dropped before the engine, counted by reason in /status and /metrics.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { skipReason, nsExec } from '../net/netns.ts';
import { lab } from '../helpers/agents.ts';
import { SEND, advert } from '../net/vrrp-packets.ts';

const skip = skipReason();

t.test('an agent: its sockets filtered, the kernel\'s drops in /status and /metrics, adverts unaffected', { skip }, async (t) => {
  const l = lab(t, 'vnbfa-', ['a', 'b']);
  const [a, b] = l.hosts;
  const pa = l.vigil(a!, 'a.yaml', { priority: 150, interval: '50ms' });
  await pa.waitLine(/"to":"master"/, 10_000);
  const status = () => JSON.parse(nsExec(a!.ns, 'curl', '-sf', 'http://127.0.0.1:9110/status'));
  const before = status();
  t.equal(before.kernelFilter, 'on');
  const bad = [{ hex: advert({ vrid: 99 }), ttl: 255 }, { hex: advert({ vrid: 51 }), ttl: 64 }, { hex: advert({ version: 1 }), ttl: 255 }];
  const pkts = Array.from({ length: 100 }, (_, i) => bad[i % 3]!);
  const sent = spawnSync('ip', ['netns', 'exec', b!.ns, 'python3', '-c', SEND, '4', a!.v4, JSON.stringify(pkts)], { encoding: 'utf8' });
  t.equal(sent.status, 0, sent.stderr);
  await new Promise((r) => setTimeout(r, 300));
  const after = status();
  t.match(after.dropsInKernel, { vrid_unknown: 34, ttl: 33, version: 33 }, 'each counted in the kernel, by reason');
  t.ok(after.drops.vrid_unknown >= 34 && after.drops.ttl >= 33 && after.drops.version >= 33, `and in the totals: ${JSON.stringify(after.drops)}`);
  t.same(after.instances[0].drops, before.instances[0].drops, 'none reached the engine');
  t.match(nsExec(a!.ns, 'curl', '-sf', 'http://127.0.0.1:9110/metrics'), /^vigil_packet_drops_total\{reason="ttl"\} 33$/m);
  t.equal(after.instances[0].state, 'master');
});

