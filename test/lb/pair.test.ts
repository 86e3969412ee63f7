// Two directors as a VRRP pair with the same virtual servers (keepalived's LVS-NAT pair): the
// outside gateway and the VIP, and the real servers' gateway, move together (a sync group).
// The master director dies (frozen, both links down): new connections work through the backup within
// Master_Down_Interval plus the time to apply, which is nothing: the backup's table is in place.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { skipReason, nsExec } from '../net/netns.ts';
import { needTools } from '../helpers/tools.ts';
import { until } from '../helpers/agents.ts';
import { lbLab, spread, VIP } from './lab.ts';

const skip = skipReason() ?? needTools('nft', 'conntrack', 'python3');
const ADVERT_MS = 50;

t.test('a director pair: the master dies, new connections go through the backup', { skip, timeout: 120_000 }, async (t) => {
  const lab = lbLab(t, 'vtlbp-', 'pair', 2);
  for (const s of lab.servers) await lab.backend(s.ns, 'http', s.addr, 8080, s.name);
  const cfg = (prio: number) => [
    'instances:',
    `  - { name: EXT, interface: eth0, vrid: 61, priority: ${prio}, advertInterval: ${ADVERT_MS}ms, virtualAddresses: [203.0.113.1/24, ${VIP}/32] }`,
    `  - { name: INT, interface: eth1, vrid: 62, priority: ${prio}, advertInterval: ${ADVERT_MS}ms, virtualAddresses: [198.51.100.1/24] }`,
    'syncGroups: [{ name: G, instances: [EXT, INT] }]',
    'checks:', ...lab.servers.map((s) => `  - { name: ${s.name}, type: http, target: "http://${s.addr}:8080/", interval: 100ms, timeout: 80ms }`),
    'virtualServers:',
    `  - { name: web, address: ${VIP}, port: 80, scheduler: rr, realServers: [${lab.servers.map((s) => `{ address: ${s.addr}, port: 8080, check: ${s.name} }`).join(', ')}] }`,
    'status: { listen: 127.0.0.1:9110 }',
  ].join('\n') + '\n';
  const [d1, d2] = lab.directors;
  const v1 = lab.vigil(lab.work.file('d1.yaml', cfg(150)), d1);
  await v1.waitLine(/load balancer: 1 virtual server/, 20_000);
  await until(() => nsExec(d1, 'ip', '-br', 'addr').includes(VIP), 10_000, 'd1 master', 20);
  const v2 = lab.vigil(lab.work.file('d2.yaml', cfg(100)), d2);
  await v2.waitLine(/load balancer: 1 virtual server/, 20_000);
  await new Promise((r) => setTimeout(r, 500));
  t.notOk(nsExec(d2, 'ip', '-br', 'addr').includes(VIP), 'd2 is the backup: no VIP');
  t.strictSame(spread(await lab.requests('http', VIP, 80, 10)), { r1: 5, r2: 5 }, 'through d1');

  // The master director dies: both its links go down at once.
  // The cut comes once the probe train runs (a Python start on a busy box can take 0.5 s).
  let running!: () => void;
  const started = new Promise<void>((r) => { running = r; });
  const load = lab.requests('http', VIP, 80, 150, 0.01, true, () => running());
  await started;
  await new Promise((r) => setTimeout(r, 100));
  // A dead box: its processes frozen first, so its agent cannot say goodbye on the link still up
  // (a sync group's FAULT sends priority 0 there: a faster hand-over than a dead box gives),
  // then both links down so its kernel forwards nothing either.
  const frozen = execFileSync('ip', ['netns', 'pids', d1], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  const deadAt = Date.now();
  for (const pid of frozen) process.kill(pid, 'SIGSTOP');
  t.teardown(() => { for (const pid of frozen) { try { process.kill(pid, 'SIGCONT'); } catch { /* gone */ } } });
  execFileSync('ip', ['-n', d1, '-batch', '-'], { input: 'link set eth0 down\nlink set eth1 down\n' });
  const cutAt = Date.now();
  const a = await load;
  // Service is back at the first connection started after the cut that completed: probes that
  // started in the outage wait for their SYN's retransmission (1 s) and end later.
  const ok = a.filter((x) => x.at > cutAt && !x.body.startsWith('ERR'));
  t.ok(ok.length, 'connections worked after the cut');
  const ms = Math.min(...ok.map((x) => x.end)) - deadAt;
  // RFC 5798 Master_Down_Interval for priority 100: 3 x advert + (256 - 100) / 256 x advert.
  const mdi = 3 * ADVERT_MS + ((256 - 100) / 256) * ADVERT_MS;
  t.comment(`first new connection through d2 completed ${ms.toFixed(0)} ms after d1 died (Master_Down_Interval ${mdi.toFixed(1)} ms)`);
  t.ok(ms >= mdi - ADVERT_MS, 'not before the backup could know (a sanity check of the measure)');
  t.ok(ms < mdi + 150, `within Master_Down_Interval (${mdi.toFixed(0)} ms) plus the apply time (none: the backup's table is in place) and a margin for this box`);
  t.notOk(spread(a.filter((x) => x.at > cutAt + mdi + 150)).ERR, 'every connection started after that worked');
  t.ok(nsExec(d2, 'ip', '-br', 'addr').includes(VIP), 'd2 holds the VIP');
});
