// The policies build (policies/build.ts) and what it produces: every component is of the
// vigil:policy world, the built-in policies give the right verdicts, and the SDK's arena keeps
// memory flat across rounds. Policies run in this process with fake probes (test/policies/load.ts);
// the runtime's tests load the same files in their sandbox against real backends.
import t, { type Test } from 'tap';
import { readdirSync, readFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { verify, buildOne, ALLOWED_IMPORTS } from '../../policies/build.ts';
import { load, fakes, policyPath, type HttpResponse } from './load.ts';

const root = new URL('../../', import.meta.url).pathname;
// Incremental: a no-op when `make policies` already ran.
execFileSync(`${root}node_modules/.bin/node`, [`${root}policies/build.ts`], { stdio: 'inherit' });

const BUILT_INS = ['http-budget', 'tcp-banner', 'dns-answer'];
const FIXTURES = ['abort', 'ok', 'fail', 'echo-args', 'probe-all', 'loop', 'membomb', 'trap', 'slow-alloc', 'forbidden-import'];

t.test('every built policy is a component of the world, forbidden-import is refused', async (t) => {
  const built = readdirSync(new URL('../../policies/build/', import.meta.url)).filter((f) => f.endsWith('.wasm'));
  t.same(built.sort(), BUILT_INS.map((n) => `${n}.wasm`).sort(), 'one component per policies/src file');
  const tests = readdirSync(new URL('../../policies/build/test/', import.meta.url)).filter((f) => f.endsWith('.wasm'));
  t.same(tests.sort(), FIXTURES.map((n) => `${n}.wasm`).sort(), 'one component per fixture');
  for (const name of [...BUILT_INS, ...FIXTURES.map((n) => `test/${n}`)]) {
    const v = await verify(readFileSync(policyPath(name)));
    t.ok(v.exports.includes('evaluate'), `${name} exports evaluate`);
    if (name === 'test/forbidden-import') {
      t.ok(v.imports.some((i) => i.startsWith('vigil:policy/secrets')), `${name} kept its import`);
      t.match(v.problems, [/imports vigil:policy\/secrets/], `${name} refused`);
      continue;
    }
    t.same(v.problems, [], `${name} accepted`);
    t.ok(v.imports.every((i) => ALLOWED_IMPORTS.includes(i.replace(/@.*$/, ''))), `${name} imports ${v.imports.join(', ')}`);
  }
  const junk = await verify(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  t.match(junk.problems, [/not a loadable component/], 'a core module is not a component');
});

t.test('fixtures', async (t) => {
  t.equal((await load('test/ok', fakes())).evaluate('x', []), null);
  t.equal((await load('test/fail', fakes())).evaluate('x', [['a', 'b']]), 'fixture says no');

  const echo = await load('test/echo-args', fakes());
  const args: [string, string][] = [['path', '/health'], ['', ''], ['ü', 'ok 🎉'], ['q"\\', 'line\nbreak'], ['path', 'again']];
  t.same(JSON.parse(echo.evaluate('http://[2001:db8::1]:8080/é', args)!), { target: 'http://[2001:db8::1]:8080/é', args },
    'target and args arrive whole, in order, UTF-8 intact');

  const f = fakes({
    http: () => ({ status: 200, latencyUs: 1500, body: 'hello world, this is a long body', error: '' }),
    tcp: () => ({ connected: true, latencyUs: 10, banner: '220 mx ESMTP', error: '' }),
    dns: () => ({ rcode: 0, latencyUs: 10, addresses: ['192.0.2.1', '192.0.2.2'], error: '' }),
    icmp: () => 321,
  });
  const all = await load('test/probe-all', f);
  t.equal(all.evaluate('x', [['tcpPort', '2525'], ['send', 'EHLO x\r\n'], ['name', 'svc.example']]),
    'http 200 body=hello world, this is; tcp ok banner=220 mx ESMTP; dns rcode 0 [192.0.2.1, 192.0.2.2]; icmp ok 321us');
  t.same(f.calls, ['http GET 0 / false', 'tcp 2525 "EHLO x\\r\\n"', 'dns svc.example A', 'icmp']);
  t.same(f.logs, [['info', 'probe-all took 0us']], 'log and clock reached the host');
  f.http = () => ({ status: 0, latencyUs: 0, body: '', error: 'ECONNREFUSED' });
  f.tcp = () => ({ connected: false, latencyUs: 0, banner: '', error: 'timeout' });
  f.dns = () => ({ rcode: -1, latencyUs: 0, addresses: [], error: 'no reply' });
  f.icmp = () => { throw 'host unreachable'; };
  t.equal(all.evaluate('x', []),
    'http 0 body= error=ECONNREFUSED; tcp failed error=timeout; dns rcode -1 [] error=no reply; icmp err host unreachable');

  const trap = await load('test/trap', fakes());
  t.throws(() => trap.evaluate('x', []), /unreachable/, 'a trap is an error, not a verdict');
  const f2 = fakes();
  const abort = await load('test/abort', f2);
  t.throws(() => abort.evaluate('x', []), /unreachable/, 'an abort traps');
  t.match(f2.logs, [['error', /^abort: Index out of range at \S+\.ts:\d+:\d+$/]], 'and is logged first');
});

t.test('http-budget', async (t) => {
  let answer: HttpResponse = { status: 200, latencyUs: 100_000, body: 'ok', error: '' };
  const f = fakes({ http: () => answer });
  const p = await load('http-budget', f);
  t.equal(p.evaluate('http://192.0.2.1', [['budgetMs', '500']]), null, '200 in 100 ms passes');
  t.same(f.calls, ['http GET 0 / false'], 'defaults: GET, the target port, /, no TLS');
  f.calls.length = 0;
  const full: [string, string][] = [['budgetMs', '500'], ['status', '200, 204'], ['path', '/health'], ['port', '8443'], ['tls', 'true'], ['method', 'HEAD']];
  answer = { status: 204, latencyUs: 499_999, body: '', error: '' };
  t.equal(p.evaluate('x', full), null, '204 is in the set, just within budget');
  t.same(f.calls, ['http HEAD 8443 /health true']);

  answer = { status: 500, latencyUs: 1000, body: '', error: '' };
  t.equal(p.evaluate('x', full), 'status 500, expected 200 or 204');
  answer = { status: 200, latencyUs: 812_345, body: '', error: '' };
  t.equal(p.evaluate('x', full), 'latency 812.3 ms over the 500 ms budget');
  answer = { status: 0, latencyUs: 0, body: '', error: 'connect ECONNREFUSED 192.0.2.1:8443' };
  t.equal(p.evaluate('x', full), 'no response: connect ECONNREFUSED 192.0.2.1:8443');

  f.calls.length = 0;
  const bad: [[string, string][], string][] = [
    [[], 'missing arg "budgetMs"'],
    [[['budgetMs', 'fast']], 'arg "budgetMs": "fast" is not an integer in 1..3600000'],
    [[['budgetMs', '0']], 'arg "budgetMs": "0" is not an integer in 1..3600000'],
    [[['budgetMs', '-5']], 'arg "budgetMs": "-5" is not an integer in 1..3600000'],
    [[['budgetMs', '500'], ['status', '200,abc']], 'arg "status": "200,abc" is not a list of HTTP statuses (100..599), e.g. "200,204"'],
    [[['budgetMs', '500'], ['status', '']], 'arg "status": "" is not a list of HTTP statuses (100..599), e.g. "200,204"'],
    [[['budgetMs', '500'], ['port', '70000']], 'arg "port": "70000" is not an integer in 0..65535'],
    [[['budgetMs', '500'], ['tls', 'maybe']], 'arg "tls": "maybe" is not true or false'],
    [[['budgetMs', '500'], ['path', 'health']], 'arg "path": "health" does not start with "/"'],
    [[['budgetMs', '500'], ['method', 'GE T']], 'arg "method": "GE T" is not an HTTP method'],
    [[['budget_ms', '500']], 'unknown arg "budget_ms" (expected one of budgetMs, status, path, port, tls, method)'],
  ];
  for (const [args, reason] of bad) t.equal(p.evaluate('x', args), reason, reason);
  t.same(f.calls, [], 'bad args never reach a probe');
});

t.test('tcp-banner', async (t) => {
  let answer = { connected: true, latencyUs: 900, banner: '220 mx.example ESMTP Postfix\r\n', error: '' };
  const f = fakes({ tcp: () => answer });
  const p = await load('tcp-banner', f);
  const args: [string, string][] = [['port', '25'], ['expect', '220']];
  t.equal(p.evaluate('192.0.2.25', args), null, 'SMTP greeting passes');
  t.equal(p.evaluate('x', [...args, ['send', 'EHLO vigil\r\n']]), null);
  t.same(f.calls, ['tcp 25 ""', 'tcp 25 "EHLO vigil\\r\\n"'], 'send is passed as is');

  answer = { connected: true, latencyUs: 900, banner: '554 5.7.1 go away\r\n', error: '' };
  t.equal(p.evaluate('x', args), 'banner "554 5.7.1 go away\\r\\n" does not start with "220"');
  answer = { connected: true, latencyUs: 900, banner: 'x'.repeat(100), error: '' };
  t.equal(p.evaluate('x', args), `banner "${'x'.repeat(60)}..." does not start with "220"`, 'long banners are cut');
  answer = { connected: true, latencyUs: 900, banner: '', error: 'timeout' };
  t.equal(p.evaluate('x', args), 'no banner on port 25: timeout');
  answer = { connected: false, latencyUs: 0, banner: '', error: 'ECONNREFUSED' };
  t.equal(p.evaluate('x', args), 'connect to port 25 failed: ECONNREFUSED');

  f.calls.length = 0;
  t.equal(p.evaluate('x', [['expect', '220']]), 'missing arg "port"');
  t.equal(p.evaluate('x', [['port', '25']]), 'missing arg "expect"');
  t.equal(p.evaluate('x', [['port', '0'], ['expect', '220']]), 'arg "port": "0" is not an integer in 1..65535');
  t.equal(p.evaluate('x', [['port', '25'], ['expect', '']]), 'arg "expect": must not be empty');
  t.equal(p.evaluate('x', [...args, ['banner', '220']]), 'unknown arg "banner" (expected one of port, expect, send)');
  t.same(f.calls, [], 'bad args never reach a probe');
});

t.test('dns-answer', async (t) => {
  let answer = { rcode: 0, latencyUs: 700, addresses: ['198.51.100.4', '198.51.100.5'], error: '' };
  const f = fakes({ dns: () => answer });
  const p = await load('dns-answer', f);
  t.equal(p.evaluate('198.51.100.53', [['name', 'svc.example'], ['expect', '198.51.100.5']]), null);
  t.equal(p.evaluate('x', [['name', 'svc.example'], ['expect', '192.0.2.9, 198.51.100.004']]), null, 'any one expected address will do');
  t.same(f.calls, ['dns svc.example A', 'dns svc.example A']);
  t.equal(p.evaluate('x', [['name', 'svc.example'], ['expect', '192.0.2.9']]),
    'svc.example A is 198.51.100.4, 198.51.100.5, expected 192.0.2.9');

  answer = { rcode: 0, latencyUs: 700, addresses: ['2001:db8::5'], error: '' };
  t.equal(p.evaluate('x', [['name', 'svc.example'], ['qtype', 'aaaa'], ['expect', '2001:DB8:0:0:0::5']]), null, 'IPv6 compared canonically');
  t.equal(f.calls.at(-1), 'dns svc.example AAAA');
  answer = { rcode: 0, latencyUs: 700, addresses: [], error: '' };
  t.equal(p.evaluate('x', [['name', 'svc.example'], ['expect', '192.0.2.9']]), 'no A record for svc.example');
  answer = { rcode: 3, latencyUs: 700, addresses: [], error: '' };
  t.equal(p.evaluate('x', [['name', 'svc.example'], ['expect', '192.0.2.9']]), 'svc.example A: rcode 3 (NXDOMAIN)');
  answer = { rcode: -1, latencyUs: 0, addresses: [], error: 'timeout after 500 ms' };
  t.equal(p.evaluate('x', [['name', 'svc.example'], ['expect', '192.0.2.9']]), 'no answer: timeout after 500 ms');

  f.calls.length = 0;
  t.equal(p.evaluate('x', [['expect', '192.0.2.9']]), 'missing arg "name"');
  t.equal(p.evaluate('x', [['name', 'svc.example']]), 'missing arg "expect"');
  t.equal(p.evaluate('x', [['name', 'svc.example'], ['expect', ' , ']]), 'arg "expect": no address given');
  t.equal(p.evaluate('x', [['name', 'svc.example'], ['expect', '192.0.2']]), 'arg "expect": "192.0.2" is not an IPv4 address');
  t.equal(p.evaluate('x', [['name', 'svc.example'], ['qtype', 'AAAA'], ['expect', '192.0.2.1']]), 'arg "expect": "192.0.2.1" is not an IPv6 address');
  t.equal(p.evaluate('x', [['name', 'svc.example'], ['qtype', 'MX'], ['expect', '192.0.2.1']]), 'arg "qtype": "MX" is not A or AAAA');
  t.same(f.calls, [], 'bad args never reach a probe');
});

t.test('the arena: 10,000 rounds keep memory flat', async (t) => {
  const body = 'b'.repeat(60_000);
  const f = fakes({
    http: () => ({ status: 200, latencyUs: 1000, body, error: '' }),
    tcp: () => ({ connected: true, latencyUs: 1, banner: 'x'.repeat(4096), error: '' }),
    dns: () => ({ rcode: 0, latencyUs: 1, addresses: Array.from({ length: 50 }, (_, i) => `2001:db8::${i}`), error: '' }),
    icmp: () => 1,
  });
  for (const [name, args] of [
    ['http-budget', [['budgetMs', '500'], ['path', '/' + 'p'.repeat(2000)]]],
    ['test/probe-all', [['send', 's'.repeat(1000)]]],
    ['test/echo-args', Array.from({ length: 20 }, (_, i) => [`k${i}`, 'v'.repeat(500)])],
  ] as [string, [string, string][]][]) {
    const p = await load(name, f);
    p.evaluate('x', args);
    const first = p.memoryBytes();
    for (let i = 0; i < 10_000; i++) p.evaluate('target-' + i, args);
    t.equal(p.memoryBytes(), first, `${name}: ${first / 1024} KiB after the first round and after 10,000 more`);
    t.ok(first <= 1 << 20, `${name}: a round fits in 1 MiB`);
  }
});

// A throwaway policy from source. asc resolves imports relative to its project, so the source
// goes under policies/build/ (ignored by git), where "../../sdk" is the SDK.
async function buildTemp(t: Test, body: string): Promise<Uint8Array> {
  const dir = mkdtempSync(join(root, 'policies/build/.tmp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const src = join(dir, 'temp.ts');
  writeFileSync(src, `import { Args, register, ok, fail } from "../../sdk";
export { evaluate, cabi_realloc } from "../../sdk";
${body}
register(check);
`);
  return buildOne(src);
}

t.test('the arena keeps what top-level code allocated', async (t) => {
  // A global Map built at start lives below the arena's floor: rounds that allocate plenty
  // must not overwrite it when the arena is rewound.
  const p = await load(await buildTemp(t, `
    const names = new Map<string, string>();
    names.set("a", "kept " + "x".repeat(3));
    function check(target: string, args: Args): string | null {
      return fail(names.get("a") + " " + target.repeat(100).length.toString());
    }`), fakes());
  for (let i = 0; i < 1000; i++) p.evaluate('yyyyyyyyyy', []);
  t.equal(p.evaluate('zz', []), 'kept xxx 200');
});

t.test('after a trap the instance is never entered again', async (t) => {
  // The arena is rewound at the start of the round after one that *returned*; a round that
  // trapped leaves it as it was. That is harmless only because the component model poisons an
  // instance that trapped (jco enforces it): the host must instantiate afresh.
  const p = await load(await buildTemp(t, `
    function check(target: string, args: Args): string | null {
      if (target == "trap") unreachable();
      return ok();
    }`), fakes());
  t.equal(p.evaluate('x', []), null);
  t.throws(() => p.evaluate('trap', []), /unreachable/);
  t.throws(() => p.evaluate('x', []), /cannot enter component instance/);
});

t.test('the template builds and works', async (t) => {
  let answer: HttpResponse = { status: 200, latencyUs: 1000, body: 'all systems ok', error: '' };
  const f = fakes({ http: () => answer });
  const p = await load(await buildOne(join(root, 'policies/template/my-policy.ts')), f);
  t.equal(p.evaluate('x', [['contains', 'ok'], ['path', '/status']]), null);
  t.same(f.calls, ['http GET 0 /status false']);
  answer = { status: 200, latencyUs: 1000, body: 'degraded', error: '' };
  t.equal(p.evaluate('x', [['contains', 'ok']]), 'body does not contain "ok"');
  for (let i = 0; i < 10; i++) p.evaluate('x', [['contains', 'ok']]);
  t.same(f.logs.map(([, m]) => m.replace(/.*: /, '')), ['1', '11'], 'a global counter survives rounds');
  t.equal(p.evaluate('x', []), 'missing arg "contains"');
});
