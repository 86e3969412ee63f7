// Direct routing over IPv6: the lan lab with IPv6 beside its IPv4 (2001:db8:5::/64 on the one
// bridge), the VIP 2001:db8:5::100 on the director's eth0 and on each real server's lo (IPv6
// answers neighbour solicitations only for the receiving interface's addresses, so no
// arp_ignore is needed). The director forwards to the real servers' MACs (nft `fwd ip6`);
// each real server answers the client straight, from the VIP, seeing the client's own address.
import t from 'tap';
import { skipReason, nsExec } from '../net/netns.ts';
import { needTools } from '../helpers/tools.ts';
import { agentStatus, until, type Proc } from '../helpers/agents.ts';
import { lbLab, spread } from './lab.ts';

const skip = skipReason() ?? needTools('nft', 'python3');
const VIP6 = '2001:db8:5::100';
const CLIENT6 = '2001:db8:5::10';

t.test('DR over IPv6: spread, the client\'s own address, a dead real server left out', { skip, timeout: 60_000 }, async (t) => {
  const lab = lbLab(t, 'vtlbd6-', 'lan', 3);
  const addr6 = (ns: string, a: string, dev = 'eth0') => nsExec(ns, 'ip', '-6', 'addr', 'add', a, 'dev', dev, 'nodad');
  addr6(lab.client, `${CLIENT6}/64`);
  addr6(lab.director, '2001:db8:5::1/64');
  // Deprecated (preferred_lft 0): never the source of the director's own connections. Linux
  // otherwise picks the newest address of equal prefix, the VIP, for the checks, and each real
  // server (holding the VIP) answers itself: every check fails.
  nsExec(lab.director, 'ip', '-6', 'addr', 'add', `${VIP6}/64`, 'dev', 'eth0', 'nodad', 'preferred_lft', '0');
  const rs = lab.servers.map((s, i) => ({ ...s, addr6: `2001:db8:5::${11 + i}` }));
  const web: Proc[] = [];
  for (const s of rs) {
    addr6(s.ns, `${s.addr6}/64`);
    addr6(s.ns, `${VIP6}/128`, 'lo');
    web.push(await lab.backend(s.ns, 'http', '::', 80, s.name));
  }
  const file = lab.work.file('dr6.yaml', [
    'checks:', ...rs.map((s) => `  - { name: ${s.name}, type: http, target: "http://[${s.addr6}]/", interval: 250ms, timeout: 200ms, rise: 2, fall: 2 }`),
    'virtualServers:',
    `  - { name: web6, address: "${VIP6}", port: 80, scheduler: wrr, forwarding: dr, interface: eth0, realServers: [${rs.map((s) => `{ address: "${s.addr6}", check: ${s.name} }`).join(', ')}] }`,
    'status: { listen: 127.0.0.1:9110 }',
  ].join('\n') + '\n');
  const vigil = lab.vigil(file);
  await vigil.waitLine(/load balancer: 1 virtual server\(s\), 3 real server\(s\) in table vigil, applied/, 20_000);
  await until(() => agentStatus(lab.director).virtualServers?.[0]?.realServers.every((r: { up: boolean }) => r.up) === true, 10_000, 'real servers up in /status', 50);
  t.match(nsExec(lab.director, 'nft', 'list', 'table', 'netdev', 'vigil'), new RegExp(`fwd ip6 to ${rs[0].addr6} device "eth0"`), 'the netdev table forwards over IPv6');

  const a = await lab.requests('http', VIP6, 80, 60);
  const s = spread(a);
  t.notOk(s.ERR, `no connection failed${s.ERR ? `: ${a.find((x) => x.body.startsWith('ERR'))?.body}` : ''}`);
  t.strictSame(Object.keys(s).sort(), ['r1', 'r2', 'r3'], `every real server answered: ${JSON.stringify(s)}`);
  t.ok(a.every((x) => x.body.endsWith(` ${CLIENT6}`)), `each real server saw the client's own address (${a[0]?.body})`);

  await web[0].stop();
  await until(() => agentStatus(lab.director).virtualServers[0].realServers[0].up === false, 5000, 'r1 down', 20);
  const b = spread(await lab.requests('http', VIP6, 80, 30));
  t.notOk(b.ERR, 'none failed');
  t.notOk(b.r1, `r1 left out: ${JSON.stringify(b)}`);
  t.equal(await vigil.stop(), 0);
});
