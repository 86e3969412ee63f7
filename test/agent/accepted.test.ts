// The accepted-config record (host/agent/accepted.ts): a restarted engine starts on the config
// the supervisor last accepted for exactly the file's text, never on anything else, and the
// supervisor's own reading still wins.
import t from 'tap';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync, renameSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptedConfig, recordPath, rememberAccepted } from '../../host/agent/accepted.ts';
import { parseConfig } from '../../host/config/load.ts';
import { skipReason } from '../net/netns.ts';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { holders, lab, Proc, until, vigilConfig } from '../helpers/agents.ts';

function tmp(t: { teardown(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'vigil-accepted-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

t.test('a record is used only for the same file, text and program, in a directory only we own', async (t) => {
  const base = tmp(t);
  const dir = join(base, 'accepted');
  const file = join(base, 'vigil.yaml');
  const text = vigilConfig({ priority: 150 });
  writeFileSync(file, text);
  const config = parseConfig(text, file);
  t.equal(acceptedConfig(file, dir), undefined, 'no record: a miss');
  t.equal(rememberAccepted(file, text, config, dir), undefined, 'recorded');
  t.same(acceptedConfig(file, dir), config, 'the same text: the recorded config');
  t.equal((readdirSync(dir).length), 1, 'one record per file');
  t.equal(JSON.parse(readFileSync(recordPath(file, dir), 'utf8')).text, text, 'the record holds the text it stands for');

  writeFileSync(file, text.replace('priority: 150', 'priority: 151'));
  t.equal(acceptedConfig(file, dir), undefined, 'an edited file: a miss');
  writeFileSync(file, text);
  t.same(acceptedConfig(file, dir), config, 'the text back: a hit again');

  const other = join(base, 'other.yaml');
  writeFileSync(other, text);
  t.equal(acceptedConfig(other, dir), undefined, 'the same text at another path: a miss');

  chmodSync(dir, 0o755);
  t.equal(acceptedConfig(file, dir), undefined, 'a directory others may enter: a miss');
  chmodSync(dir, 0o700);

  // A record that is a link (to a record of the attacker's making, say) is not followed.
  const rec = recordPath(file, dir);
  renameSync(rec, join(base, 'elsewhere.json'));
  symlinkSync(join(base, 'elsewhere.json'), rec);
  t.equal(acceptedConfig(file, dir), undefined, 'a record that is a symlink: a miss');
  rmSync(rec);

  const forged = JSON.parse(readFileSync(join(base, 'elsewhere.json'), 'utf8'));
  writeFileSync(rec, JSON.stringify({ ...forged, program: 'another build' }), { mode: 0o600 });
  t.equal(acceptedConfig(file, dir), undefined, 'a record made by another program: a miss');
  writeFileSync(rec, '{"v":1, "tex', { mode: 0o600 });
  t.equal(acceptedConfig(file, dir), undefined, 'a torn record: a miss, not an error');
});

t.test('a record of a config file that is gone goes at the next write', async (t) => {
  const base = tmp(t);
  const dir = join(base, 'accepted');
  const text = vigilConfig({ priority: 100 });
  const gone = join(base, 'gone.yaml'), kept = join(base, 'kept.yaml');
  for (const f of [gone, kept]) writeFileSync(f, text);
  t.equal(rememberAccepted(gone, text, parseConfig(text, gone), dir), undefined);
  rmSync(gone);
  writeFileSync(join(dir, 'torn.json'), '{"v":1,', { mode: 0o600 });
  t.equal(rememberAccepted(kept, text, parseConfig(text, kept), dir), undefined);
  t.same(readdirSync(dir), [recordPath(kept, dir).split('/').pop()], 'only the existing file\'s record is left');
});

t.test('records are pruned to the newest sixteen', async (t) => {
  const base = tmp(t);
  const dir = join(base, 'accepted');
  const text = vigilConfig({ priority: 100 });
  for (let i = 0; i < 20; i++) {
    const f = join(base, `c${i}.yaml`);
    writeFileSync(f, text);
    t.equal(rememberAccepted(f, text, parseConfig(text, f), dir), undefined);
    // mtimes a second apart: the order is the writes', whatever the file system's resolution.
    utimesSync(recordPath(f, dir), 1e6 + i, 1e6 + i);
  }
  const left = readdirSync(dir);
  t.equal(left.length, 16, '16 records left');
  t.notOk(left.includes(recordPath(join(base, 'c0.yaml'), dir).split('/').pop()!), 'the oldest went');
  t.ok(left.includes(recordPath(join(base, 'c19.yaml'), dir).split('/').pop()!), 'the newest stayed');
});

const skip = skipReason();
const VIP = '192.0.2.100', OTHER = '192.0.2.101';

t.test('a restart starts on the accepted config; the supervisor\'s reading wins when it differs', { skip }, async (t) => {
  const l = lab(t, 'vagac-', ['a']);
  const [a] = l.hosts;
  const file = l.work.file('a.yaml', vigilConfig({ priority: 255, vips: [`${VIP}/24`] }));
  // When each Node began (run: the supervisor, engine: the engine), against the engine's start.
  const probe = { NODE_OPTIONS: `--import=${l.work.file('probe.mjs', "process.stderr.write(`ORIGIN ${process.argv[2]} ${performance.timeOrigin}\\n`);")}` };
  const order = (p: { lines: string[] }) => {
    const origin = (role: string) => Number(p.lines.find((x) => x.startsWith(`ORIGIN ${role} `))?.split(' ')[2]);
    const running = p.lines.find((x) => /vigil running/.test(x));
    return { supervisor: origin('run'), engine: origin('engine'), running: running ? Date.parse(JSON.parse(running).time) : NaN };
  };
  const first = l.vigilFile(a, file, probe);
  await first.waitLine(/"to":"master"/, 10_000);
  t.notOk(first.lines.some((x) => /as last accepted/.test(x)), 'the first start waits for the supervisor\'s parse');
  await first.waitLine(/vigil running/, 5000);
  const o1 = order(first);
  t.ok(o1.supervisor < o1.running, `no record: the supervisor's Node starts beside the engine's (${JSON.stringify(o1)})`);
  await until(() => readdirSafe(recordPath(file)), 3000, 'the supervisor to record the accepted config');
  t.equal(await first.stop(), 0);

  const second = l.vigilFile(a, file, probe);
  await second.waitLine(/vigil running: 1 instance\(s\) .*as last accepted/, 10_000);
  // A warm start (host/agent/warm-start.ts): the supervisor's Node alone to the first advert
  // (two Node boots at once slow each other by ~30 ms here), the engine proper's after it.
  await second.waitLine(/instances handed over to the engine/, 5000);
  const o2 = order(second);
  const master = Date.parse(JSON.parse(second.lines.find((x) => /"to":"master"/.test(x))!).time);
  t.ok(o2.supervisor < master && o2.engine >= master - 1 && o2.engine < o2.running,
    `a record: a warm start, the engine proper's Node started after the supervisor's engine took over (${JSON.stringify({ ...o2, master })})`);
  await until(() => holders(l.ns, VIP).length === 1, 3000, 'the VIP on a');
  t.notOk(second.lines.some((x) => /reads the config otherwise/.test(x)), 'the supervisor\'s reading matched');
  // Its supervisor writes the record again a second after the start: not over the forgery below.
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(await second.stop(), 0);

  // A record made by another program (another build, dist/vigil): the engine will not start on
  // it, so bin/vigil does not hold the supervisor back either.
  const rec = recordPath(file);
  const made = readFileSync(rec, 'utf8');
  writeFileSync(rec, made.replace(/"program":"[^"]*"/, '"program":"v0 /elsewhere/vigil 1 1"'), { mode: 0o600 });
  const other = l.vigilFile(a, file, probe);
  await other.waitLine(/vigil running/, 10_000);
  const o3 = order(other);
  t.notOk(other.lines.some((x) => /as last accepted/.test(x)), 'another program\'s record: not started on');
  t.ok(o3.supervisor < o3.running, `another program's record: the supervisor's Node starts beside the engine's (${JSON.stringify(o3)})`);
  await new Promise((r) => setTimeout(r, 1500));   // its supervisor writes its own record back
  t.equal(await other.stop(), 0);

  // A record whose config is not what the text reads as (as after an upgrade that reads it
  // otherwise): the engine starts on it, then takes the supervisor's reading.
  const r = JSON.parse(readFileSync(rec, 'utf8'));
  r.config = JSON.parse(JSON.stringify(r.config).replaceAll(VIP, OTHER));
  writeFileSync(rec, JSON.stringify(r), { mode: 0o600 });
  const third = l.vigilFile(a, file);
  await third.waitLine(/as last accepted/, 10_000);
  await third.waitLine(/reads the config otherwise than the accepted record/, 5000);
  await until(() => holders(l.ns, VIP).length === 1 && holders(l.ns, OTHER).length === 0, 3000, 'the file\'s VIP, not the record\'s');
  t.notOk(third.lines.some((x) => /engine exited/.test(x)), 'no engine restart on the way');
  t.pass('the VIP is the file\'s');
  t.equal(await third.stop(), 0);

  // A file the supervisor refuses: its text has no record, so the engine waits and exits quietly.
  writeFileSync(file, vigilConfig({ priority: 256 }));
  const fourth = l.vigilFile(a, file);
  t.equal(await fourth.exited, 2, 'refused: exit 2');
  t.notOk(fourth.lines.some((x) => /as last accepted/.test(x)), 'no engine started on a record');
  t.same(holders(l.ns, VIP), [], 'no VIP');
});

// When the supervisor asks for the config parser (the resolve of host/config/load.ts), once.
const PARSER_PROBE = `import { registerHooks } from 'node:module';
let seen = false;
registerHooks({ resolve(s, c, next) {
  const r = next(s, c);
  if (!seen && process.argv[2] === 'run' && /\\/host\\/config\\/load\\.ts$/.test(r.url)) {
    seen = true;
    process.stderr.write('PARSER ' + (performance.timeOrigin + performance.now()) + '\\n');
  }
  return r;
} });
`;

t.test('started without bin/vigil (as dist/vigil is), the supervisor parses only once its engine has handed over', { skip }, async (t) => {
  const l = lab(t, 'vagah-', ['a']);
  const [a] = l.hosts;
  const file = l.work.file('a.yaml', vigilConfig({ priority: 255, vips: [`${VIP}/24`] }));
  const env = { ...process.env, NODE_OPTIONS: `--import=${l.work.file('parser-probe.mjs', PARSER_PROBE)}` };
  const main = fileURLToPath(new URL('../../host/cli/main.ts', import.meta.url));
  const start = () => {
    const p = new Proc(spawn('ip', ['netns', 'exec', a.ns, process.execPath, main, 'run', '-c', file, '--log-json'], { stdio: ['ignore', 'pipe', 'pipe'], env }));
    l.procs.push(p);
    return p;
  };
  const times = (p: Proc) => ({
    parser: Number(p.lines.find((x) => x.startsWith('PARSER '))?.split(' ')[1]),
    running: Date.parse(JSON.parse(p.lines.find((x) => /vigil running/.test(x))!).time),
  });

  const first = start();
  await first.waitLine(/vigil running/, 15_000);
  await first.waitLine(/^PARSER /, 5000);
  const t1 = times(first);
  t.notOk(first.lines.some((x) => /as last accepted/.test(x)), 'no record: the engine waits for the supervisor\'s parse');
  t.ok(t1.parser < t1.running, `no record: the parser is loaded at once (${JSON.stringify(t1)})`);
  await until(() => readdirSafe(recordPath(file)), 3000, 'the supervisor to record the accepted config');
  t.equal(await first.stop(), 0);

  const second = start();
  await second.waitLine(/vigil running: 1 instance\(s\) .*as last accepted/, 15_000);
  await second.waitLine(/^PARSER /, 5000);
  const t2 = times(second);
  // A warm start: the supervisor's own engine runs the instances first, and the parse (tens of
  // ms of its loop) waits until it has handed them to the engine proper.
  const handed = Date.parse(JSON.parse(second.lines.find((x) => /instances handed over/.test(x)) ?? '{}').time);
  t.ok(t2.parser >= handed - 1, `a record: the parser is loaded once the instances are handed over (${JSON.stringify({ ...t2, handed })})`);
  await until(() => holders(l.ns, VIP).length === 1, 3000, 'the VIP on a');
  t.notOk(second.lines.some((x) => /reads the config otherwise/.test(x)), 'the supervisor\'s reading matched');
  t.equal(await second.stop(), 0);
});

function readdirSafe(p: string): boolean {
  try { return readFileSync(p).length > 0; } catch { return false; }
}
