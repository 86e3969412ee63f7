// The load balancer end to end, NAT: a client, a director running `vigil run` and three real
// servers (real HTTP servers answering with their names), in namespaces. Schedulers, a reload,
// persistence, a backend killed and brought back, all killed (the sorry server), /status and
// /metrics, and `vigil lb dump`.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { skipReason, nsExec } from '../net/netns.ts';
import { needTools } from '../helpers/tools.ts';
import { VIGIL, agentStatus, until, type Proc } from '../helpers/agents.ts';
import { lbLab, spread, VIP } from './lab.ts';

const skip = skipReason() ?? needTools('nft', 'conntrack', 'python3');
const CHECK = { interval: 100, fall: 2, rise: 2 };

function config(lab: ReturnType<typeof lbLab>, vs: string): string {
  const checks = lab.servers.map((s) => `  - { name: ${s.name}, type: http, target: "http://${s.addr}:8080/", interval: ${CHECK.interval}ms, timeout: 80ms, rise: ${CHECK.rise}, fall: ${CHECK.fall} }`);
  return [
    'instances:',
    '  - { name: VI_1, interface: eth0, vrid: 51, priority: 150, advertInterval: 100ms, virtualAddresses: [192.0.2.100/32] }',
    'checks:', ...checks,
    'virtualServers:',
    `  - name: web`,
    `    address: ${VIP}`,
    '    port: 80',
    vs,
    `    sorryServer: ${lab.sorry!.addr}:8080`,
    '    realServers:',
    ...lab.servers.map((s, i) => `      - { address: ${s.addr}, port: 8080, check: ${s.name}, weight: ${[3, 1, 1][i]} }`),
    'status: { listen: 127.0.0.1:9110 }',
  ].join('\n') + '\n';
}

t.test('NAT: rr, wrr, sh, persistence, a dead backend, the sorry server', { skip, timeout: 180_000 }, async (t) => {
  const lab = lbLab(t, 'vtlbn-', 'routed', 3, true);
  const backends: Proc[] = [];
  for (const s of lab.servers) backends.push(await lab.backend(s.ns, 'http', s.addr, 8080, s.name));
  await lab.backend(lab.sorry!.ns, 'http', lab.sorry!.addr, 8080, 'sorry');
  const file = lab.work.file('director.yaml', config(lab, '    scheduler: rr'));
  const vigil = lab.vigil(file);
  await vigil.waitLine(/load balancer: 1 virtual server\(s\), 3 real server\(s\) in table vigil, applied/, 20_000);
  await until(() => agentStatus(lab.director).virtualServers?.[0]?.realServers.every((r: { up: boolean }) => r.up) === true, 10_000, 'real servers up in /status', 50);
  const reload = async (vs: string) => {
    writeFileSync(file, config(lab, vs));
    const before = vigil.lines.length;
    vigil.signal('SIGHUP');
    // Logged once the kernel has the new table.
    await until(() => vigil.lines.slice(before).some((l) => /load balancer: reloaded/.test(l)), 10_000, 'the reload', 20);
  };

  t.test('rr: 30 new connections, 10 / 10 / 10', async (t) => {
    const a = await lab.requests('http', VIP, 80, 30);
    t.strictSame(spread(a), { r1: 10, r2: 10, r3: 10 });
    t.ok(a.every((x) => x.body.endsWith(' 203.0.113.10')), 'each real server sees the client\'s own address (NAT, no SNAT)');
  });

  t.test('wrr 3:1:1 after a reload: exactly 3:1:1 over whole cycles', async (t) => {
    await reload('    scheduler: wrr');
    const a = await lab.requests('http', VIP, 80, 50);
    // The slot table is deterministic: each cycle of 5 new connections is 3 + 1 + 1.
    t.strictSame(spread(a), { r1: 30, r2: 10, r3: 10 }, 'tolerance 0: 50 connections are 10 whole cycles');
  });

  t.test('sh: one client, one server', async (t) => {
    await reload('    scheduler: sh');
    const a = await lab.requests('http', VIP, 80, 20);
    t.equal(Object.keys(spread(a)).length, 1, `all 20 to ${Object.keys(spread(a))[0]}`);
  });

  t.test('persistence: a client held for its timeout, then let go', async (t) => {
    await reload('    scheduler: rr\n    persistence: { timeout: 1s }');
    const first = await lab.requests('http', VIP, 80, 8, 0.05);
    t.equal(Object.keys(spread(first)).length, 1, `8 connections within the timeout: all to ${Object.keys(spread(first))[0]}`);
    const seen = new Set<string>();
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 1600));
      seen.add((await lab.requests('http', VIP, 80, 1))[0].body.split(' ')[0]);
    }
    t.ok(seen.size >= 2, `after each timeout the client is let go: rr gave ${[...seen].join(', ')}`);
  });

  t.test('persistence outlives vigil lb: killed, restarted by the supervisor, its clients kept', async (t) => {
    await reload('    scheduler: rr\n    persistence: { timeout: 60s }');
    const pinned = Object.keys(spread(await lab.requests('http', VIP, 80, 3)));
    t.equal(pinned.length, 1, `pinned to ${pinned[0]}`);
    const lbPid = execFileSync('ip', ['netns', 'pids', lab.director], { encoding: 'utf8' }).trim().split('\n')
      .find((pid) => { try { return / lb /.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ') + ' '); } catch { return false; } });
    t.ok(lbPid, 'vigil lb runs');
    const before = vigil.lines.length;
    process.kill(Number(lbPid), 'SIGKILL');
    await until(() => vigil.lines.slice(before).some((l) => /load balancer: 1 virtual server/.test(l)), 10_000, 'vigil lb restarted', 20);
    // Before any new connection: the new table already holds the client in its server's set.
    const server = lab.servers.find((x) => x.name === pinned[0])!;
    const set = nsExec(lab.director, 'nft', 'list', 'set', 'inet', 'vigil', `aff-web-${server.addr.replace(/\./g, '_')}-8080-60s`);
    t.match(set, /elements = \{ 203\.0\.113\.10 expires [45]\ds/, 'the client carried over into the new table, with the time it had left');
    t.strictSame(Object.keys(spread(await lab.requests('http', VIP, 80, 6))), pinned, 'the same real server after the restart');
  });

  t.test('a backend killed: out within fall x interval + apply, no failure after; back after rise', async (t) => {
    await reload('    scheduler: rr');
    const load = lab.requests('http', VIP, 80, 150, 0.02);
    await new Promise((r) => setTimeout(r, 800));
    const killedAt = Date.now();
    await backends[1].stop();
    const a = await load;
    const bad = a.filter((x) => x.at > killedAt && (x.body.startsWith('ERR') || x.body.startsWith('r2 ')));
    const lastBad = bad.length ? bad[bad.length - 1].at - killedAt : 0;
    const bound = CHECK.fall * CHECK.interval + 300;
    t.ok(lastBad <= bound, `last connection to r2 or failed ${lastBad.toFixed(0)} ms after the kill (fall x interval = ${CHECK.fall * CHECK.interval} ms; bound ${bound} ms)`);
    const after = a.filter((x) => x.at > killedAt + bound);
    t.ok(after.length > 50, `${after.length} connections after the bound`);
    t.strictSame(spread(after), { r1: after.filter((x) => x.body.startsWith('r1')).length, r3: after.filter((x) => x.body.startsWith('r3')).length }, 'after it: only r1 and r3, none failed');
    const st = agentStatus(lab.director).virtualServers[0];
    t.match(st.realServers[1], { address: lab.servers[1].addr, up: false, effectiveWeight: 0 }, '/status: r2 down, weight 0');
    t.match(st.quorum, { up: true, healthy: 2, needed: 1 });

    backends[1] = await lab.backend(lab.servers[1].ns, 'http', lab.servers[1].addr, 8080, 'r2');
    const backAt = Date.now();
    await until(() => agentStatus(lab.director).virtualServers[0].realServers[1].up === true, 5000, 'r2 back in /status', 20);
    const back = await lab.requests('http', VIP, 80, 9);
    t.strictSame(spread(back), { r1: 3, r2: 3, r3: 3 }, `r2 back in rotation (${Date.now() - backAt} ms after it was, rise x interval = ${CHECK.rise * CHECK.interval} ms)`);
  });

  t.test('all killed: the sorry server answers; /metrics says why', async (t) => {
    for (const b of backends) await b.stop();
    await until(() => agentStatus(lab.director).virtualServers[0].quorum.up === false, 5000, 'quorum lost', 20);
    const a = await lab.requests('http', VIP, 80, 6);
    t.strictSame(spread(a), { sorry: 6 }, 'every connection to the sorry server');
    const m = spawnSync('ip', ['netns', 'exec', lab.director, 'curl', '-s', '127.0.0.1:9110/metrics'], { encoding: 'utf8' });
    const metrics = m.status === 0 ? m.stdout : nsExec(lab.director, 'python3', '-c', 'import urllib.request;print(urllib.request.urlopen("http://127.0.0.1:9110/metrics").read().decode())');
    t.match(metrics, /vigil_virtual_server_quorum\{virtual_server="web"\} 0/);
    t.match(metrics, new RegExp(`vigil_real_server_up\\{virtual_server="web",address="${lab.servers[0].addr}",port="8080"\\} 0`));
    t.match(metrics, /vigil_real_server_packets_total\{virtual_server="web",address="198.51.100.11",port="8080"\} [1-9]/, 'packets counted per real server');
    await vigil.waitLine(/quorum lost/, 1000);
  });

  t.test('vigil lb dump shows the applied rules', async (t) => {
    const d = spawnSync('ip', ['netns', 'exec', lab.director, VIGIL, 'lb', 'dump', '-c', file], { encoding: 'utf8' });
    t.equal(d.status, 0, d.stderr);
    t.match(d.stdout, /table inet vigil/);
    t.match(d.stdout, /192\.0\.2\.100 \. tcp \. 80 : goto sorry-web/, 'the dispatch element swapped to the sorry chain');
  });

  t.test('SIGTERM: the table is removed', async (t) => {
    t.equal(await vigil.stop(), 0);
    t.equal(spawnSync('ip', ['netns', 'exec', lab.director, 'nft', 'list', 'table', 'inet', 'vigil']).status, 1, 'no table left');
  });
});
