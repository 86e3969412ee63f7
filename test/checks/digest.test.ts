// What an HTTP check expects of the answer, against a real backend in a namespace: a body
// digest (sha256: or md5:, and a bare 32-hex-digit MD5 as keepalived's genhash prints it) that
// matches passes and one that does not fails with both digests shortened; a status not in
// expect.status, and a body regex that does not match, fail with their reason.
import t from 'tap';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { skipReason } from '../net/netns.ts';
import { lab, Proc, until, VIGIL } from '../helpers/agents.ts';
import { startBackend, flips } from './helpers.ts';

const skip = skipReason();
const BODY = 'healthy';
const hex = (algorithm: string, text: string) => createHash(algorithm).update(text).digest('hex');

t.test('expectations against a real backend: each passes or fails with its reason', { skip }, async (t) => {
  const l = lab(t, 'vtdig-', ['a', 'c']);
  const [a, c] = l.hosts;
  const backend = await startBackend(c.ns, 'http', c.v4, '8080', BODY);
  t.teardown(() => backend.stop());
  const sha = hex('sha256', BODY), md5 = hex('md5', BODY);
  const wrong = hex('sha256', 'unhealthy');
  const check = (name: string, expect: string) =>
    `  - { name: ${name}, type: http, target: "http://${c.v4}:8080/health", interval: 100ms, timeout: 50ms, rise: 1, fall: 1, expect: ${expect} }`;
  const cfg = l.work.file('expect.yaml', [
    'checks:',
    check('sha', `{ digest: "sha256:${sha}" }`),
    check('md5', `{ digest: "md5:${md5}", body: "^healthy$" }`),
    check('genhash', `{ digest: ${md5.toUpperCase()} }`),            // keepalived's form, carried over
    check('baddigest', `{ digest: "sha256:${wrong}" }`),
    check('badstatus', '{ status: [204] }'),
    check('badbody', '{ body: "^sick" }'),
    'instances: [{ name: VI_1, interface: eth0, vrid: 51, virtualAddresses: [192.0.2.100/24] }]',
  ].join('\n') + '\n');
  const checker = new Proc(spawn('ip', ['netns', 'exec', a.ns, VIGIL, 'checker', '-c', cfg], { stdio: ['ignore', 'pipe', 'pipe'] }));
  l.procs.push(checker);
  const names = ['sha', 'md5', 'genhash', 'baddigest', 'badstatus', 'badbody'];
  await until(() => names.every((n) => flips(checker.lines, n).length >= 1), 5000, 'every check settled', 20);
  const first = (n: string) => flips(checker.lines, n)[0];

  for (const n of ['sha', 'md5', 'genhash']) t.match(first(n), { up: true, error: null }, `${n}: the body's digest matches: up`);
  t.match(first('baddigest'), { up: false, code: 'VIGIL_ECHECK_DIGEST', error: `body digest sha256:${sha.slice(0, 12)}… does not match the expected sha256:${wrong.slice(0, 12)}…` },
    'a wrong digest: down, with both digests shortened');
  t.match(first('badstatus'), { up: false, error: 'status 200, expected 204', code: 'VIGIL_ECHECK_STATUS' }, 'a status not expected: down');
  t.match(first('badbody'), { up: false, error: 'body does not match /^sick/', code: 'VIGIL_ECHECK_BODY' }, 'a body regex that does not match: down');

  // They stay so round after round (the connection kept between rounds changes nothing).
  await new Promise((r) => setTimeout(r, 500));
  for (const n of names) t.equal(flips(checker.lines, n).length, 1, `${n} did not flip again`);
});
