// alpha (keepalived's): a real server starts down and gets no traffic until its check has
// passed `rise` times. r2's server is not running at the start: with alpha it is never in the
// slots; it joins once its server runs and the check rises. Without alpha (the control) both
// are in the slots from the first apply, before any check has said anything.
import t from 'tap';
import { skipReason, nsExec } from '../net/netns.ts';
import { needTools } from '../helpers/tools.ts';
import { agentStatus, until } from '../helpers/agents.ts';
import { lbLab, spread, VIP, slotText } from './lab.ts';

const skip = skipReason() ?? needTools('nft', 'conntrack', 'python3');
const CHECK = { interval: 200, rise: 4 };

t.test('alpha: a real server gets traffic only once its check has passed rise times', { skip, timeout: 60_000 }, async (t) => {
  const lab = lbLab(t, 'vtlba-', 'routed', 2);
  const [r1, r2] = lab.servers;
  await lab.backend(r1.ns, 'http', r1.addr, 8080, 'r1');
  const config = (alpha: boolean) => lab.work.file(`alpha-${alpha}.yaml`, [
    'checks:', ...lab.servers.map((s) => `  - { name: ${s.name}, type: http, target: "http://${s.addr}:8080/", interval: ${CHECK.interval}ms, timeout: 150ms, rise: ${CHECK.rise}, fall: 2 }`),
    'virtualServers:',
    `  - { name: web, address: ${VIP}, port: 80, scheduler: rr, alpha: ${alpha}, realServers: [${lab.servers.map((s) => `{ address: ${s.addr}, port: 8080, check: ${s.name} }`).join(', ')}] }`,
    'status: { listen: 127.0.0.1:9110 }',
  ].join('\n') + '\n');
  const slots = () => slotText(lab.director, 'web');
  const dispatch = () => nsExec(lab.director, 'nft', 'list', 'map', 'inet', 'vigil', 'svc4');

  // The control: without alpha both real servers are in the slots at the first apply.
  let vigil = lab.vigil(config(false));
  await vigil.waitLine(/load balancer: 1 virtual server\(s\), 2 real server\(s\) in table vigil, applied/, 20_000);
  const s0 = slots();
  t.ok(s0.includes('goto rs-web-198_51_100_11-8080') && s0.includes('goto rs-web-198_51_100_12-8080'), 'without alpha: r1 and r2 in the slots from the start');
  t.equal(await vigil.stop(), 0);

  vigil = lab.vigil(config(true));
  const started = Date.now();
  await vigil.waitLine(/load balancer: 1 virtual server\(s\), 2 real server\(s\) in table vigil, applied/, 20_000);
  const early = Date.now() - started;
  t.notMatch(slots(), /goto rs-/, `alpha: no real server in the slots at the first apply (${early} ms after the start)`);
  t.match(dispatch(), /192\.0\.2\.100 \. tcp \. 80 : goto sorry-web/, 'the service has no quorum yet: new connections refused');
  await until(() => agentStatus(lab.director).virtualServers?.[0]?.realServers[0].up === true, 10_000, 'r1 up', 20);
  t.notMatch(slots(), /rs-web-198_51_100_12/, 'r1 up after its rise, r2 still out');
  const a = await lab.requests('http', VIP, 80, 10);
  t.strictSame(spread(a), { r1: 10 }, 'all 10 new connections to r1, none to r2 (whose server does not run)');

  await lab.backend(r2.ns, 'http', r2.addr, 8080, 'r2');
  const r2At = Date.now();
  await until(() => agentStatus(lab.director).virtualServers[0].realServers[1].up === true, 10_000, 'r2 up', 20);
  const joined = Date.now() - r2At;
  t.ok(joined >= (CHECK.rise - 1) * CHECK.interval, `r2 joins ${joined} ms after its server started: after rise (${CHECK.rise} x ${CHECK.interval} ms), not at its first pass`);
  const b = spread(await lab.requests('http', VIP, 80, 10));
  t.ok(!b.ERR && (b.r1 ?? 0) >= 3 && (b.r2 ?? 0) >= 3, `then rr over both, interleaved (5 / 5 when exact): ${JSON.stringify(b)}`);
  t.equal(await vigil.stop(), 0);
});
