// A UDP virtual server (NAT): three real DNS servers, each answering svc.example with its own
// address, checked by dns checks; the client's queries go to the VIP and the answers come back
// from it (the client's socket is connected to the VIP, so no other source would do).
import t from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { skipReason } from '../net/netns.ts';
import { needTools } from '../helpers/tools.ts';
import { Proc, agentStatus, until } from '../helpers/agents.ts';
import { lbLab, spread, VIP } from './lab.ts';

const skip = skipReason() ?? needTools('nft', 'conntrack', 'python3');
const DNS = fileURLToPath(new URL('../checks/backend.py', import.meta.url));

t.test('UDP (DNS) through the VIP: rr over three servers, sh pins a client, a dead one left out', { skip, timeout: 120_000 }, async (t) => {
  const lab = lbLab(t, 'vtlbu-', 'routed', 3);
  const answers = lab.servers.map((_, i) => `203.0.113.${201 + i}`);
  const dns: Proc[] = [];
  for (const [i, s] of lab.servers.entries()) {
    const p = lab.keep(new Proc(spawn('ip', ['netns', 'exec', s.ns, 'python3', DNS, 'dns', s.addr, '53', 'svc.example', answers[i]], { stdio: ['ignore', 'pipe', 'pipe'] })));
    await p.waitLine(/^ready$/, 10_000);
    dns.push(p);
  }
  const cfg = (sched: string) => [
    'instances:',
    `  - { name: VI_1, interface: eth0, vrid: 53, priority: 150, advertInterval: 100ms, virtualAddresses: [${VIP}/32] }`,
    'checks:', ...lab.servers.map((s) => `  - { name: ${s.name}, type: dns, target: "${s.addr}", query: svc.example, interval: 100ms, timeout: 80ms, rise: 2, fall: 2 }`),
    'virtualServers:',
    `  - { name: dns, address: ${VIP}, port: 53, protocol: udp, scheduler: ${sched}, realServers: [${lab.servers.map((s) => `{ address: ${s.addr}, check: ${s.name} }`).join(', ')}] }`,
    'status: { listen: 127.0.0.1:9110 }',
  ].join('\n') + '\n';
  const file = lab.work.file('udp.yaml', cfg('rr'));
  const vigil = lab.vigil(file);
  await vigil.waitLine(/load balancer: 1 virtual server\(s\), 3 real server\(s\)/, 20_000);
  const name = (ip: string) => lab.servers[answers.indexOf(ip)]?.name ?? ip;
  const ask = async (n: number) => (await lab.requests('dns', VIP, 53, n)).map((a) => ({ ...a, body: name(a.body) }));

  t.strictSame(spread(await ask(30)), { r1: 10, r2: 10, r3: 10 }, 'rr: each query a new flow, 10 / 10 / 10');
  await dns[2].stop();
  await until(() => agentStatus(lab.director).virtualServers[0].realServers[2].up === false, 5000, 'r3 down', 20);
  const after = spread(await ask(20));
  t.strictSame(after, { r1: 10, r2: 10 }, 'r3 left out, no query lost');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(file, cfg('sh'));
  vigil.signal('SIGHUP');
  await vigil.waitLine(/load balancer: reloaded/, 10_000);
  await new Promise((r) => setTimeout(r, 200));
  t.equal(Object.keys(spread(await ask(12))).length, 1, 'sh: one client, one server');
});
