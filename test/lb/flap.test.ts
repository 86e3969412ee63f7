// A check flapping while traffic flows: r2's check looks at a server of its own that the test
// starts and stops every 300 ms for 4 s (r2's service never stops; inhibitOnFailure keeps its
// connections). A probe train through the VIP meanwhile: not one connection fails (each flap is
// a few slot elements swapped, never the table rebuilt), r2 takes new connections only while up.
import t from 'tap';
import { skipReason } from '../net/netns.ts';
import { needTools } from '../helpers/tools.ts';
import { agentStatus, until, type Proc } from '../helpers/agents.ts';
import { lbLab, spread, VIP } from './lab.ts';

const skip = skipReason() ?? needTools('nft', 'python3');

t.test('a flapping check: no connection fails', { skip, timeout: 60_000 }, async (t) => {
  const lab = lbLab(t, 'vtlbfl-', 'routed', 2);
  const [r1, r2] = lab.servers;
  for (const s of lab.servers) await lab.backend(s.ns, 'http', s.addr, 8080, s.name);
  let check: Proc = await lab.backend(r2.ns, 'http', r2.addr, 9000, 'check');
  const file = lab.work.file('flap.yaml', [
    'checks:',
    `  - { name: c1, type: tcp, target: "${r1.addr}:8080", interval: 100ms, timeout: 80ms, rise: 1, fall: 1 }`,
    `  - { name: c2, type: tcp, target: "${r2.addr}:9000", interval: 100ms, timeout: 80ms, rise: 1, fall: 1 }`,
    'virtualServers:',
    `  - { name: web, address: ${VIP}, port: 80, scheduler: rr, realServers: [{ address: ${r1.addr}, port: 8080, check: c1 }, { address: ${r2.addr}, port: 8080, check: c2, inhibitOnFailure: true }] }`,
    'status: { listen: 127.0.0.1:9110 }',
  ].join('\n') + '\n');
  const vigil = lab.vigil(file);
  await vigil.waitLine(/load balancer: 1 virtual server\(s\), 2 real server\(s\) in table vigil, applied/, 20_000);
  await until(() => agentStatus(lab.director).virtualServers?.[0]?.realServers.every((r: { up: boolean }) => r.up) === true, 10_000, 'up', 50);

  const from = vigil.lines.length;
  const train = lab.requests('http', VIP, 80, 200, 0.02, true);
  let flaps = 0;
  const end = Date.now() + 4000;
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, 300));
    await check.stop();
    await new Promise((r) => setTimeout(r, 300));
    check = await lab.backend(r2.ns, 'http', r2.addr, 9000, 'check');
    flaps++;
  }
  const a = await train;
  const s = spread(a);
  const downs = vigil.lines.slice(from).filter((l) => /198\.51\.100\.12:8080 of web is down/.test(l)).length;
  t.ok(downs >= 3, `r2 went down ${downs} times in ${flaps} flaps of its check server`);
  t.notOk(s.ERR, `${a.length} connections during the flapping, none failed: ${JSON.stringify(s)}`);
  t.ok((s.r1 ?? 0) > (s.r2 ?? 0), 'r1 took more (r2 out part of the time)');
  t.notOk(vigil.lines.slice(from).some((l) => /refused/.test(l)), 'no transaction refused');
  t.equal(await vigil.stop(), 0);
});
