// The HTTP check against backends that misbehave on a live keep-alive connection: one that
// stops answering (SIGSTOP) and comes back, and one that resets a connection when it is used
// again. A check keeps one connection per backend between rounds (host/checks/http.ts), so
// neither may be hidden by it: a round that gets no answer in time fails, and so does a round
// whose connection is reset (no silent retry on a new one).
import t from 'tap';
import { spawn } from 'node:child_process';
import { skipReason } from '../net/netns.ts';
import { lab, Proc, until, VIGIL } from '../helpers/agents.ts';
import { startBackend, flips, type Report } from './helpers.ts';

const skip = skipReason();

t.test('a backend that stops answering goes down after exactly fall rounds, and up after rise once it answers', { skip }, async (t) => {
  const l = lab(t, 'vchh-', ['a', 'c']);
  const [a, c] = l.hosts;
  const backend = await startBackend(c.ns, 'http', c.v4, '8080', 'healthy');
  t.teardown(async () => { backend.signal('SIGCONT'); await backend.stop(); });
  const cfg = l.work.file('stop.yaml', [
    'checks:',
    `  - { name: web, type: http, target: "http://${c.v4}:8080/health", interval: 100ms, timeout: 50ms, rise: 2, fall: 3, expect: { body: healthy } }`,
    'instances: [{ name: VI_1, interface: eth0, vrid: 51, virtualAddresses: [192.0.2.100/24] }]',
  ].join('\n') + '\n');
  const checker = new Proc(spawn('ip', ['netns', 'exec', a.ns, VIGIL, 'checker', '-c', cfg], { stdio: ['ignore', 'pipe', 'pipe'] }));
  l.procs.push(checker);
  await until(() => flips(checker.lines, 'web').length >= 1, 5000, 'web up', 20);
  await new Promise((r) => setTimeout(r, 300));      // a few rounds on the kept connection
  backend.signal('SIGSTOP');                           // connection open, nothing answers
  await until(() => flips(checker.lines, 'web').length >= 2, 5000, 'web down', 20);
  const [up, down] = flips(checker.lines, 'web');
  t.equal(down.up, false);
  t.equal(down.failures - up.failures, 3, 'down after exactly fall=3 rounds without an answer');
  t.match(down.error, /timed out/, `reason: ${down.error}`);
  t.equal(down.code, 'VIGIL_ECHECK_TIMEOUT');
  backend.signal('SIGCONT');
  const ms = await until(() => flips(checker.lines, 'web').length >= 3, 5000, 'web up again', 20);
  const again = flips(checker.lines, 'web')[2];
  t.equal(again.up, true);
  t.equal((again.rounds - down.rounds) - (again.failures - down.failures), 2, 'up again after exactly rise=2 answers');
  t.ok(ms < 2500, `up again ${ms.toFixed(0)} ms after the backend answers again`);
});

t.test('a keep-alive connection reset when the check uses it again fails that round', { skip }, async (t) => {
  const l = lab(t, 'vchx-', ['a', 'c']);
  const [a, c] = l.hosts;
  const backend = await startBackend(c.ns, 'http-reset', c.v4, '8080', 'healthy');
  t.teardown(() => backend.stop());
  const cfg = l.work.file('reset.yaml', [
    'checks:',
    `  - { name: web, type: http, target: "http://${c.v4}:8080/health", interval: 100ms, timeout: 50ms, rise: 1, fall: 1 }`,
    'instances: [{ name: VI_1, interface: eth0, vrid: 51, virtualAddresses: [192.0.2.100/24] }]',
  ].join('\n') + '\n');
  const checker = new Proc(spawn('ip', ['netns', 'exec', a.ns, VIGIL, 'checker', '-c', cfg], { stdio: ['ignore', 'pipe', 'pipe'] }));
  l.procs.push(checker);
  // Every other round: a new connection answers, the reused one is reset.
  await until(() => flips(checker.lines, 'web').length >= 6, 5000, 'three ups and three downs', 20);
  const f = flips(checker.lines, 'web');
  t.ok(f.every((r: Report, i) => r.up === (i % 2 === 0)), 'up, down, up, ...: a round on the reset connection fails, the next one on a new connection passes');
  const downs = f.filter((r) => !r.up);
  t.ok(downs.every((r) => /ECONNRESET|UND_ERR_SOCKET|closed/i.test(r.error ?? '')), `reason: ${downs[0]?.error}`);
});
