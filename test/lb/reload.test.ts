// A broken reload: SIGHUP with a config that does not parse keeps the running table (the
// kernel's ruleset unchanged, traffic as before) and logs the refusal with file:line:col. Both
// ways a SIGHUP comes: to `vigil run` (the supervisor reads the file first), and straight to
// `vigil lb` (the file broken after the supervisor read it, or a HUP sent by hand).
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { skipReason, nsExec } from '../net/netns.ts';
import { needTools } from '../helpers/tools.ts';
import { until } from '../helpers/agents.ts';
import { lbLab, spread, VIP } from './lab.ts';

const skip = skipReason() ?? needTools('nft', 'python3');

t.test('a config that does not parse: refused with file:line:col, the table and traffic unchanged', { skip, timeout: 60_000 }, async (t) => {
  const lab = lbLab(t, 'vtlbr-', 'routed', 2);
  for (const s of lab.servers) await lab.backend(s.ns, 'http', s.addr, 8080, s.name);
  const good = (w: number) => [
    'virtualServers:',
    '  - name: web',
    `    address: ${VIP}`,
    '    port: 80',
    '    scheduler: wrr',
    '    realServers:',
    ...lab.servers.map((s) => `      - { address: ${s.addr}, port: 8080, weight: ${s.name === 'r1' ? w : 1} }`),
  ].join('\n') + '\n';
  const file = lab.work.file('reload.yaml', good(1));
  const vigil = lab.vigil(file);
  await vigil.waitLine(/load balancer: 1 virtual server\(s\), 2 real server\(s\) in table vigil, applied/, 20_000);
  // The ruleset without the counters' running figures.
  const table = () => nsExec(lab.director, 'nft', 'list', 'table', 'inet', 'vigil').replace(/packets \d+ bytes \d+/g, '');
  const before = table();
  t.strictSame(spread(await lab.requests('http', VIP, 80, 4)), { r1: 2, r2: 2 }, 'wrr 1:1 before');

  // 1. Through the supervisor: a port that is not a number, at line 4 col 11.
  writeFileSync(file, good(1).replace('    port: 80', '    port: eighty'));
  let from = vigil.lines.length;
  vigil.signal('SIGHUP');
  const refused = await vigil.waitLine(/reload refused/, 10_000);
  t.match(refused, new RegExp(`${file.replace(/[.]/g, '\\.')}:4:11`), `the refusal names file:line:col: ${JSON.parse(refused).msg.slice(0, 160)}`);
  await new Promise((r) => setTimeout(r, 500));
  t.notOk(vigil.lines.slice(from).some((l) => /load balancer: reloaded/.test(l)), 'the load balancer is not reloaded');
  t.equal(table(), before, 'the table is unchanged');
  t.strictSame(spread(await lab.requests('http', VIP, 80, 4)), { r1: 2, r2: 2 }, 'traffic as before');

  // 2. Straight to vigil lb: a YAML syntax error (an unclosed flow mapping) at the real servers.
  const lbPid = Number(readFileSync(`/proc/${vigil.child.pid}/task/${vigil.child.pid}/children`, 'utf8').trim().split(/\s+/)
    .find((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes('lb')));
  t.ok(lbPid > 0, `vigil lb is pid ${lbPid}`);
  writeFileSync(file, good(1).replace(`{ address: ${lab.servers[1].addr}, port: 8080, weight: 1 }`, `{ address: ${lab.servers[1].addr}, port: 8080, weight: 1`));
  from = vigil.lines.length;
  process.kill(lbPid, 'SIGHUP');
  await until(() => vigil.lines.slice(from).some((l) => /load balancer: reload refused/.test(l)), 10_000, 'vigil lb\'s refusal', 20);
  const lbRefused = vigil.lines.slice(from).find((l) => /load balancer: reload refused/.test(l))!;
  t.match(lbRefused, new RegExp(`${file.replace(/[.]/g, '\\.')}:\\d+:\\d+`), `vigil lb's refusal names file:line:col: ${JSON.parse(lbRefused).msg.slice(0, 200)}`);
  t.equal(table(), before, 'the table is unchanged');
  t.strictSame(spread(await lab.requests('http', VIP, 80, 4)), { r1: 2, r2: 2 }, 'traffic as before');

  // 3. Mended, with a change: applied.
  writeFileSync(file, good(3));
  from = vigil.lines.length;
  vigil.signal('SIGHUP');
  await until(() => vigil.lines.slice(from).some((l) => /load balancer: reloaded/.test(l)), 10_000, 'the reload', 20);
  t.not(table(), before, 'a good config after it applies');
  // 64 connections: one whole turn of the slot table (3:1 laid over the 1:1 table's 64 slots).
  t.strictSame(spread(await lab.requests('http', VIP, 80, 64)), { r1: 48, r2: 16 }, 'wrr 3:1 now, over one turn of the slot table');
  t.equal(await vigil.stop(), 0);
});
