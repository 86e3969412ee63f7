// A fwmark service with direct routing: DR forwards from a netdev ingress chain, before the
// inet prerouting hook, so the mark must be set there too, by a netdev ingress chain of the
// user's at a lower priority than vigil's (0). Both ports of the marked service are balanced,
// each real server answering the client straight from the VIP.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { skipReason, nsExec } from '../net/netns.ts';
import { needTools } from '../helpers/tools.ts';
import { until } from '../helpers/agents.ts';
import { lbLab, spread, VIP } from './lab.ts';

const skip = skipReason() ?? needTools('nft', 'python3');

t.test('DR + fwmark: marked at netdev ingress before vigil\'s chain, both ports balanced', { skip, timeout: 60_000 }, async (t) => {
  const lab = lbLab(t, 'vtlbk-', 'lan', 2);
  for (const s of lab.servers) for (const p of [80, 8080]) await lab.backend(s.ns, 'http', '0.0.0.0', p, `${s.name}:${p}`);
  const mark = (priority: number) => execFileSync('ip', ['netns', 'exec', lab.director, 'nft', '-f', '-'], { input: [
    'table netdev vtlbk {',
    `  chain premark { type filter hook ingress device "eth0" priority ${priority}; policy accept;`,
    `    ip daddr ${VIP} tcp dport { 80, 8080 } meta mark set 9`,
    '  }',
    '}',
  ].join('\n') + '\n' });
  mark(-10);
  const file = lab.work.file('drmark.yaml', [
    'instances:',
    `  - { name: VI_1, interface: eth0, vrid: 58, priority: 150, advertInterval: 100ms, virtualAddresses: [${VIP}/24] }`,
    'virtualServers:',
    `  - { name: marked, fwmark: 9, forwarding: dr, interface: eth0, scheduler: wrr, realServers: [${lab.servers.map((s) => `{ address: ${s.addr} }`).join(', ')}] }`,
  ].join('\n') + '\n');
  const vigil = lab.vigil(file);
  await vigil.waitLine(/load balancer: 1 virtual server\(s\), 2 real server\(s\) in table vigil, applied/, 20_000);
  await until(() => nsExec(lab.director, 'ip', '-br', 'addr', 'show', 'eth0').includes(VIP), 10_000, 'the director to hold the VIP', 20);
  for (const port of [80, 8080]) {
    const a = await lab.requests('http', VIP, port, 30);
    const s = spread(a);
    t.notOk(s.ERR, `port ${port}: none failed`);
    t.strictSame(Object.keys(s).sort(), [`r1:${port}`, `r2:${port}`], `port ${port}: both real servers, on port ${port}: ${JSON.stringify(s)}`);
    t.ok(a.every((x) => x.body.endsWith(' 192.0.2.10')), 'each saw the client itself');
  }
  // Marked after vigil's chain (priority 10): vigil never sees the mark; the director answers itself.
  nsExec(lab.director, 'nft', 'delete', 'table', 'netdev', 'vtlbk');
  mark(10);
  const late = spread(await lab.requests('http', VIP, 80, 4));
  t.strictSame(late, { ERR: 4 }, `marked after vigil's ingress chain: not balanced (the director has nothing on port 80): ${JSON.stringify(late)}`);
  t.equal(await vigil.stop(), 0);
});
