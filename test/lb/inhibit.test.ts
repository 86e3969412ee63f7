// A real server whose check fails while it still serves: with inhibitOnFailure its weight goes
// to 0 and its established connections go on; without it (flushOnFailure, the default) its
// conntrack entries are flushed and its clients' next writes are reset (unless the service says
// flushOnFailure: false). The check targets a second server on the real server (8080) that the
// test stops; the service's own (a line server on 9000, connections kept open) never stops.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { skipReason, nsExec } from '../net/netns.ts';
import { needTools } from '../helpers/tools.ts';
import { agentStatus, until, type Proc } from '../helpers/agents.ts';
import { lbLab, VIP } from './lab.ts';
import { Holder, count, names } from './hold.ts';

const skip = skipReason() ?? needTools('nft', 'conntrack', 'python3');

t.test('inhibitOnFailure keeps a failed real server\'s connections; flushOnFailure cuts them, or not when false', { skip, timeout: 60_000 }, async (t) => {
  const lab = lbLab(t, 'vtlbi-', 'routed', 2);
  const [r1, r2] = lab.servers;
  for (const s of lab.servers) await lab.backend(s.ns, 'line', s.addr, 9000, s.name);
  const checkSrv: Proc[] = [];
  for (const s of lab.servers) checkSrv.push(await lab.backend(s.ns, 'http', s.addr, 8080, s.name));
  const config = (inhibit: boolean, flush = true) => [
    'checks:', ...lab.servers.map((s) => `  - { name: ${s.name}, type: tcp, target: "${s.addr}:8080", interval: 200ms, timeout: 150ms, rise: 2, fall: 2 }`),
    'virtualServers:',
    `  - name: line`,
    `    address: ${VIP}`,
    '    port: 9000',
    '    scheduler: rr',
    `    flushOnFailure: ${flush}`,
    '    realServers:',
    `      - { address: ${r1.addr}, check: r1, inhibitOnFailure: ${inhibit} }`,
    `      - { address: ${r2.addr}, check: r2 }`,
    'status: { listen: 127.0.0.1:9110 }',
  ].join('\n') + '\n';
  const file = lab.work.file('inhibit.yaml', config(true));
  const vigil = lab.vigil(file);
  await vigil.waitLine(/load balancer: 1 virtual server\(s\), 2 real server\(s\) in table vigil, applied/, 20_000);
  const rsUp = (i: number) => agentStatus(lab.director).virtualServers?.[0]?.realServers[i];
  await until(() => rsUp(0)?.up === true && rsUp(1)?.up === true, 10_000, 'real servers up in /status', 50);
  // r1's connections as the director's conntrack has them (the reply direction: from r1 to the client).
  const r1Entries = () => nsExec(lab.director, 'conntrack', '-L', '-p', 'tcp', '--reply-src', r1.addr, '--reply-port-src', '9000').split('\n').filter((l) => l.includes('ESTABLISHED')).length;

  const hold = new Holder(lab.client, VIP, 9000, lab.keep);
  const first = await hold.run('open 2');
  t.strictSame(count(first), { r1: 1, r2: 1 }, `two held connections, one on each real server: ${first.join(', ')}`);

  // inhibitOnFailure: r1's check fails, r1 serves on.
  await checkSrv[0].stop();
  await until(() => rsUp(0).up === false, 5000, 'r1 down in /status', 20);
  t.match(rsUp(0), { up: false, effectiveWeight: 0 }, 'r1 down, weight 0');
  await new Promise((r) => setTimeout(r, 300));   // past the apply and any flush that would follow it
  t.equal(r1Entries(), 1, 'its conntrack entry kept');
  t.strictSame(await hold.run('ping'), first, 'both held connections answer, r1\'s included');
  const probes = await hold.run('probe 6');
  t.strictSame(count(probes), { r2: 6 }, 'new connections avoid r1');
  t.notOk(vigil.lines.some((l) => /connection\(s\) flushed/.test(l)), 'nothing flushed');

  // The default (flushOnFailure, not inhibited): r1 back, reloaded without inhibitOnFailure, fails again.
  checkSrv[0] = await lab.backend(r1.ns, 'http', r1.addr, 8080, 'r1');
  await until(() => rsUp(0).up === true, 5000, 'r1 up again', 20);
  writeFileSync(file, config(false));
  const before = vigil.lines.length;
  vigil.signal('SIGHUP');
  await until(() => vigil.lines.slice(before).some((l) => /load balancer: reloaded/.test(l)), 10_000, 'the reload', 20);
  const second = await hold.run('open 2');
  t.strictSame(count(second), { r1: 1, r2: 1 }, `two more held connections, one on each: ${second.join(', ')}`);
  t.equal(r1Entries(), 2, 'r1 holds two connections');
  const downAt = Date.now();
  await checkSrv[0].stop();
  await until(() => r1Entries() === 0, 5000, 'r1\'s conntrack entries flushed', 20);
  t.pass(`r1's conntrack entries flushed ${Date.now() - downAt} ms after its check server stopped (fall x interval = 400 ms)`);
  await vigil.waitLine(/real server 198\.51\.100\.11:9000 of line: 2 connection\(s\) flushed/, 2000);
  const ping = await hold.run('ping');
  const all = [...first, ...second];
  const got = names(ping);
  t.ok(all.every((b, i) => (b.startsWith('r1') ? got[i] === 'ERR' : ping[i] === b)), `r1's two connections are cut, r2's answer: ${ping.join(', ')}`);

  // flushOnFailure: false on the service: a failed real server's connections are kept too.
  checkSrv[0] = await lab.backend(r1.ns, 'http', r1.addr, 8080, 'r1');
  await until(() => rsUp(0).up === true, 5000, 'r1 up again', 20);
  writeFileSync(file, config(false, false));
  const mark = vigil.lines.length;
  vigil.signal('SIGHUP');
  await until(() => vigil.lines.slice(mark).some((l) => /load balancer: reloaded/.test(l)), 10_000, 'the reload', 20);
  const third = await hold.run('open 2');
  t.strictSame(count(third), { r1: 1, r2: 1 }, `two more held connections, one on each: ${third.join(', ')}`);
  await checkSrv[0].stop();
  await until(() => rsUp(0).up === false, 5000, 'r1 down in /status', 20);
  await new Promise((r) => setTimeout(r, 300));
  t.equal(r1Entries(), 1, 'flushOnFailure: false: r1\'s new connection kept in conntrack');
  t.strictSame((await hold.run('ping')).slice(all.length), third, 'and it answers');
  t.strictSame(count(await hold.run('probe 4')), { r2: 4 }, 'new connections avoid r1');
  hold.close();
  t.equal(await vigil.stop(), 0);
});
