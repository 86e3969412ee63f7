// Persistence with direct routing: the netdev ingress chain remembers each client in its real
// server's set (updated on every packet, since DR sees them all), so one client stays on one
// real server across connections; when that server fails its set is flushed and the client
// moves, to stay on the next one.
import t from 'tap';
import { skipReason, nsExec } from '../net/netns.ts';
import { needTools } from '../helpers/tools.ts';
import { agentStatus, until, type Proc } from '../helpers/agents.ts';
import { lbLab, spread, VIP } from './lab.ts';

const skip = skipReason() ?? needTools('nft', 'python3');

t.test('DR + persistence: one client, one real server; moved when it fails', { skip, timeout: 60_000 }, async (t) => {
  const lab = lbLab(t, 'vtlby-', 'lan', 3);
  const web: Proc[] = [];
  for (const s of lab.servers) web.push(await lab.backend(s.ns, 'http', '0.0.0.0', 80, s.name));
  const file = lab.work.file('drpersist.yaml', [
    'instances:',
    `  - { name: VI_1, interface: eth0, vrid: 59, priority: 150, advertInterval: 100ms, virtualAddresses: [${VIP}/24] }`,
    'checks:', ...lab.servers.map((s) => `  - { name: ${s.name}, type: http, target: "http://${s.addr}/", interval: 200ms, timeout: 150ms, rise: 2, fall: 2 }`),
    'virtualServers:',
    `  - { name: web, address: ${VIP}, port: 80, forwarding: dr, scheduler: rr, persistence: { timeout: 60s }, realServers: [${lab.servers.map((s) => `{ address: ${s.addr}, check: ${s.name} }`).join(', ')}] }`,
    'status: { listen: 127.0.0.1:9110 }',
  ].join('\n') + '\n');
  const vigil = lab.vigil(file);
  await vigil.waitLine(/load balancer: 1 virtual server\(s\), 3 real server\(s\) in table vigil, applied/, 20_000);
  await until(() => nsExec(lab.director, 'ip', '-br', 'addr', 'show', 'eth0').includes(VIP), 10_000, 'the director to hold the VIP', 20);
  const one = async (what: string) => {
    const s = spread(await lab.requests('http', VIP, 80, 10, 0.02));
    t.ok(Object.keys(s).length === 1 && !s.ERR, `${what}: 10 connections, one real server: ${JSON.stringify(s)}`);
    return Object.keys(s)[0];
  };
  const first = await one('held');
  const i = Number(first.slice(1)) - 1;
  await web[i].stop();
  await until(() => agentStatus(lab.director).virtualServers[0].realServers[i].up === false, 5000, `${first} down`, 20);
  const second = await one(`${first} down`);
  t.not(second, first, `moved from ${first} to ${second}`);
  t.equal(await vigil.stop(), 0);
});
