// A check's `pool`: a real server's membership, shown now in /status (pools), /metrics and
// `vigil status` for the load balancer to come. A real agent, a real HTTP backend: out of the
// pool until its check has risen, in once it has, out when the backend dies, in again when it
// comes back; a second server whose backend never answers stays out all along.
import t from 'tap';
import { skipReason, nsExec } from '../net/netns.ts';
import { VIGIL, lab, until, type Proc } from '../helpers/agents.ts';
import { startBackend } from './helpers.ts';

const skip = skipReason();

const get = (ns: string, path: string) => nsExec(ns, 'curl', '-sf', `http://127.0.0.1:9110${path}`);
const status = (ns: string) => JSON.parse(get(ns, '/status'));

t.test('a pool member follows its check: /status pools, /metrics and vigil status flip', { skip }, async (t) => {
  const l = lab(t, 'vtpool-', ['a', 'c']);
  const [a, c] = l.hosts;
  const checks = [
    'checks:',
    `  - { name: web1, type: http, target: "http://${c.v4}:8080/health", interval: 100ms, timeout: 50ms, rise: 2, fall: 2, pool: { name: web } }`,
    `  - { name: web2, type: tcp, target: "${c.v4}:8081", interval: 100ms, timeout: 50ms, rise: 1, fall: 1, pool: { name: web, weight: 5 } }`,
  ].join('\n');
  const pa = l.vigil(a, 'a.yaml', { priority: 150, interval: '50ms', extra: checks });
  await pa.waitLine(/vigil running/, 10_000);

  // Nothing answers yet: both out, with no change seen.
  const before = status(a.ns);
  t.strictSame(before.pools, { web: { serversUp: 0, servers: [
    { server: `${c.v4}:8080`, check: 'web1', weight: 1, up: false, since: null },
    { server: `${c.v4}:8081`, check: 'web2', weight: 5, up: false, since: null },
  ] } }, 'out of the pool until the check has risen');
  let m = get(a.ns, '/metrics');
  t.match(m, /# HELP vigil_pool_server_up .*\n# TYPE vigil_pool_server_up gauge\n/);
  t.match(m, `vigil_pool_server_up{pool="web",server="${c.v4}:8080",check="web1"} 0\n`);
  t.match(m, '# TYPE vigil_pool_servers_up gauge\nvigil_pool_servers_up{pool="web"} 0\n');

  // The backend starts: web1 rises and is in.
  let backend: Proc | undefined = await startBackend(c.ns, 'http', c.v4, '8080', 'healthy');
  t.teardown(async () => { await backend?.stop(); });
  await pa.waitLine(/check web1: up/, 5000);
  const up = status(a.ns);
  t.match(up.pools.web, { serversUp: 1, servers: [{ check: 'web1', up: true }, { check: 'web2', up: false, since: null }] });
  t.ok(Date.parse(up.pools.web.servers[0].since) > Date.now() - 5000, `since ${up.pools.web.servers[0].since}`);
  t.equal(up.pools.web.servers[0].since, up.checks.find((k: { name: string }) => k.name === 'web1').since, 'since: the check\'s');
  m = get(a.ns, '/metrics');
  t.match(m, `vigil_pool_server_up{pool="web",server="${c.v4}:8080",check="web1"} 1\n`);
  t.match(m, `vigil_pool_server_up{pool="web",server="${c.v4}:8081",check="web2"} 0\n`);
  t.match(m, 'vigil_pool_servers_up{pool="web"} 1\n');
  t.match(nsExec(a.ns, VIGIL, 'status'), new RegExp(`POOL\\s+SERVER\\s+CHECK\\s+WEIGHT\\s+STATE\\s+SINCE\\nweb\\s+${c.v4.replace(/\./g, '\\.')}:8080\\s+web1\\s+1\\s+up\\s+\\d{4}-`),
    'vigil status shows the pool');

  // The backend dies: out after fall rounds.
  await backend.stop();
  backend = undefined;
  await pa.waitLine(/check web1: down/, 5000);
  const down = status(a.ns);
  t.match(down.pools.web, { serversUp: 0, servers: [{ check: 'web1', up: false }, { check: 'web2', up: false }] });
  t.ok(down.pools.web.servers[0].since > up.pools.web.servers[0].since, 'since moved');
  m = get(a.ns, '/metrics');
  t.match(m, `vigil_pool_server_up{pool="web",server="${c.v4}:8080",check="web1"} 0\n`);
  t.match(m, 'vigil_pool_servers_up{pool="web"} 0\n');

  // It comes back: in again.
  backend = await startBackend(c.ns, 'http', c.v4, '8080', 'healthy');
  await until(() => status(a.ns).pools.web.serversUp === 1, 5000, 'web1 back in the pool', 20);
  t.match(status(a.ns).pools.web.servers[0], { check: 'web1', up: true });
  t.match(get(a.ns, '/metrics'), 'vigil_pool_servers_up{pool="web"} 1\n');
});

t.test('no pools: /status has an empty pools object, and vigil status no pools table', { skip }, async (t) => {
  const l = lab(t, 'vtpoo0-', ['a']);
  const [a] = l.hosts;
  const pa = l.vigil(a, 'a.yaml', { priority: 150, interval: '50ms', extra: 'checks: [{ name: gw, type: icmp, target: 192.0.2.10, interval: 100ms, timeout: 50ms }]' });
  await pa.waitLine(/vigil running/, 10_000);
  t.strictSame(status(a.ns).pools, {});
  t.notMatch(nsExec(a.ns, VIGIL, 'status'), /POOL/);
  t.match(get(a.ns, '/metrics'), '# TYPE vigil_pool_servers_up gauge\n');
});
