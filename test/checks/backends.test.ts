// The checker process (`vigil checker`) against real backends in namespaces: a TCP server with
// a banner, an HTTP server, a DNS server. Each goes down (killed) and up again; the check flips
// after exactly `fall` failed rounds and `rise` successful ones.
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { skipReason } from '../net/netns.ts';
import { lab, Proc, until, VIGIL } from '../helpers/agents.ts';
import { startBackend, flips } from './helpers.ts';

const skip = skipReason();

t.test('tcp, http and dns checks flip after exactly fall / rise rounds', { skip }, async (t) => {
  const l = lab(t, 'vchk-', ['a', 'c']);
  const [a, c] = l.hosts;
  const backends: Record<string, string[]> = {
    smtp: ['tcp', c.v4, '2525', '220 mail.example ESMTP'],
    web: ['http', c.v4, '8080', 'healthy'],
    ns: ['dns', c.v4, '5353', 'svc.example', '198.51.100.5'],
  };
  const running = new Map<string, Proc>();
  t.teardown(async () => { await Promise.all([...running.values()].map((p) => p.stop())); });
  for (const [k, args] of Object.entries(backends)) running.set(k, await startBackend(c.ns, ...args));
  const cfg = l.work.file('checks.yaml', [
    'checks:',
    `  - { name: smtp, type: tcp, target: "${c.v4}:2525", interval: 100ms, timeout: 50ms, rise: 2, fall: 3, expect: { banner: "^220 " } }`,
    `  - { name: web, type: http, target: "http://${c.v4}:8080/health", interval: 100ms, timeout: 50ms, rise: 3, fall: 2, expect: { status: [200], body: healthy } }`,
    `  - { name: ns, type: dns, target: "${c.v4}:5353", query: svc.example, interval: 100ms, timeout: 50ms, rise: 2, fall: 4, expect: { address: [198.51.100.5] } }`,
    `  - { name: gw, type: icmp, target: ${c.v4}, interval: 100ms, timeout: 50ms, rise: 1, fall: 1 }`,
    `  - { name: wrongname, type: dns, target: "${c.v4}:5353", query: nope.example, interval: 100ms, timeout: 50ms, rise: 1, fall: 1 }`,
    'instances: [{ name: VI_1, interface: eth0, vrid: 51, virtualAddresses: [192.0.2.100/24] }]',
  ].join('\n') + '\n');
  const checker = new Proc(spawn('ip', ['netns', 'exec', a.ns, VIGIL, 'checker', '-c', cfg, '--log-json'], { stdio: ['ignore', 'pipe', 'pipe'] }));
  l.procs.push(checker);
  const rr: Record<string, [number, number]> = { smtp: [2, 3], web: [3, 2], ns: [2, 4] };
  for (const name of Object.keys(rr)) {
    await until(() => flips(checker.lines, name).length >= 1, 5000, `${name} up`, 20);
    const [first] = flips(checker.lines, name);
    t.match(first, { up: true, error: null, transitions: 1 }, `${name} up`);
    t.equal(first.rounds - first.failures, rr[name][0], `${name}: up after exactly rise=${rr[name][0]} successes`);
  }
  await until(() => flips(checker.lines, 'gw').length >= 1, 5000, 'icmp up', 20);
  t.match(flips(checker.lines, 'gw')[0], { up: true }, 'icmp echo through the shim\'s raw socket');
  await until(() => checker.lines.some((l) => l.includes('"check":"wrongname"') && l.includes('NXDOMAIN') && l.includes('"code":"VIGIL_ECHECK_DNS_RCODE"')), 5000, 'NXDOMAIN', 20);
  t.pass('a name the server does not know fails with NXDOMAIN, code VIGIL_ECHECK_DNS_RCODE');

  for (const [name, [rise, fall]] of Object.entries(rr)) {
    await running.get(name)!.stop();
    running.delete(name);
    await until(() => flips(checker.lines, name).length >= 2, 5000, `${name} down`, 20);
    const [up, down] = flips(checker.lines, name);
    t.equal(down.up, false);
    // No round failed while the backend was up, so these are the rounds since it was killed.
    t.equal(down.failures - up.failures, fall, `${name}: down after exactly fall=${fall} failed rounds`);
    t.ok(down.error, `${name}: reason: ${down.error}`);
    t.match(down.code, /^VIGIL_ECHECK_(CONNECT|TIMEOUT)$/, `${name}: its code: ${down.code}`);
    running.set(name, await startBackend(c.ns, ...backends[name]));
    await until(() => flips(checker.lines, name).length >= 3, 5000, `${name} up again`, 20);
    const again = flips(checker.lines, name)[2];
    t.equal(again.up, true);
    t.equal((again.rounds - down.rounds) - (again.failures - down.failures), rise, `${name}: up again after exactly rise=${rise} successes`);
    t.equal(again.transitions, 3);
  }
});

t.test('https: the certificate is verified (a self-signed one fails), a ca file and the host name make it pass', { skip }, async (t) => {
  const l = lab(t, 'vchs-', ['a', 'c']);
  const [a, c] = l.hosts;
  const cert = `${l.work.dir}/cert.pem`, key = `${l.work.dir}/key.pem`;
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', '/CN=web.example', '-addext', 'subjectAltName=DNS:web.example'], { stdio: 'ignore' });
  const backend = await startBackend(c.ns, 'https', c.v4, '8443', 'healthy', cert, key);
  t.teardown(() => backend.stop());
  const url = `https://${c.v4}:8443/health`;
  const cfg = l.work.file('https.yaml', [
    'checks:',
    `  - { name: plain, type: http, target: "${url}", interval: 100ms, timeout: 80ms, rise: 1, fall: 1 }`,
    `  - { name: wrongname, type: http, target: "${url}", ca: ${cert}, interval: 100ms, timeout: 80ms, rise: 1, fall: 1 }`,
    `  - { name: trusted, type: http, target: "${url}", host: web.example, ca: ${cert}, interval: 100ms, timeout: 80ms, rise: 1, fall: 1, expect: { body: healthy } }`,
    `  - { name: noca, type: http, target: "${url}", host: web.example, ca: ${l.work.dir}/missing.pem, interval: 100ms, timeout: 80ms, rise: 1, fall: 1 }`,
    'instances: [{ name: VI_1, interface: eth0, vrid: 51, virtualAddresses: [192.0.2.100/24] }]',
  ].join('\n') + '\n');
  const checker = new Proc(spawn('ip', ['netns', 'exec', a.ns, VIGIL, 'checker', '-c', cfg], { stdio: ['ignore', 'pipe', 'pipe'] }));
  l.procs.push(checker);
  const last = (name: string) => [...checker.lines].reverse().map((x) => { try { return JSON.parse(x); } catch { return {}; } }).find((r) => r.check === name);
  await until(() => ['plain', 'wrongname', 'trusted', 'noca'].every((n) => last(n)?.settled), 8000, 'every check settled', 20);
  // A first round that times out on a loaded box (TLS handshake, a new backend thread) settles
  // a rise/fall 1 check down; what is tested is where each one ends up.
  const settles = (name: string, want: (r: { up: boolean; error: string | null }) => boolean) =>
    until(() => { const r = last(name); return !!r && want(r); }, 8000, name, 20).catch(() => {});
  await Promise.all([
    settles('plain', (r) => /SELF_SIGNED|self[- ]signed/i.test(r.error ?? '')),
    settles('wrongname', (r) => /ALTNAME|altname|does not match/i.test(r.error ?? '')),
    settles('trusted', (r) => r.up),
  ]);
  t.match(last('plain'), { up: false, error: /SELF_SIGNED|self[- ]signed/i, code: 'VIGIL_ECHECK_CONNECT' }, 'self-signed: refused');
  t.match(last('wrongname'), { up: false, error: /ALTNAME|altname|does not match/i }, 'the address is not the certificate\'s name');
  t.match(last('trusted'), { up: true, error: null }, 'the ca file and the host name: verified');
  t.match(last('noca'), { up: false, error: /cannot read ca .*missing.pem: ENOENT/, code: 'VIGIL_ECHECK_CA' });
});
