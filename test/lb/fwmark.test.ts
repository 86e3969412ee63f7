// A fwmark virtual server (NAT): the director's own nft rule marks the packets of a service of
// two ports (tcp dport { 80, 8080 } to the VIP: meta mark set 7, prerouting at mangle priority,
// in a table of the test's), and vigil's `fwmark: 7` balances both, each real server's port 0
// keeping the packet's own port. An unmarked port of the VIP is not balanced.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { skipReason, nsExec } from '../net/netns.ts';
import { needTools } from '../helpers/tools.ts';
import { agentStatus, until } from '../helpers/agents.ts';
import { lbLab, spread, VIP } from './lab.ts';

const skip = skipReason() ?? needTools('nft', 'conntrack', 'python3');

t.test('fwmark 7 over ports 80 and 8080: rr on both, the packet\'s port kept, other ports untouched', { skip, timeout: 60_000 }, async (t) => {
  const lab = lbLab(t, 'vtlbm-', 'routed', 2);
  for (const s of lab.servers) for (const p of [80, 8080, 9090]) await lab.backend(s.ns, 'http', s.addr, p, `${s.name}:${p}`);
  execFileSync('ip', ['netns', 'exec', lab.director, 'nft', '-f', '-'], { input: [
    'table inet vtlbm {',
    '  chain premark { type filter hook prerouting priority mangle; policy accept;',
    `    ip daddr ${VIP} tcp dport { 80, 8080 } meta mark set 7`,
    '  }',
    '}',
  ].join('\n') + '\n' });
  const file = lab.work.file('fwmark.yaml', [
    'checks:', ...lab.servers.map((s) => `  - { name: ${s.name}, type: tcp, target: "${s.addr}:8080", interval: 250ms, timeout: 200ms, rise: 2, fall: 2 }`),
    'virtualServers:',
    `  - { name: marked, fwmark: 7, scheduler: rr, realServers: [${lab.servers.map((s) => `{ address: ${s.addr}, check: ${s.name} }`).join(', ')}] }`,
    'status: { listen: 127.0.0.1:9110 }',
  ].join('\n') + '\n');
  const vigil = lab.vigil(file);
  await vigil.waitLine(/load balancer: 1 virtual server\(s\), 2 real server\(s\) in table vigil, applied/, 20_000);
  await until(() => agentStatus(lab.director).virtualServers?.[0]?.realServers.every((r: { up: boolean }) => r.up) === true, 10_000, 'real servers up in /status', 50);
  t.match(nsExec(lab.director, 'nft', 'list', 'map', 'inet', 'vigil', 'marks'), /0x00000007 : goto vs-marked/, 'the mark map dispatches mark 7 to the service');

  const a80 = await lab.requests('http', VIP, 80, 10);
  t.strictSame(spread(a80), { 'r1:80': 5, 'r2:80': 5 }, 'port 80: rr over both real servers, to their port 80');
  const a8080 = await lab.requests('http', VIP, 8080, 10);
  t.strictSame(spread(a8080), { 'r1:8080': 5, 'r2:8080': 5 }, 'port 8080: rr over both real servers, to their port 8080');
  t.ok([...a80, ...a8080].every((x) => x.body.endsWith(' 203.0.113.10')), 'each real server sees the client\'s own address');
  const other = await lab.requests('http', VIP, 9090, 2);
  t.strictSame(spread(other), { ERR: 2 }, `port 9090 is not marked, so not balanced (nothing at ${VIP}:9090): ${other[0].body}`);

  // Without the mark rule the service takes nothing: it is the mark that selects.
  nsExec(lab.director, 'nft', 'delete', 'table', 'inet', 'vtlbm');
  const unmarked = await lab.requests('http', VIP, 80, 2);
  t.strictSame(spread(unmarked), { ERR: 2 }, 'the mark rule removed: port 80 is not balanced either');
  t.equal(await vigil.stop(), 0);
});
