// lc / wlc: nftables cannot pick a minimum, so vigil lb turns the connection counts conntrack
// has per real server into wrr weights about once a second (lc: 1 / (1 + n), wlc: w / (1 + n),
// scaled to 1..100). Four connections held on r1: new connections prefer r2.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { skipReason } from '../net/netns.ts';
import { needTools } from '../helpers/tools.ts';
import { agentStatus, until, type Proc } from '../helpers/agents.ts';
import { lbLab, VIP } from './lab.ts';
import { Holder, count } from './hold.ts';

const skip = skipReason() ?? needTools('nft', 'conntrack', 'python3');

t.test('lc and wlc: connections held on one real server send new ones to the other', { skip, timeout: 60_000 }, async (t) => {
  const lab = lbLab(t, 'vtlbl-', 'routed', 2);
  const [r1, r2] = lab.servers;
  for (const s of lab.servers) await lab.backend(s.ns, 'line', s.addr, 9000, s.name);
  // r2's check server starts later: until then every connection goes to r1.
  const checkSrv: Proc[] = [await lab.backend(r1.ns, 'http', r1.addr, 8080, 'r1')];
  const config = (sched: string, w: [number, number]) => [
    'checks:', ...lab.servers.map((s) => `  - { name: ${s.name}, type: tcp, target: "${s.addr}:8080", interval: 200ms, timeout: 150ms, rise: 2, fall: 2 }`),
    'virtualServers:',
    `  - { name: line, address: ${VIP}, port: 9000, scheduler: ${sched}, realServers: [{ address: ${r1.addr}, check: r1, weight: ${w[0]} }, { address: ${r2.addr}, check: r2, weight: ${w[1]} }] }`,
    'status: { listen: 127.0.0.1:9110 }',
  ].join('\n') + '\n';
  const file = lab.work.file('lc.yaml', config('lc', [1, 1]));
  const vigil = lab.vigil(file);
  await vigil.waitLine(/load balancer: 1 virtual server\(s\), 2 real server\(s\) in table vigil, applied/, 20_000);
  const rs = () => agentStatus(lab.director).virtualServers?.[0]?.realServers ?? [];
  // The effective weights once they are `want`, or the last seen after 5 s.
  const weightsBecome = async (want: string) => {
    let w = '';
    await until(() => (w = rs().map((r: { effectiveWeight: number }) => r.effectiveWeight).join()) === want, 5000, want, 100).catch(() => {});
    return w;
  };
  await until(() => rs()[0]?.up === true && rs()[1]?.up === false, 10_000, 'r1 up, r2 down in /status', 50);

  const hold = new Holder(lab.client, VIP, 9000, lab.keep);
  t.strictSame(count(await hold.run('open 4')), { r1: 4 }, 'four connections held on r1 (r2 down)');
  checkSrv.push(await lab.backend(r2.ns, 'http', r2.addr, 8080, 'r2'));
  const upAt = Date.now();
  // lc: r1 1 / (1 + 4) against r2 1 / 1: weights 20 and 100.
  t.equal(await weightsBecome('20,100'), '20,100', `lc weights follow the counts: r1 20, r2 100, ${Date.now() - upAt} ms after r2's check server started (rise x interval = 400 ms, then up to 1 s)`);
  t.strictSame(rs().map((r: { activeConnections: number }) => r.activeConnections), [4, 0], 'activeConnections 4 and 0');
  const a = count(await hold.run('probe 6'));
  t.ok((a.r2 ?? 0) >= 5, `6 new connections, one at a time: ${JSON.stringify(a)} (wrr 20:100 is 1 in 6 to r1)`);

  // Closed connections are not active ones: r2's probes leave its count at 0 again.
  await new Promise((r) => setTimeout(r, 1500));
  t.strictSame(rs().map((r: { activeConnections: number }) => r.activeConnections), [4, 0], 'closed connections are not counted as active: 4 and 0 again');

  // wlc, weights 2:1: r1 2 / (1 + 4) = 0.4 against r2 1 / 1: 40 and 100.
  writeFileSync(file, config('wlc', [2, 1]));
  const before = vigil.lines.length;
  vigil.signal('SIGHUP');
  await until(() => vigil.lines.slice(before).some((l) => /load balancer: reloaded/.test(l)), 10_000, 'the reload', 20);
  t.equal(await weightsBecome('40,100'), '40,100', 'wlc 2:1 with four connections on r1: weights 40 and 100');
  const b = count(await hold.run('probe 7'));
  // The table keeps its length (wlc's weights move slot elements, not the modulus: host/lb/
  // model.ts), so over 7 consecutive connections the 40:100 share is within a slot of 2 in 7;
  // without the counts r1 would take 2 in 3 (its configured 2:1).
  t.ok((b.r2 ?? 0) >= 4, `7 new connections: ${JSON.stringify(b)} (wrr 40:100 is 2 in 7 to r1; 2:1 would be 5)`);
  hold.close();
  t.equal(await vigil.stop(), 0);
});
