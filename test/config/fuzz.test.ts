// Config fuzzing (fast-check): YAML that is valid, nearly valid (one mutation), garbage, deeply
// nested, or huge. The parser never throws anything but a ConfigError, never takes a second of
// CPU, and answers every problem with file:line:col (or the file alone, for whole-file ones);
// `vigil check` exits 0 or 2 with the same; a running agent given such files by SIGHUP stays up,
// answering each (reloaded, or refused with file:line:col).
import t from 'tap';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { parseConfig } from '../../host/config/load.ts';
import { ConfigError, formatProblem } from '../../host/config/errors.ts';
import { VIGIL, lab, Workdir } from '../helpers/agents.ts';
import { skipReason } from '../net/netns.ts';

const FILE = 'f.yaml';
const PROBLEM = /^f\.yaml(:\d+:\d+)?: \S/;

const instance = fc.record({
  name: fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,9}$/),
  vrid: fc.integer({ min: 1, max: 255 }),
  priority: fc.integer({ min: 1, max: 254 }),
  interval: fc.constantFrom('10ms', '100ms', '1s', '2s'),
  host: fc.integer({ min: 1, max: 254 }),
  preempt: fc.boolean(),
});
const valid = fc.uniqueArray(instance, { minLength: 1, maxLength: 4, selector: (i) => i.vrid })
  .filter((is) => new Set(is.map((i) => i.name)).size === is.length && new Set(is.map((i) => i.host)).size === is.length)
  .map((is) => 'instances:\n' + is.map((i) => [
    `  - name: ${i.name}`, '    interface: eth0', `    vrid: ${i.vrid}`, `    priority: ${i.priority}`,
    `    advertInterval: ${i.interval}`, `    preempt: ${i.preempt}`, `    virtualAddresses: [192.0.2.${i.host}/24]`,
  ].join('\n')).join('\n') + '\nstatus: { listen: 127.0.0.1:9110 }\n');

// One mutation of a valid file: a cut, an insertion, a line doubled, moved or re-indented.
const TOKENS = ['{', '}', '[', ']', ':', ',', '- ', '&a ', '*a', '!!str ', '|', '>', '"', "'", '#', '\t', '? ', '---\n', '1e999', '-1', '0x1F', '~', 'null', 'true', 'é', '\u0000', '\ufeff', '%YAML 1.2\n'];
const nearly = fc.tuple(valid, fc.nat(), fc.nat(), fc.integer({ min: 0, max: 5 }), fc.constantFrom(...TOKENS)).map(([text, a, b, kind, tok]) => {
  const at = a % (text.length + 1), to = at + (b % 20);
  const lines = text.split('\n');
  const l = a % lines.length;
  switch (kind) {
    case 0: return text.slice(0, at) + text.slice(to);
    case 1: return text.slice(0, at) + tok + text.slice(at);
    case 2: lines.splice(l, 0, lines[l]!); return lines.join('\n');
    case 3: lines[l] = ' '.repeat(b % 7) + lines[l]!.trimStart(); return lines.join('\n');
    case 4: lines.splice(b % lines.length, 0, lines.splice(l, 1)[0]!); return lines.join('\n');
    default: return text.replace(/: [^\n]+/g, (m, off: number) => (off % 3 === a % 3 ? `: ${tok}` : m));
  }
});
const garbage = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 3000 }),
  fc.array(fc.constantFrom(...TOKENS, 'instances:', 'name: x', 'vrid: 300', '\n', '  ', 'virtualAddresses: [', 'notify: { master: /x }'), { maxLength: 400 }).map((a) => a.join('')),
);
const deep = fc.tuple(fc.integer({ min: 10, max: 20_000 }), fc.constantFrom('flow', 'map', 'dash', 'block')).map(([n, k]) => {
  if (k === 'flow') return 'instances: ' + '['.repeat(n) + ']'.repeat(n);
  if (k === 'map') return 'instances: ' + '{a: '.repeat(n) + '1' + '}'.repeat(n);
  if (k === 'dash') return 'instances:\n' + '- '.repeat(n) + 'x';
  return Array.from({ length: Math.min(n, 1300) }, (_, i) => ' '.repeat(i) + 'k:').join('\n') + ' 1';
});
const huge = fc.tuple(fc.integer({ min: 1000, max: 1_100_000 }), fc.constantFrom('name', 'key', 'comment', 'quoted')).map(([n, k]) => {
  const s = 'x'.repeat(n);
  if (k === 'name') return `instances:\n  - name: ${s}\n    interface: eth0\n    vrid: 1\n    virtualAddresses: [192.0.2.1/24]\n`;
  if (k === 'key') return `${s}: 1\n`;
  if (k === 'comment') return `# ${s}\ninstances: []\n`;
  return `instances:\n  - name: "${s}`;
});

// The parser's answer, checked: accepted, or a ConfigError of well-formed problems.
function answer(text: string): { ok: boolean; cpuMs: number; problems: string[] } {
  const c0 = process.cpuUsage();
  let ok = true, problems: string[] = [];
  try {
    parseConfig(text, FILE);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw new Error(`not a ConfigError: ${(err as Error)?.stack ?? err}`);
    ok = false;
    problems = err.problems.map(formatProblem);
    if (problems.length === 0) throw new Error('a ConfigError without problems');
    for (const p of problems) if (!PROBLEM.test(p)) throw new Error(`not file:line:col: ${JSON.stringify(p.slice(0, 200))}`);
  }
  const c = process.cpuUsage(c0);
  return { ok, cpuMs: (c.user + c.system) / 1000, problems };
}

const worst: Record<string, number> = {};
function property(name: string, arb: fc.Arbitrary<string>, runs: number, mustAccept = false) {
  t.test(`parser: ${name}`, async (t) => {
    worst[name] = 0;
    fc.assert(fc.property(arb, (text) => {
      const a = answer(text);
      worst[name] = Math.max(worst[name]!, a.cpuMs);
      if (mustAccept && !a.ok) throw new Error(`a valid file was refused:\n${a.problems.join('\n')}\n${text}`);
      if (a.cpuMs > 1000) throw new Error(`${a.cpuMs.toFixed(0)} ms of CPU for ${text.length} characters`);
    }), { numRuns: runs, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) });
    t.comment(`worst ${worst[name]!.toFixed(1)} ms of CPU`);
    t.pass(`${runs} files, each answered within 1 s of CPU`);
  });
}
property('valid', valid, 200, true);
property('nearly valid', nearly, 400);
property('garbage', garbage, 300);
property('deep nesting', deep, 60);
property('huge strings', huge, 20);

t.test('vigil check: exit 0 or 2, problems as file:line:col', async (t) => {
  const w = new Workdir();
  t.teardown(() => w.remove());
  const samples = [
    ...fc.sample(valid, 2), ...fc.sample(nearly, 4), ...fc.sample(garbage, 3), ...fc.sample(deep, 2), ...fc.sample(huge, 1),
  ];
  let slowest = 0;
  for (const [i, text] of samples.entries()) {
    const f = w.file(`s${i}.yaml`, text);
    const t0 = performance.now();
    const r = spawnSync(VIGIL, ['check', '-c', f], { encoding: 'utf8', timeout: 20_000 });
    slowest = Math.max(slowest, performance.now() - t0);
    t.ok(r.status === 0 || r.status === 2, `sample ${i}: exit ${r.status} ${r.signal ?? ''}`, { stderr: r.stderr.slice(0, 2000), text: text.slice(0, 500) });
    if (r.status === 2) {
      const lines = r.stderr.trim().split('\n');
      t.ok(lines.every((l) => l.startsWith(`${f}:`) || l.startsWith(`${f}: `)), `sample ${i}: ${lines.length} problems, each at ${f}[:line:col]`);
    }
  }
  t.comment(`slowest vigil check (process start included): ${slowest.toFixed(0)} ms`);
});

const skip = skipReason();
t.test('SIGHUP with fuzzed files: the agent stays up and answers each', { skip, timeout: 120_000 }, async (t) => {
  const l = lab(t, 'vfz-', ['a']);
  const file = l.work.file('a.yaml', fc.sample(valid, 1)[0]!);
  const p = l.vigilFile(l.hosts[0]!, file);
  await p.waitLine(/"to":"(master|backup)"/, 15_000);
  const texts = [...fc.sample(nearly, 8), ...fc.sample(garbage, 4), ...fc.sample(deep, 3), ...fc.sample(huge, 1), ...fc.sample(valid, 4)];
  let slowest = 0;
  // Between two fuzzed files, a base config of its own (instance Bi): each accepted file's
  // "reloaded" line then differs (removed: [Bi]) and no rate limit holds it back as a repeat.
  const hup = async (text: string, answer: RegExp): Promise<[string | undefined, number]> => {
    writeFileSync(file, text);
    const seen = p.lines.length;
    const t0 = performance.now();
    p.signal('SIGHUP');
    const found = () => p.lines.slice(seen).find((x) => answer.test(x));
    while (!found() && performance.now() - t0 < 10_000 && p.child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
    return [found(), performance.now() - t0];
  };
  for (const [i, text] of texts.entries()) {
    const [base] = await hup(`instances:\n  - { name: B${i}, interface: eth0, vrid: 250, virtualAddresses: [192.0.2.250/24] }\nstatus: { listen: 127.0.0.1:9110 }\n`, new RegExp(`"msg":"reloaded".*"B${i}"`));
    t.ok(base, `base ${i} reloaded`);
    const [line, ms] = await hup(text, /reload refused|"msg":"reloaded"/);
    slowest = Math.max(slowest, ms);
    t.ok(line, `file ${i}: answered in ${ms.toFixed(0)} ms`, { text: text.slice(0, 500), log: p.lines.slice(-20).join('\n').slice(0, 3000) });
    if (line && /reload refused/.test(line)) t.match(JSON.parse(line).msg, /a\.yaml(:\d+:\d+)?: /, `file ${i}: refused at file:line:col`);
    t.equal(p.child.exitCode, null, `file ${i}: still running`);
  }
  t.comment(`slowest answer to a SIGHUP: ${slowest.toFixed(0)} ms (the box's load included)`);
  t.ok(slowest < 3000, 'none hung');
});
