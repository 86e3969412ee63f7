// The table removed under vigil lb's feet, as `nft flush ruleset` does (a restart of the
// nftables service loads its own file that way): vigil lb puts its table back by itself, and
// a later change (a real server down) applies as usual.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { skipReason, nsExec } from '../net/netns.ts';
import { needTools } from '../helpers/tools.ts';
import { agentStatus, until, type Proc } from '../helpers/agents.ts';
import { lbLab, spread, VIP } from './lab.ts';

const skip = skipReason() ?? needTools('nft', 'conntrack', 'python3');

t.test('nft flush ruleset: the table comes back, changes apply after it', { skip, timeout: 60_000 }, async (t) => {
  const lab = lbLab(t, 'vtlbf-', 'routed', 2);
  const web: Proc[] = [];
  for (const s of lab.servers) web.push(await lab.backend(s.ns, 'http', s.addr, 8080, s.name));
  const file = lab.work.file('flushed.yaml', [
    'checks:', ...lab.servers.map((s) => `  - { name: ${s.name}, type: http, target: "http://${s.addr}:8080/", interval: 200ms, timeout: 150ms, rise: 2, fall: 2 }`),
    'virtualServers:',
    `  - { name: web, address: ${VIP}, port: 80, scheduler: rr, realServers: [${lab.servers.map((s) => `{ address: ${s.addr}, port: 8080, check: ${s.name} }`).join(', ')}] }`,
    'status: { listen: 127.0.0.1:9110 }',
  ].join('\n') + '\n');
  const vigil = lab.vigil(file);
  await vigil.waitLine(/load balancer: 1 virtual server\(s\), 2 real server\(s\) in table vigil, applied/, 20_000);
  t.strictSame(spread(await lab.requests('http', VIP, 80, 4)), { r1: 2, r2: 2 }, 'rr before');
  const hasTable = () => spawnSync('ip', ['netns', 'exec', lab.director, 'nft', 'list', 'table', 'inet', 'vigil'], { stdio: 'ignore' }).status === 0;

  nsExec(lab.director, 'nft', 'flush', 'ruleset');
  const flushedAt = Date.now();
  t.notOk(hasTable(), 'the ruleset flushed: no table');
  await until(hasTable, 5000, 'the table back', 50).then(() => t.pass(`the table is back ${Date.now() - flushedAt} ms after the flush`), (e) => t.fail(String(e)));
  const said = await vigil.waitLine(/load balancer: table inet vigil is gone|transaction was refused/, 3000).catch(() => '');
  t.ok(said, `the log says so: ${said && JSON.parse(said).msg.slice(0, 140)}`);
  t.strictSame(spread(await lab.requests('http', VIP, 80, 4)), { r1: 2, r2: 2 }, 'rr again');
  const refusedBefore = vigil.lines.filter((l) => /transaction was refused/.test(l)).length;

  await web[1].stop();
  await until(() => agentStatus(lab.director).virtualServers[0].realServers[1].up === false, 5000, 'r2 down', 20);
  await new Promise((r) => setTimeout(r, 300));
  t.equal(vigil.lines.filter((l) => /transaction was refused/.test(l)).length, refusedBefore, 'r2 down: the diff applied, none refused');
  t.strictSame(spread(await lab.requests('http', VIP, 80, 4)), { r1: 4 }, 'all to r1, none failed');

  // Flushed again, and a change at once: whichever comes first (the refused diff's retry, or the
  // second's look at the table), the table is back whole with r2 still out.
  nsExec(lab.director, 'nft', 'flush', 'ruleset');
  web[1] = await lab.backend(lab.servers[1].ns, 'http', lab.servers[1].addr, 8080, 'r2');
  const again = Date.now();
  await until(() => hasTable() && agentStatus(lab.director).virtualServers[0].realServers[1].up === true, 5000, 'the table back, r2 up', 20);
  await new Promise((r) => setTimeout(r, 300));
  t.strictSame(spread(await lab.requests('http', VIP, 80, 4)), { r1: 2, r2: 2 }, `flushed and r2 back at once: the table is whole ${Date.now() - again} ms later, rr over both`);
  t.equal(await vigil.stop(), 0);
});
