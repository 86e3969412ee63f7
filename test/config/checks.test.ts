// checks: and track.checks: what is read, the defaults, and every problem with its place.
import t, { type Test } from 'tap';
import { at, instance, lines, ok, problemsOf } from './util.ts';

function expect(t: Test, text: string, ...expected: [string | [string, number], string][]) {
  t.same(problemsOf(text), expected.map(([needle, message]) => at(text, needle, message)), text.split('\n')[0]);
}
const file = (checks: string[], track: string[] = []) =>
  lines('checks:', ...checks.map((c) => `  - ${c}`), 'instances:', ...instance('VI_1', 51, '192.0.2.100', track));

t.test('each type, with its defaults and its parsed target', async (t) => {
  const c = ok(file([
    '{ name: web, type: http, target: "https://198.51.100.10:8443/health?x=1", host: www.example, method: HEAD, expect: { status: [200, 204], body: ok } }',
    '{ name: smtp, type: tcp, target: "[2001:db8::10]:25", expect: { banner: "^220 " } }',
    '{ name: ns, type: dns, target: 198.51.100.53:5353, query: svc.example., qtype: AAAA, expect: { address: ["2001:db8::5"] } }',
    '{ name: gw, type: icmp, target: 198.51.100.1, interval: 200ms, timeout: 100ms, rise: 1, fall: 5 }',
  ], ['track: { interfaces: [{ name: e1, weight: -10 }], checks: [{ name: web, weight: -60 }, { name: gw }] }']));
  const [web, smtp, ns, gw] = c.checks;
  t.match(web, { type: 'http', url: 'https://198.51.100.10:8443/health?x=1', host: '198.51.100.10', port: 8443, method: 'HEAD', hostHeader: 'www.example',
    intervalUs: 1e6, timeoutUs: 500e3, rise: 2, fall: 3, expect: { status: [200, 204], body: 'ok' } });
  t.match(smtp, { type: 'tcp', host: '2001:db8::10', port: 25, expect: { banner: '^220 ' } });
  t.match(ns, { type: 'dns', host: '198.51.100.53', port: 5353, query: 'svc.example', qtype: 'AAAA', expect: { address: ['2001:db8::5'] } });
  t.match(gw, { type: 'icmp', host: '198.51.100.1', intervalUs: 200e3, timeoutUs: 100e3, rise: 1, fall: 5 });
  t.strictSame(c.instances[0].track.checks, [{ name: 'web', weight: -60 }, { name: 'gw', weight: 0 }]);
  const d = ok(file(['{ name: x, type: http, target: "http://198.51.100.1/" }', '{ name: y, type: dns, target: 198.51.100.1, query: a.example }']));
  t.match(d.checks[0], { port: 80, method: 'GET', expect: { status: [200] } });
  t.match(d.checks[1], { port: 53, qtype: 'A' });
});

t.test('problems, each at its place', async (t) => {
  let f = file(['{ name: a, type: ftp, target: x }']);
  expect(t, f, ['ftp', 'check a: type "ftp" is not a check type: write icmp, tcp, http, dns, policy, exec, process or file']);
  f = file(['{ name: a, type: tcp, target: 198.51.100.1 }']);
  expect(t, f, ['198.51.100.1', 'check a: target "198.51.100.1" has no port: write ADDRESS:PORT, e.g. 198.51.100.10:25']);
  f = file(['{ name: a, type: tcp, target: "www.example:80" }']);
  expect(t, f, ['"www', 'check a: target "www.example:80" names "www.example", which is not an IP address (vigil resolves no names)']);
  f = file(['{ name: a, type: http, target: "ftp://198.51.100.1/" }']);
  expect(t, f, ['"ftp:', 'check a: target "ftp://198.51.100.1/" has scheme ftp: write http:// or https://']);
  f = file(['{ name: a, type: icmp, target: 198.51.100.1, interval: 1s, timeout: 2s }']);
  expect(t, f, ['2s', 'check a: timeout 2s must be shorter than interval 1s']);
  f = file(['{ name: a, type: icmp, target: 198.51.100.1, interval: 200ms }']);
  expect(t, f, ['200ms', 'check a: timeout 500ms must be shorter than interval 200ms (the default timeout is 500ms: set a longer interval or a shorter timeout)']);
  f = file(['{ name: a, type: icmp, target: 198.51.100.1, fall: 0 }']);
  expect(t, f, ['0 }', 'fall 0 is out of range 1..100']);
  f = file(['{ name: a, type: tcp, target: "198.51.100.1:80", method: GET }']);
  expect(t, f, ['method', 'check a: method is for http checks, not tcp: remove it']);
  f = file(['{ name: a, type: http, target: "http://198.51.100.1/", expect: { banner: x } }']);
  expect(t, f, ['banner', 'check a: expect.banner is for tcp checks, not http: remove it']);
  f = file(['{ name: a, type: http, target: "http://198.51.100.1/", expect: { body: "(" } }']);
  t.match(problemsOf(f)[0].message, /check a: expect.body is not a regular expression/);
  f = file(['{ name: a, type: http, target: "http://198.51.100.1/", ca: /etc/ca.pem }']);
  expect(t, f, ['/etc/ca', 'check a: ca is for https:// targets: remove it, or use https']);
  f = file(['{ name: a, type: http, target: "https://198.51.100.1/", ca: ca.pem }']);
  expect(t, f, ['ca.pem', 'check a: ca "ca.pem" must be the absolute path of a PEM file of CA certificates']);
  f = file(['{ name: a, type: dns, target: 198.51.100.1 }']);
  expect(t, f, ['{ name: a', 'check a has no query: add "query: www.example.com" (the name the server must answer)']);
  f = file(['{ name: a, type: icmp, target: 198.51.100.1 }', '{ name: a, type: icmp, target: 198.51.100.2 }']);
  expect(t, f, [['a,', 2], 'check name "a" is already used (line 2): names must be unique']);
  f = file(['{ name: web, type: icmp, target: 198.51.100.1 }'], ['track: { checks: [{ name: wbe, weight: -5 }] }']);
  expect(t, f, ['wbe', 'instance VI_1 tracks check "wbe", which is not defined (did you mean "web"?)']);
  f = file(['{ name: web, type: icmp, target: 198.51.100.1 }'], ['track: { checks: [{ name: web }, { name: web }] }']);
  expect(t, f, [['web', 3], 'check web is tracked twice (first on line 8): keep one']);
  f = lines('instances:', ...instance('VI_1', 51, '192.0.2.100', ['track: { checks: [{ name: web }] }']));
  expect(t, f, ['web', 'instance VI_1 tracks check "web", which is not defined: add it to a top-level "checks:" list']);
  // A broken check is reported once, not again as undefined where it is tracked.
  f = file(['{ name: web, type: tcp, target: x }'], ['track: { checks: [{ name: web }] }']);
  t.equal(problemsOf(f).length, 1);
});

t.test('interfaces and checks share the core\'s 31 track slots', async (t) => {
  const checks = Array.from({ length: 31 }, (_, i) => `{ name: c${i}, type: icmp, target: 198.51.100.1 }`);
  const refs = Array.from({ length: 31 }, (_, i) => `{ name: c${i} }`).join(', ');
  t.equal(ok(file(checks, [`track: { checks: [${refs}] }`])).instances[0].track.checks.length, 31);
  const f = file(checks, [`track: { interfaces: [{ name: e1 }], checks: [${refs}] }`]);
  expect(t, f, ['{ name: c30 }', '1 tracked interfaces and 31 tracked checks; an instance tracks at most 31 in all']);
});

t.test('up to 1,024 checks', async (t) => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => `{ name: c${i}, type: tcp, target: "198.51.100.1:${1000 + i}" }`);
  t.equal(ok(file(many(1024))).checks.length, 1024);
  t.match(problemsOf(file(many(1025))).map((p) => p.message), ['1025 checks; vigil runs at most 1024']);
});

t.test('expect.digest: sha256: / md5: / bare hex, read in lower case', async (t) => {
  const sha = 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855';
  const md5 = 'd41d8cd98f00b204e9800998ecf8427e';
  const c = ok(file([
    `{ name: a, type: http, target: "http://198.51.100.1/", expect: { digest: "sha256:${sha}" } }`,
    `{ name: b, type: http, target: "http://198.51.100.1/", expect: { digest: "md5:${md5}" } }`,
    `{ name: c, type: http, target: "http://198.51.100.1/", expect: { digest: ${md5}, body: ok } }`,
    `{ name: d, type: http, target: "http://198.51.100.1/", expect: { digest: ${sha} } }`,
    '{ name: e, type: http, target: "http://198.51.100.1/" }',
  ]));
  t.strictSame(c.checks.map((k) => k.expect.digest), [
    { algorithm: 'sha256', hex: sha.toLowerCase() }, { algorithm: 'md5', hex: md5 },
    { algorithm: 'md5', hex: md5 }, { algorithm: 'sha256', hex: sha.toLowerCase() }, null,
  ]);
  t.equal(c.checks[2].expect.body, 'ok', 'with a body regex too');
});

t.test('expect.digest problems, each at its place', async (t) => {
  const fix = 'write sha256: and 64 hex digits, or md5: and 32 (a bare 32-digit value is MD5, as keepalived\'s genhash prints it)';
  const http = (digest: string) => file([`{ name: a, type: http, target: "http://198.51.100.1/", expect: { digest: ${digest} } }`]);
  let f = http(`"sha256:${'a'.repeat(63)}"`);
  expect(t, f, ['"sha256:', `check a: expect.digest "sha256:${'a'.repeat(63)}": a sha256 digest has 64 hex digits, not 63`]);
  f = http(`"md5:${'a'.repeat(64)}"`);
  expect(t, f, ['"md5:', `check a: expect.digest "md5:${'a'.repeat(64)}": a md5 digest has 32 hex digits, not 64`]);
  f = http('abcdef');
  expect(t, f, ['abcdef', `check a: expect.digest "abcdef" has 6 hex digits, which is neither MD5 (32) nor SHA-256 (64): ${fix}`]);
  f = http(`"${'a'.repeat(31)}g"`);
  expect(t, f, [`"${'a'.repeat(31)}g"`, `check a: expect.digest "${'a'.repeat(31)}g" has "g", which is not a hex digit: ${fix}`]);
  f = http(`"sha1:${'a'.repeat(40)}"`);
  expect(t, f, ['"sha1:', `check a: expect.digest algorithm "sha1" is not supported: ${fix}`]);
  f = http(`"SHA-256:${'a'.repeat(64)}"`);
  expect(t, f, ['"SHA-256:', `check a: expect.digest "SHA-256:${'a'.repeat(64)}": write the algorithm as sha256:`]);
  f = http('[x]');
  expect(t, f, ['[x]', 'expect.digest must be a digest such as sha256:<64 hex digits> or md5:<32 hex digits>, not a list']);
  f = file([`{ name: a, type: tcp, target: "198.51.100.1:80", expect: { digest: "md5:${'a'.repeat(32)}" } }`]);
  expect(t, f, ['digest', 'check a: expect.digest is for http checks, not tcp: remove it']);
});
