// Quorum and hysteresis on the real kernel, as keepalived defines them: with quorum 2 and
// hysteresis 1 the quorum is lost only below 2 - 1 = 1 healthy real server and regained only
// at 2 + 1 = 3. While it is lost the sorry server answers; quorumDown / quorumUp run once each,
// with the virtual server's name, the state and the healthy count.
import t from 'tap';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { skipReason } from '../net/netns.ts';
import { needTools } from '../helpers/tools.ts';
import { agentStatus, until, type Proc } from '../helpers/agents.ts';
import { lbLab, spread, VIP } from './lab.ts';

const skip = skipReason() ?? needTools('nft', 'conntrack', 'python3');

t.test('quorum 2, hysteresis 1: lost at 0 healthy, back at 3; the sorry server and the hooks', { skip, timeout: 60_000 }, async (t) => {
  const lab = lbLab(t, 'vtlbq-', 'routed', 3, true);
  const web: Proc[] = [];
  for (const s of lab.servers) web.push(await lab.backend(s.ns, 'http', s.addr, 8080, s.name));
  await lab.backend(lab.sorry!.ns, 'http', lab.sorry!.addr, 8080, 'sorry');
  const log = join(lab.work.dir, 'hooks.log');
  const hook = (name: string) => { const p = lab.work.file(name, `#!/bin/sh\necho "${name} $*" >> ${log}\n`); chmodSync(p, 0o755); return p; };
  const file = lab.work.file('quorum.yaml', [
    'checks:', ...lab.servers.map((s) => `  - { name: ${s.name}, type: http, target: "http://${s.addr}:8080/", interval: 200ms, timeout: 150ms, rise: 2, fall: 2 }`),
    'virtualServers:',
    `  - { name: web, address: ${VIP}, port: 80, scheduler: rr, quorum: 2, hysteresis: 1, sorryServer: "${lab.sorry!.addr}:8080",`,
    `      notify: { quorumUp: ${hook('up.sh')}, quorumDown: ${hook('down.sh')} },`,
    `      realServers: [${lab.servers.map((s) => `{ address: ${s.addr}, port: 8080, check: ${s.name} }`).join(', ')}] }`,
    'status: { listen: 127.0.0.1:9110 }',
  ].join('\n') + '\n');
  const vigil = lab.vigil(file);
  await vigil.waitLine(/load balancer: 1 virtual server\(s\), 3 real server\(s\) in table vigil, applied/, 20_000);
  const st = () => agentStatus(lab.director).virtualServers[0];
  const hooks = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
  const healthy = (n: number) => until(() => st().quorum.healthy === n, 5000, `${n} healthy`, 20);
  const answers = async () => spread(await lab.requests('http', VIP, 80, 3));

  await web[0].stop(); await healthy(2);
  await web[1].stop(); await healthy(1);
  t.match(st().quorum, { up: true, healthy: 1, needed: 2 }, '1 healthy, below the quorum but not below quorum - hysteresis: still up');
  t.strictSame(await answers(), { r3: 3 }, 'r3 answers');
  await web[2].stop(); await healthy(0);
  t.match(st().quorum, { up: false, sorry: true }, '0 healthy: lost');
  t.strictSame(await answers(), { sorry: 3 }, 'the sorry server answers');
  await until(() => hooks().length >= 1, 3000, 'the quorumDown hook', 20).catch(() => {});
  t.strictSame(hooks(), ['down.sh VIRTUAL_SERVER web DOWN 0'], 'quorumDown ran once: name, DOWN, 0 healthy');

  for (const i of [0, 1]) {
    web[i] = await lab.backend(lab.servers[i].ns, 'http', lab.servers[i].addr, 8080, lab.servers[i].name);
    await healthy(i + 1);
    t.match(st().quorum, { up: false }, `${i + 1} healthy: still lost (back only at quorum + hysteresis = 3)`);
    t.strictSame(await answers(), { sorry: 3 }, 'the sorry server still answers');
  }
  web[2] = await lab.backend(lab.servers[2].ns, 'http', lab.servers[2].addr, 8080, 'r3');
  await healthy(3);
  await until(() => st().quorum.up === true, 3000, 'quorum back', 20);
  const back = spread(await lab.requests('http', VIP, 80, 6));
  t.ok(!back.ERR && back.r1 && back.r2 && back.r3, `3 healthy: back, rr over all three (2 / 2 / 2 when exact): ${JSON.stringify(back)}`);
  await until(() => hooks().length >= 2, 3000, 'the quorumUp hook', 20).catch(() => {});
  t.strictSame(hooks(), ['down.sh VIRTUAL_SERVER web DOWN 0', 'up.sh VIRTUAL_SERVER web UP 3'], 'quorumUp ran once: name, UP, 3 healthy');
  t.equal(await vigil.stop(), 0);
});
