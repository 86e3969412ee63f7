// The command line as a user runs it: bin/vigil in a child process, exit codes and output.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const vigil = fileURLToPath(new URL('../../bin/vigil', import.meta.url));
const golden = new URL('../golden/', import.meta.url);
function run(args: string[], input?: string) {
  const r = spawnSync(vigil, args, { input, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const lines = (s: string) => s.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));

t.test('top level: help, version, unknown command', async (t) => {
  t.match(run(['--help']), { code: 0, out: /decode.*\n.*avail/s });
  t.match(run(['--version']), { code: 0, out: /^vigil \d+\.\d+\.\d+/ });
  const r = run(['frobnicate']);
  t.equal(r.code, 2);
  t.match(r.err, /^vigil: unknown command "frobnicate"; commands: run, check, cleanup, status, lb, policy, import, decode, avail\n$/);
});

t.test('decode: hex arguments, one JSON line each', async (t) => {
  const [v3] = readFileSync(new URL('v3-ipv4.hex', golden), 'utf8').split('\n');
  const [v2] = readFileSync(new URL('v2-pass.hex', golden), 'utf8').split('\n');
  const r = run(['decode', v3, v2]);
  t.equal(r.code, 0);
  const [a, b] = lines(r.out);
  t.match(a, { valid: true, version: 3, vrid: 53, priority: 150, count: 2, advertInterval: 50, advertIntervalUnit: 'centiseconds',
    addresses: ['192.0.2.100', '192.0.2.101'], source: '192.0.2.1', ttl: 255, checksumValid: true });
  t.notOk('drop' in a);
  t.match(b, { valid: true, version: 2, advertInterval: 1, advertIntervalUnit: 'seconds', auth: { type: 1, data: 's3cret' } });
});

t.test('decode: an invalid packet exits 1 with its reason', async (t) => {
  const [v3] = readFileSync(new URL('v3-ipv4.hex', golden), 'utf8').split('\n');
  const bad = v3.slice(0, -2) + (v3.slice(-2) === '00' ? '01' : '00');
  const r = run(['decode', v3, bad]);
  t.equal(r.code, 1);
  const [a, b] = lines(r.out);
  t.equal(a.valid, true);
  t.match(b, { valid: false, drop: 'checksum', checksumValid: false });
});

t.test('decode: stdin, one per line or tcpdump -x output', async (t) => {
  const text = readFileSync(new URL('v3-ipv6.hex', golden), 'utf8');
  const r = run(['decode', '-'], text);
  t.equal(r.code, 0);
  t.equal(lines(r.out).length, text.trim().split('\n').length);
  t.match(lines(r.out)[0], { family: 'ipv6', source: 'fe80::1', destination: 'ff02::12', ttl: 255 });
  // tcpdump -x prints 16-bit groups after an offset.
  const [v2] = readFileSync(new URL('v2-noauth.hex', golden), 'utf8').split('\n');
  const groups = v2.match(/.{1,4}/g)!;
  let dump = '18:00:00.000000 IP 192.0.2.1 > 224.0.0.18: VRRPv2, Advertisement, vrid 51, prio 150, authtype none, intvl 1s, length 24\n';
  for (let i = 0; i < groups.length; i += 8) dump += `\t0x${(i * 2).toString(16).padStart(4, '0')}:  ${groups.slice(i, i + 8).join(' ')}\n`;
  const d = run(['decode', '-'], dump + dump);
  t.equal(d.code, 0, d.err);
  t.equal(lines(d.out).length, 2);
  t.match(lines(d.out)[1], { version: 2, vrid: 51 });
});

t.test('decode: --pcap reads captures', async (t) => {
  const r = run(['decode', '--pcap', fileURLToPath(new URL('v2-prio0.pcap', golden))]);
  t.equal(r.code, 0);
  t.match(lines(r.out)[0], { frame: 1, priority: 0, valid: true });
});

t.test('decode: unreadable input exits 2 with one line, no stack', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'junk.pcap'), 'not a capture at all');
  const cases: [string[], RegExp, string?][] = [
    [['decode', 'xyz'], /argument 1: "x" is not a hex digit/],
    [['decode', 'abc'], /odd number of hex digits/],
    [['decode'], /nothing to decode/],
    [['decode', '-'], /stdin: no packets/, ''],
    [['decode', '--pcap', join(dir, 'missing.pcap')], /cannot read .*missing\.pcap: ENOENT/],
    [['decode', '--pcap', join(dir, 'junk.pcap')], /junk\.pcap: not a pcap or pcapng file/],
    [['decode', '--frob'], /Unknown option '--frob'/],
  ];
  for (const [args, re, input] of cases) {
    const r = run(args, input);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.err, re);
    t.equal(r.err.trim().split('\n').length, 1, 'one line');
    t.notMatch(r.err, /\n\s+at /, 'no stack trace');
  }
});

t.test('avail: MTTF/MTTR, percent and nines', async (t) => {
  const a = JSON.parse(run(['avail', '--mttf', '720h', '--mttr', '30m', '--json']).out);
  t.equal(a.availability, 720 / 720.5);
  t.ok(Math.abs(a.nines - 3.1584) < 1e-3);
  // The usual table: 99.9% allows 8.77 h a year, 43.8 min a month, 10.1 min a week.
  const b = JSON.parse(run(['avail', '--availability', '99.9', '--json']).out);
  t.ok(Math.abs(b.downtimeSeconds.year - 31557.6) < 0.01);
  t.ok(Math.abs(b.downtimeSeconds.month - 2629.8) < 0.01);
  t.ok(Math.abs(b.downtimeSeconds.week - 604.8) < 0.01);
  const c = JSON.parse(run(['avail', '--nines', '5', '--json']).out);
  t.ok(Math.abs(c.percent - 99.999) < 1e-9);
  t.ok(Math.abs(c.downtimeSeconds.year - 315.576) < 1e-6);
  const table = run(['avail', '--nines', '4']);
  t.equal(table.code, 0);
  t.match(table.out, /availability\s+99\.99 %\s+\(4\.00 nines\)/);
  t.match(table.out, /per year\s+52m 36s/);
  t.equal(JSON.parse(run(['avail', '--availability', '100', '--json']).out).nines, null, '100% has infinite nines');
});

t.test('avail: bad input is one line and exit 2', async (t) => {
  const cases: [string[], RegExp][] = [
    [['avail'], /exactly one of/],
    [['avail', '--mttf', '720', '--mttr', '30m'], /--mttf: duration "720" needs a unit/],
    [['avail', '--mttf', '1h'], /--mttf and --mttr go together/],
    [['avail', '--mttf', 'soon', '--mttr', '1h'], /"soon" is not a duration/],
    [['avail', '--availability', '101'], /over 100 percent/],
    [['avail', '--availability', 'lots'], /"lots" is not a number/],
    [['avail', '--nines', '3', '--availability', '99'], /exactly one of/],
    [['avail', '--mttf', '0s', '--mttr', '0s'], /cannot both be zero/],
  ];
  for (const [args, re] of cases) {
    const r = run(args);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.err, re);
    t.equal(r.err.trim().split('\n').length, 1);
  }
});

t.test('every command has --help', async (t) => {
  // The commands the top-level help lists (main.ts registers them), all of them: a command added
  // there is covered here without a change.
  const top = run(['--help']).out;
  const listed = [...top.slice(top.indexOf('Commands:')).matchAll(/^ {2}([a-z]+) {2,}\S/gm)].map((m) => m[1]);
  t.same(listed, ['run', 'check', 'cleanup', 'status', 'lb', 'policy', 'import', 'decode', 'avail'], 'the user-facing commands');
  for (const c of listed) {
    for (const flag of ['--help', '-h']) {
      const r = run([c, flag]);
      t.equal(r.code, 0, `${c} ${flag} exits 0`);
      t.match(r.out, new RegExp(`^Usage: vigil ${c}( |\n)`), `${c} ${flag}: a Usage line naming the command`);
      t.match(r.out, /\nExamples:\n {2}vigil /, `${c} ${flag}: examples`);
      t.equal(r.err, '', `${c} ${flag}: nothing on stderr`);
    }
  }
  // The internal ones (started by `vigil run`, not listed): help, not a start. The engine takes
  // run's options and shows run's text.
  for (const [c, re] of [['checker', /^Usage: vigil checker /], ['engine', /^Usage: vigil run /]] as const) {
    const r = run([c, '--help']);
    t.equal(r.code, 0, `${c} --help exits 0`);
    t.match(r.out, re, `${c} --help: its Usage line`);
  }
});

t.test("bin/vigil starts the engine with run.ts's ENGINE_V8_FLAGS, in the same order", async (t) => {
  // bin/vigil starts the first engine's Node itself, before any TypeScript runs, and the
  // supervisor starts the later ones (engineArgv): the list is written twice, and an engine
  // restarted after a crash must run as the first one did.
  const { ENGINE_V8_FLAGS } = await import('../../host/cli/run.ts');
  const m = /^\s*engine_flags=\(([^)]*)\)/m.exec(readFileSync(vigil, 'utf8'));
  t.ok(m, 'bin/vigil has an engine_flags=(...) line');
  t.same(m![1]!.trim().split(/\s+/), ENGINE_V8_FLAGS);
});
