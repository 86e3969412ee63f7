// An IPv6 virtual server (NAT) end to end: the routed lab with IPv6 beside its IPv4 (2001:db8::
// only): client 2001:db8:3::10 --- 2001:db8:3::1 director 2001:db8:2::1 --- real servers
// 2001:db8:2::11.., the VIP 2001:db8:1::100. rr spreads, each real server sees the client's own
// address, held connections are counted per real server, and a dead one is left out and its
// held connection flushed (conntrack's IPv6 table).
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { skipReason, nsExec } from '../net/netns.ts';
import { needTools } from '../helpers/tools.ts';
import { agentStatus, until, type Proc } from '../helpers/agents.ts';
import { lbLab, spread } from './lab.ts';
import { Holder, count } from './hold.ts';

const skip = skipReason() ?? needTools('nft', 'conntrack', 'python3');
const VIP6 = '2001:db8:1::100';
const CLIENT6 = '2001:db8:3::10';

t.test('IPv6 NAT: rr 10/10/10, the client\'s own address, connections counted, a dead server left out and its connections flushed', { skip, timeout: 60_000 }, async (t) => {
  const lab = lbLab(t, 'vtlb6-', 'routed', 3);
  const addr6 = (ns: string, a: string, dev = 'eth0') => nsExec(ns, 'ip', '-6', 'addr', 'add', a, 'dev', dev, 'nodad');
  addr6(lab.client, `${CLIENT6}/64`);
  nsExec(lab.client, 'ip', '-6', 'route', 'add', 'default', 'via', '2001:db8:3::1');
  addr6(lab.director, '2001:db8:3::1/64');
  addr6(lab.director, '2001:db8:2::1/64', 'eth1');
  addr6(lab.director, `${VIP6}/128`, 'lo');
  const rs = lab.servers.map((s, i) => ({ ...s, addr6: `2001:db8:2::${11 + i}` }));
  for (const s of rs) {
    addr6(s.ns, `${s.addr6}/64`);
    nsExec(s.ns, 'ip', '-6', 'route', 'add', 'default', 'via', '2001:db8:2::1');
  }
  const web: Proc[] = [];
  for (const s of rs) {
    web.push(await lab.backend(s.ns, 'http', s.addr6, 8080, s.name));
    await lab.backend(s.ns, 'line', s.addr6, 9000, s.name);
  }
  // 250 ms checks: at 100 ms / 80 ms this loaded box flapped a real server now and then, and
  // flushOnFailure cut its held connection with it.
  const config = (extra = '') => [
    'checks:', ...rs.map((s) => `  - { name: ${s.name}, type: http, target: "http://[${s.addr6}]:8080/", interval: 250ms, timeout: 200ms, rise: 2, fall: 2 }`),
    'virtualServers:',
    `  - { name: web6, address: "${VIP6}", port: 80, scheduler: rr${extra}, realServers: [${rs.map((s) => `{ address: "${s.addr6}", port: 8080, check: ${s.name} }`).join(', ')}] }`,
    `  - { name: line6, address: "${VIP6}", port: 9000, scheduler: rr, realServers: [${rs.map((s) => `{ address: "${s.addr6}", check: ${s.name} }`).join(', ')}] }`,
    'status: { listen: 127.0.0.1:9110 }',
  ].join('\n') + '\n';
  const file = lab.work.file('v6.yaml', config());
  const vigil = lab.vigil(file);
  await vigil.waitLine(/load balancer: 2 virtual server\(s\), 6 real server\(s\) in table vigil, applied/, 20_000);
  await until(() => agentStatus(lab.director).virtualServers?.[0]?.realServers.every((r: { up: boolean }) => r.up) === true, 10_000, 'real servers up in /status', 50);

  const a = await lab.requests('http', VIP6, 80, 30);
  t.strictSame(spread(a), { r1: 10, r2: 10, r3: 10 }, 'rr over IPv6: 10 / 10 / 10');
  t.ok(a.every((x) => x.body.endsWith(` ${CLIENT6}`)), `each real server sees the client's own IPv6 address (${a[0]?.body})`);

  // Held connections: counted per real server from conntrack (an IPv6 table of its own).
  const hold = new Holder(lab.client, VIP6, 9000, lab.keep);
  const opened = await hold.run('open 3');
  t.strictSame(count(opened), { r1: 1, r2: 1, r3: 1 }, `3 held connections, one per real server: ${opened.join(', ')}`);
  let conns: number[] = [];
  await until(() => (conns = agentStatus(lab.director).virtualServers[1].realServers.map((r: { activeConnections: number }) => r.activeConnections)).every((n: number) => n >= 1), 5000, `activeConnections of the IPv6 service (last ${conns.join(', ')})`, 200).catch(() => {});
  t.strictSame(conns, [1, 1, 1], 'activeConnections per real server: one each');

  // A dead real server: left out of new connections, no failure.
  await web[1].stop();
  await until(() => agentStatus(lab.director).virtualServers[0].realServers[1].up === false, 5000, 'r2 down', 20);
  const b = await lab.requests('http', VIP6, 80, 20);
  t.ok(!spread(b).r2 && !spread(b).ERR && (spread(b).r1 ?? 0) >= 7 && (spread(b).r3 ?? 0) >= 7, `r2 left out, none failed, r1 and r3 share the rest: ${JSON.stringify(spread(b))}`);
  // Its held connection (line6 shares its check) flushed from the IPv6 conntrack table: the
  // client's next write is reset; the others go on.
  const r2held = opened.findIndex((o) => o.startsWith('r2 '));
  await until(() => !nsExec(lab.director, 'conntrack', '-L', '-f', 'ipv6').includes(`src=${rs[1].addr6} dst=${CLIENT6}`), 3000, 'r2\'s conntrack entry flushed', 50)
    .then(() => t.pass(`no conntrack entry from ${rs[1].addr6} to the client left`), (e) => t.fail(String(e)));
  const ping = await hold.run('ping');
  t.match(ping[r2held], /^ERR/, `the connection held on r2 is cut: ${ping[r2held]}`);
  t.ok(ping.every((p, i) => i === r2held || p === opened[i]), `the others answer as before: ${ping.join(', ')}`);
  hold.close();

  // Persistence per /64 (an IPv6 mask in the set's key): the kernel takes it, and holds the client.
  writeFileSync(file, config(', persistence: { timeout: 30s, netmask: 64 }'));
  const from = vigil.lines.length;
  vigil.signal('SIGHUP');
  await until(() => vigil.lines.slice(from).some((l) => /load balancer: reloaded|refused/.test(l)), 10_000, 'the reload', 20);
  t.ok(vigil.lines.slice(from).some((l) => /load balancer: reloaded/.test(l)), 'persistence netmask 64: reloaded (the transaction taken)');
  t.match(nsExec(lab.director, 'nft', 'list', 'chain', 'inet', 'vigil', 'vs-web6'), /ip6 saddr & ffff:ffff:ffff:ffff:: (== )?@aff-/, 'the service chain looks the client up by its /64');
  const p = spread(await lab.requests('http', VIP6, 80, 6));
  t.equal(Object.keys(p).length, 1, `6 connections, one real server: ${JSON.stringify(p)}`);

  // An IPv6 sorry server ([address]:port): quorum 3 with r2 down is lost, and it answers.
  writeFileSync(file, config(`, quorum: 3, sorryServer: "[${rs[2].addr6}]:8080"`));
  const from2 = vigil.lines.length;
  vigil.signal('SIGHUP');
  await until(() => vigil.lines.slice(from2).some((l) => /load balancer: reloaded|refused/.test(l)), 10_000, 'the reload', 20);
  t.match(nsExec(lab.director, 'nft', 'list', 'map', 'inet', 'vigil', 'svc6'), /2001:db8:1::100 \. tcp \. 80 : goto sorry-web6/, 'quorum 3, 2 healthy: the dispatch element on the sorry chain');
  t.strictSame(spread(await lab.requests('http', VIP6, 80, 4)), { r3: 4 }, 'the IPv6 sorry server (r3\'s address) answers all 4');
  t.equal(await vigil.stop(), 0);
});
