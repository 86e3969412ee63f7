// Persistence when the real server a client is held to fails: its entries go with it, the
// client's next connection picks again and is held to the new one, and stays there when the
// failed one comes back (as IPVS's persistence templates do).
import t from 'tap';
import { skipReason } from '../net/netns.ts';
import { needTools } from '../helpers/tools.ts';
import { agentStatus, until, type Proc } from '../helpers/agents.ts';
import { lbLab, spread, VIP } from './lab.ts';

const skip = skipReason() ?? needTools('nft', 'conntrack', 'python3');

t.test('persistence: a failed real server lets its clients go; they stay on the next one', { skip, timeout: 60_000 }, async (t) => {
  const lab = lbLab(t, 'vtlbp-', 'routed', 3);
  const web: Proc[] = [];
  for (const s of lab.servers) web.push(await lab.backend(s.ns, 'http', s.addr, 8080, s.name));
  const file = lab.work.file('persist.yaml', [
    'checks:', ...lab.servers.map((s) => `  - { name: ${s.name}, type: http, target: "http://${s.addr}:8080/", interval: 200ms, timeout: 150ms, rise: 2, fall: 2 }`),
    'virtualServers:',
    `  - { name: web, address: ${VIP}, port: 80, scheduler: rr, persistence: { timeout: 60s }, realServers: [${lab.servers.map((s) => `{ address: ${s.addr}, port: 8080, check: ${s.name} }`).join(', ')}] }`,
    'status: { listen: 127.0.0.1:9110 }',
  ].join('\n') + '\n');
  const vigil = lab.vigil(file);
  await vigil.waitLine(/load balancer: 1 virtual server\(s\), 3 real server\(s\) in table vigil, applied/, 20_000);
  const up = (i: number) => agentStatus(lab.director).virtualServers?.[0]?.realServers[i]?.up;
  const one = async (what: string) => {
    const s = spread(await lab.requests('http', VIP, 80, 6, 0.02));
    t.equal(Object.keys(s).length, 1, `${what}: 6 connections, one real server: ${JSON.stringify(s)}`);
    return Object.keys(s)[0];
  };

  const first = await one('held');
  const i = Number(first.slice(1)) - 1;
  await web[i].stop();
  await until(() => up(i) === false, 5000, `${first} down`, 20);
  const second = await one(`${first} down`);
  t.not(second, first, `let go by ${first}, held by ${second} now`);
  t.notOk(second === 'ERR', 'none failed');

  web[i] = await lab.backend(lab.servers[i].ns, 'http', lab.servers[i].addr, 8080, first);
  await until(() => up(i) === true, 5000, `${first} up again`, 20);
  t.equal(await one(`${first} back`), second, `${first} back: the client stays on ${second}`);
  t.equal(await vigil.stop(), 0);
});
