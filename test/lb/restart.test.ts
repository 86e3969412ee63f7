// The data plane outlives the agent: vigil run killed (SIGKILL, no clean stop) leaves the table
// and forwarding goes on; a new vigil run adopts the table in one transaction, with no failed
// connection across its start; with loadBalancer.removeOnStop: false a clean stop keeps it too.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { skipReason } from '../net/netns.ts';
import { needTools } from '../helpers/tools.ts';
import { lbLab, spread, VIP } from './lab.ts';

const skip = skipReason() ?? needTools('nft', 'python3');

t.test('killed, restarted, stopped with removeOnStop: false: forwarding never stops', { skip, timeout: 60_000 }, async (t) => {
  const lab = lbLab(t, 'vtlbx-', 'routed', 2);
  for (const s of lab.servers) await lab.backend(s.ns, 'http', s.addr, 8080, s.name);
  const config = (keep: boolean) => [
    'virtualServers:',
    `  - { name: web, address: ${VIP}, port: 80, scheduler: rr, realServers: [${lab.servers.map((s) => `{ address: ${s.addr}, port: 8080 }`).join(', ')}] }`,
    ...(keep ? ['loadBalancer: { removeOnStop: false }'] : []),
  ].join('\n') + '\n';
  const file = lab.work.file('restart.yaml', config(false));
  const hasTable = () => spawnSync('ip', ['netns', 'exec', lab.director, 'nft', 'list', 'table', 'inet', 'vigil'], { stdio: 'ignore' }).status === 0;
  const applied = /load balancer: 1 virtual server\(s\), 2 real server\(s\) in table vigil, applied/;
  let vigil = lab.vigil(file);
  await vigil.waitLine(applied, 20_000);

  // A probe train (a new connection every 20 ms) across the kill and the restart.
  const train = lab.requests('http', VIP, 80, 250, 0.02, true);
  await new Promise((r) => setTimeout(r, 500));
  vigil.signal('SIGKILL');
  await vigil.exited;
  await new Promise((r) => setTimeout(r, 800));
  t.ok(hasTable(), 'vigil run killed: the table stays');
  vigil = lab.vigil(file);
  await vigil.waitLine(applied, 20_000);
  const adoptedAt = Date.now();
  const a = await train;
  t.ok(a[a.length - 1].at > adoptedAt + 200, `the train ran on ${(a[a.length - 1].at - adoptedAt).toFixed(0)} ms past the new vigil's first apply`);
  const s = spread(a);
  t.notOk(s.ERR, `${a.length} connections across the kill and the restart, none failed: ${JSON.stringify(s)}`);
  t.ok((s.r1 ?? 0) > 80 && (s.r2 ?? 0) > 80, 'both real servers answered throughout');

  // removeOnStop: false: a clean stop keeps the table; forwarding goes on without vigil.
  writeFileSync(file, config(true));
  const from = vigil.lines.length;
  vigil.signal('SIGHUP');
  await new Promise((r) => setTimeout(r, 1000));
  t.ok(vigil.lines.slice(from).some((l) => /load balancer: reloaded/.test(l)), 'reloaded with removeOnStop: false');
  t.equal(await vigil.stop(), 0);
  t.ok(hasTable(), 'a clean stop with removeOnStop: false: the table stays');
  t.strictSame(spread(await lab.requests('http', VIP, 80, 4)), { r1: 2, r2: 2 }, 'forwarding without vigil');
});
