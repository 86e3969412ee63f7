// The director itself as a client: its own connections to the VIP are balanced too (the nat
// output hook dispatches like prerouting), with the VIP on its eth0 through a VRRP instance.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { skipReason, nsExec } from '../net/netns.ts';
import { needTools } from '../helpers/tools.ts';
import { until } from '../helpers/agents.ts';
import { lbLab, spread, VIP } from './lab.ts';

const skip = skipReason() ?? needTools('nft', 'python3');

t.test('connections from the director to its own VIP are balanced', { skip, timeout: 60_000 }, async (t) => {
  const lab = lbLab(t, 'vtlbo-', 'routed', 2);
  for (const s of lab.servers) await lab.backend(s.ns, 'http', s.addr, 8080, s.name);
  const file = lab.work.file('local.yaml', [
    'instances:',
    `  - { name: VI_1, interface: eth0, vrid: 57, priority: 150, advertInterval: 100ms, virtualAddresses: [${VIP}/32] }`,
    'virtualServers:',
    `  - { name: web, address: ${VIP}, port: 80, scheduler: rr, realServers: [${lab.servers.map((s) => `{ address: ${s.addr}, port: 8080 }`).join(', ')}] }`,
  ].join('\n') + '\n');
  const vigil = lab.vigil(file);
  await vigil.waitLine(/load balancer: 1 virtual server\(s\), 2 real server\(s\) in table vigil, applied/, 20_000);
  await until(() => nsExec(lab.director, 'ip', '-br', 'addr', 'show', 'eth0').includes(VIP), 10_000, 'the director to hold the VIP', 20);
  const r = spawnSync('ip', ['netns', 'exec', lab.director, 'python3', join(import.meta.dirname, 'client.py'), 'http', VIP, '80', '4'], { encoding: 'utf8' });
  const answers = r.stdout.trim().split('\n').map((l) => ({ body: l.split(' ').slice(2).join(' ') }));
  t.strictSame(spread(answers), { r1: 2, r2: 2 }, `from the director: rr over both (${answers[0]?.body})`);
  t.strictSame(spread(await lab.requests('http', VIP, 80, 4)), { r1: 2, r2: 2 }, 'and from the client');
  t.equal(await vigil.stop(), 0);
});
