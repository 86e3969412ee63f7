// `vigil check` as a user runs it: bin/vigil in a child process, exit codes and output.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { instance, lines } from './util.ts';

const vigil = fileURLToPath(new URL('../../bin/vigil', import.meta.url));
const example = (name: string) => fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));
function run(args: string[]) {
  const r = spawnSync(vigil, args, { encoding: 'utf8', env: { ...process.env, VIGIL_DEBUG: '' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'vigil-check-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

t.test('a good file: exit 0 and a short summary', async (t) => {
  const r = run(['check', '-c', example('vigil.yaml')]);
  t.equal(r.code, 0, r.err);
  t.equal(r.err, '');
  t.strictSame(r.out.trimEnd().split('\n'), [
    `${example('vigil.yaml')}: 2 instances, 1 sync group`,
    '  VI_1 (e0, VRID 51, v3, IPv4, priority 150): advert 100ms, 192.0.2.100/24 192.0.2.101/24, multicast, tracks e1 e2, sync group G1',
    '  VI_6 (e0, VRID 51, v3, IPv6, priority 150): advert 100ms, 2001:db8::100/64, multicast, sync group G1',
    'status API on 127.0.0.1:9110',
    'real-time priority SCHED_FIFO 50',
  ]);
  const v2 = run(['check', '--config', example('v2-auth.yaml')]);
  t.equal(v2.code, 0);
  t.match(v2.out, /^.*v2-auth\.yaml: 1 instance, 0 sync groups\n  legacy \(e0, VRID 10, v2, IPv4, priority 100\): advert 1s, 203\.0\.113\.10\/24, multicast, no preempt, auth pass\n/);
  t.match(v2.out, /real-time scheduling off/);
  t.notMatch(v2.out, /s3cret/, 'the password is not printed');
  const uni = run(['check', '-c', example('unicast.yaml')]);
  t.match(uni.out, /web \(e0, VRID 60, v3, IPv4, priority 150\): advert 50ms, 198\.51\.100\.10\/24, unicast to 198\.51\.100\.3/);
});

t.test('an exposed status API is said so, and still exit 0', async (t) => {
  const p = file('exposed.yaml', lines('instances:', ...instance('A', 1, '192.0.2.1'), 'status: { listen: "0.0.0.0:9110" }'));
  const r = run(['check', '-c', p]);
  t.equal(r.code, 0);
  t.match(r.out, /status API on 0\.0\.0\.0:9110: beyond loopback, anyone who can reach it reads the agent's state/);
  const off = run(['check', '-c', file('off.yaml', lines('instances:', ...instance('A', 1, '192.0.2.1'), 'status: false'))]);
  t.match(off.out, /status API off/);
});

t.test('--json prints the normalized config', async (t) => {
  const r = run(['check', '-c', example('vigil.yaml'), '--json']);
  t.equal(r.code, 0);
  const c = JSON.parse(r.out);
  t.equal(c.instances.length, 2);
  t.match(c.instances[0], { name: 'VI_1', advertIntervalUs: 100_000, advertIntervalCs: 10, family: 4, syncGroup: 'G1',
    garp: { count: 5, intervalUs: 10_000, refreshUs: 60_000_000 }, unicastPeers: null });
  t.strictSame(c.status, { listen: { host: '127.0.0.1', port: 9110 }, exposed: false });
});

t.test('a bad file: exit 2, the problems one per line on stderr, nothing else', async (t) => {
  const p = file('bad.yaml', lines('instances:', ...instance('VI_1', 51, '192.0.2.100', ['prority: 150', 'unicastPeers: []']),
    ...instance('VI_2', 51, '192.0.2.101', ['advertInterval: 5ms'])));
  for (const args of [['check', '-c', p], ['check', '-c', p, '--json']]) {
    const r = run(args);
    t.equal(r.code, 2);
    t.equal(r.out, '', 'nothing on stdout');
    t.strictSame(r.err.split('\n'), [
      `${p}:6:5: unknown key "prority" (did you mean "priority"?)`,
      `${p}:7:19: unicastPeers is empty: list at least one peer, or remove the key for multicast`,
      `${p}:10:11: VRID 51 is already used on e0 by instance VI_1 (line 2): give this instance another vrid (one VRID per interface and address family)`,
      `${p}:12:21: advertInterval 5ms: VRRPv3 intervals are 10ms..40.95s in steps of 10ms`,
      '',
    ]);
    t.notMatch(r.err, /\n\s+at |Error|vigil check:/, 'no stack, no prefix');
  }
});

t.test('a YAML syntax error: exit 2 with its place', async (t) => {
  const p = file('syntax.yaml', lines('instances:', '  - name: VI_1', '    vrid: [51', '    priority: 100'));
  const r = run(['check', '-c', p]);
  t.equal(r.code, 2);
  t.equal(r.err, `${p}:4:5: YAML: Flow sequence in block collection must be sufficiently indented and end with a ]\n`);
});

t.test('a missing file: exit 2, one line', async (t) => {
  const r = run(['check', '-c', join(dir, 'nope.yaml')]);
  t.equal(r.code, 2);
  t.equal(r.out, '');
  t.equal(r.err, `${join(dir, 'nope.yaml')}: cannot read it: no such file (ENOENT)\n`);
});

t.test('without -c: /etc/vigil/vigil.yaml', { skip: existsSync('/etc/vigil/vigil.yaml') ? 'this machine has one' : false }, async (t) => {
  const r = run(['check']);
  t.equal(r.code, 2);
  t.equal(r.err, '/etc/vigil/vigil.yaml: cannot read it: no such file (ENOENT)\n');
});

t.test('usage: --help with examples, bad flags and stray arguments', async (t) => {
  const h = run(['check', '--help']);
  t.equal(h.code, 0);
  t.match(h.out, /^Usage: vigil check \[-c FILE\] \[--json\]/);
  t.match(h.out, /Examples:\n  vigil check\n  vigil check -c examples\/vigil\.yaml/);
  t.match(h.out, /default \/etc\/vigil\/vigil\.yaml/);
  const flag = run(['check', '--frob']);
  t.equal(flag.code, 2);
  t.match(flag.err, /^vigil check: Unknown option '--frob' \(see `vigil check --help`\)\n$/);
  const stray = run(['check', 'vigil.yaml']);
  t.equal(stray.code, 2);
  t.equal(stray.err, 'vigil check: unexpected argument "vigil.yaml": give the file with -c vigil.yaml (see `vigil check --help`)\n');
  t.match(run(['--help']).out, /\n  check +\S/, 'listed in vigil --help');
});
