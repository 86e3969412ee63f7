// A bad file is refused whole: every problem at once, sorted by place, in one ConfigError.
import t from 'tap';
import { parseConfig } from '../../host/config/load.ts';
import { ConfigError, formatProblem } from '../../host/config/errors.ts';
import { VigilError } from '../../host/errors.ts';
import { at, lines, problemsOf } from './util.ts';

const text = lines(
  'instances:',
  '  - name: VI_1',
  '    interface: e0',
  '    vrid: 51',
  '    prority: 150',
  '    version: 2',
  '    advertInterval: 1500ms',
  '    virtualAddresses: [192.0.2.100/24, 2001:db8::1]',
  '    unicastPeers: []',
  '  - name: VI_2',
  '    interface: e0',
  '    vrid: 51',
  '    priority: 300',
  '    auth: { type: pass, password: s3cret }',
  '    virtualAddresses: [192.0.2.101]',
  '    notify: { master: up.sh }',
  'syncGroups:',
  '  - { name: G1, instances: [VI_1, VI_3] }',
  'status: { listen: "::1:9110" }',
);

t.test('every problem, in file order, each with its place', async (t) => {
  t.same(problemsOf(text), [
    at(text, 'prority', 'unknown key "prority" (did you mean "priority"?)'),
    at(text, '1500ms', 'advertInterval 1500ms: VRRPv2 intervals are whole seconds (1s..255s)'),
    at(text, '2001:db8::1', 'virtualAddresses mixes IPv4 and IPv6: one family per instance; make a second instance for 2001:db8::1'),
    at(text, '[]', 'unicastPeers is empty: list at least one peer, or remove the key for multicast'),
    at(text, ['51', 2], 'VRID 51 is already used on e0 by instance VI_1 (line 2): give this instance another vrid (one VRID per interface and address family)'),
    at(text, '300', 'priority 300 is out of range 1..255'),
    at(text, 'auth', 'auth is VRRPv2 only (VRRPv3 has no authentication, RFC 5798): remove it, or set version: 2'),
    at(text, 'up.sh', 'notify.master "up.sh" is not an absolute path: write the full path, e.g. /etc/vigil/up.sh'),
    at(text, 'VI_3', 'sync group G1 names instance "VI_3", which is not defined (did you mean "VI_1"?)'),
    at(text, '"::1', 'status.listen "::1:9110": write an IPv6 address in brackets, e.g. [::1]:9110'),
  ]);
});

t.test('ConfigError: code, problems, and a message of one line per problem', async (t) => {
  let err: unknown;
  try { parseConfig(text, '/etc/vigil/vigil.yaml'); } catch (e) { err = e; }
  t.ok(err instanceof ConfigError);
  t.ok(err instanceof VigilError);
  const e = err as ConfigError;
  t.equal(e.code, 'VIGIL_ECONFIG');
  t.equal(e.name, 'ConfigError');
  t.equal(e.problems.length, 10);
  const msgLines = e.message.split('\n');
  t.equal(msgLines.length, 10);
  t.equal(msgLines[0], '/etc/vigil/vigil.yaml:5:5: unknown key "prority" (did you mean "priority"?)');
  t.strictSame(msgLines, e.problems.map(formatProblem));
  for (const l of msgLines) t.match(l, /^\/etc\/vigil\/vigil\.yaml:\d+:\d+: \S/);
});

t.test('problems sharing a place keep the order they were found in', async (t) => {
  const p = problemsOf(lines('instances:', '  - name: A'));
  t.strictSame(p.map((x) => [x.line, x.col]), [[2, 5], [2, 5], [2, 5]]);
  t.strictSame(p.map((x) => x.message.replace(/:.*/, '')), ['instance A has no interface', 'instance A has no vrid', 'instance A has no virtualAddresses']);
});

t.test('formatProblem: a problem with the whole file has no line:col', async (t) => {
  t.equal(formatProblem({ file: 'f.yaml', line: 0, col: 0, message: 'cannot read it' }), 'f.yaml: cannot read it');
  t.equal(formatProblem({ file: 'f.yaml', line: 3, col: 7, message: 'x' }), 'f.yaml:3:7: x');
});
