// policies: and checks of type policy: what is read, the defaults, and every problem at its place.
import t, { type Test } from 'tap';
import { resolve } from 'node:path';
import { FILE, at, instance, lines, ok, problemsOf } from './util.ts';

function expect(t: Test, text: string, ...expected: [string | [string, number], string][]) {
  t.same(problemsOf(text), expected.map(([needle, message]) => at(text, needle, message)), text.split('\n')[1]);
}
const file = (policies: string[], checks: string[]) =>
  lines('policies:', ...policies.map((p) => `  - ${p}`), ...(checks.length ? ['checks:', ...checks.map((c) => `  - ${c}`)] : []), 'instances:', ...instance('VI_1', 51, '192.0.2.100'));

t.test('a policy and a check that uses it, with defaults and args in order', async (t) => {
  const c = ok(file(
    ['{ name: web-budget, file: builtin:http-budget }', '{ name: mine, file: policies/mine.wasm, memory: 4MiB, cpu: 20ms }'],
    ['{ name: web, type: policy, policy: web-budget, target: 198.51.100.10:8080, args: { path: /health, budgetMs: 200, tls: false } }',
      '{ name: v6, type: policy, policy: mine, target: "[2001:db8::10]", host: www.example }'],
  ));
  t.strictSame(c.policies, [
    { name: 'web-budget', line: 2, col: 5, file: 'builtin:http-budget', memoryPages: 256, cpuUs: 50_000 },
    { name: 'mine', line: 3, col: 5, file: resolve('policies/mine.wasm'), memoryPages: 64, cpuUs: 20_000 },
  ], 'a relative file is relative to the config\'s directory');
  t.match(c.checks[0], { type: 'policy', policy: 'web-budget', host: '198.51.100.10', port: 8080, args: [['path', '/health'], ['budgetMs', '200'], ['tls', 'false']] });
  t.match(c.checks[1], { type: 'policy', policy: 'mine', host: '2001:db8::10', port: 0, args: [], hostHeader: 'www.example' });
  t.equal(FILE, 'test.yaml');
});

t.test('problems, each at its place', async (t) => {
  const P = '{ name: p, file: builtin:http-budget }';
  expect(t, file([P], ['{ name: c, type: policy, policy: q, target: 198.51.100.1 }']),
    ['q,', 'check c uses policy "q", which is not defined (did you mean "p"?)']);
  expect(t, file([P], ['{ name: c, type: policy, target: 198.51.100.1 }']),
    ['{ name: c', 'check c has no policy: add "policy: NAME" (one of the top-level policies: list)']);
  expect(t, file([P], ['{ name: c, type: tcp, policy: p, target: 198.51.100.1:25 }']),
    ['policy: p', 'check c: policy is for policy checks, not tcp: remove it']);
  expect(t, file([P], ['{ name: c, type: policy, policy: p, target: www.example }']),
    ['www', 'check c: target "www.example" names "www.example", which is not an IP address (vigil resolves no names)']);
  expect(t, file([P], ['{ name: c, type: policy, policy: p, target: 198.51.100.1, args: [a, b] }']),
    ['[a', 'check c: args must be a map such as { path: /health, budgetMs: 200 }, not a list']);
  expect(t, file([P], ['{ name: c, type: policy, policy: p, target: 198.51.100.1, args: { x: { y: 1 } } }']),
    ['{ y', 'check c: args.x must be a plain value (text, a number or true/false), not a map']);
  expect(t, file([P], ['{ name: c, type: policy, policy: p, target: 198.51.100.1, args: { 9x: 1 } }']),
    ['9x', 'check c: args key "9x" must be a name (a letter, then letters, digits, "_", "-" or ".")']);
  expect(t, file(['{ name: p, file: builtin:nope }'], []),
    ['builtin:nope', 'policy p: there is no built-in policy "nope": the built-in policies are http-budget, tcp-banner, dns-answer']);
  expect(t, file(['{ name: p }'], []), ['{ name: p', 'policy p has no file: add "file: /etc/vigil/policies/NAME.wasm" (a component) or "file: builtin:http-budget"']);
  expect(t, file(['{ name: p, file: builtin:http-budget, memory: 1GiB }'], []),
    ['1GiB', 'policy p: memory "1GiB" is not a size: write e.g. 16MiB (1..256 MiB)']);
  expect(t, file(['{ name: p, file: builtin:http-budget, memory: 512MiB }'], []),
    ['512MiB', 'policy p: memory 512MiB is out of range: 1..256 MiB']);
  expect(t, file([P, '{ name: p, file: builtin:tcp-banner }'], []),
    [['p,', 2], 'policy name "p" is already used (line 2): names must be unique']);
  expect(t, file(['{ name: p, file: builtin:http-budget, cpus: 5ms }'], []),
    ['cpus', 'unknown key "cpus" (did you mean "cpu"?)']);
});
