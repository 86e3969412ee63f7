// Direct routing end to end: one LAN, the director forwarding client packets to the real
// servers' MACs from a netdev ingress chain (nft `fwd`), the real servers holding the VIP on lo
// (arp_ignore=1, arp_announce=2) and answering the client straight, with its own address.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { skipReason, nsExec } from '../net/netns.ts';
import { needTools } from '../helpers/tools.ts';
import { agentStatus, until, type Proc } from '../helpers/agents.ts';
import { lbLab, spread, VIP } from './lab.ts';

const skip = skipReason() ?? needTools('nft', 'python3');

t.test('DR: spread over the real servers, each sees the client itself; a dead one is skipped', { skip, timeout: 120_000 }, async (t) => {
  const lab = lbLab(t, 'vtlbd-', 'lan', 3);
  const backends: Proc[] = [];
  // Bound to any address: the real server answers for the VIP on its lo, from the VIP.
  for (const s of lab.servers) backends.push(await lab.backend(s.ns, 'http', '0.0.0.0', 80, s.name));
  const file = lab.work.file('dr.yaml', [
    'instances:',
    `  - { name: VI_1, interface: eth0, vrid: 52, priority: 150, advertInterval: 100ms, virtualAddresses: [${VIP}/24] }`,
    'checks:', ...lab.servers.map((s) => `  - { name: ${s.name}, type: http, target: "http://${s.addr}/", interval: 100ms, timeout: 80ms, rise: 2, fall: 2 }`),
    'virtualServers:',
    `  - { name: web, address: ${VIP}, port: 80, scheduler: wrr, forwarding: dr, realServers: [${lab.servers.map((s) => `{ address: ${s.addr}, check: ${s.name} }`).join(', ')}] }`,
    'status: { listen: 127.0.0.1:9110 }',
  ].join('\n') + '\n');
  const vigil = lab.vigil(file);
  await vigil.waitLine(/load balancer: 1 virtual server\(s\), 3 real server\(s\)/, 20_000);
  await until(() => nsExec(lab.director, 'ip', '-br', 'addr', 'show', 'eth0').includes(VIP), 10_000, 'the director to hold the VIP', 20);

  const a = await lab.requests('http', VIP, 80, 60);
  const s = spread(a);
  t.notOk(s.ERR, 'no connection failed');
  t.strictSame(Object.keys(s).sort(), ['r1', 'r2', 'r3'], `every real server answered: ${JSON.stringify(s)} (DR hashes the client's address and port over the wrr slots)`);
  t.ok(a.every((x) => x.body.endsWith(' 192.0.2.10')), 'each real server saw the client\'s own address');
  // /status takes the kernel's counters about once a second.
  let counters: number[] = [];
  await until(() => (counters = agentStatus(lab.director).virtualServers[0].realServers.map((r: { packets: number }) => r.packets)).every((n: number) => n > 0), 3000, 'counters', 100);
  t.ok(counters.every((n: number) => n > 0), `packets counted per real server at the director's ingress: ${counters.join(', ')}`);
  t.match(spawnSync('ip', ['netns', 'exec', lab.director, 'nft', 'list', 'table', 'netdev', 'vigil'], { encoding: 'utf8' }).stdout,
    /fwd ip to 192\.0\.2\.11 device "eth0"/, 'the netdev table forwards to the real server\'s MAC');

  await backends[0].stop();
  await until(() => agentStatus(lab.director).virtualServers[0].realServers[0].up === false, 5000, 'r1 down', 20);
  const b = await lab.requests('http', VIP, 80, 30);
  t.notOk(spread(b).ERR, 'none failed');
  t.notOk(spread(b).r1, `r1 left out: ${JSON.stringify(spread(b))}`);

  t.equal(await vigil.stop(), 0);
  t.equal(spawnSync('ip', ['netns', 'exec', lab.director, 'nft', 'list', 'table', 'netdev', 'vigil']).status, 1, 'the netdev table removed at SIGTERM');
});
