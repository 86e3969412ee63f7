// The agent's log: human lines on a terminal, JSON lines otherwise, and the engine's terminal
// test (its shim's isatty) keeping node:tty (and node:net, which it loads) off the engine's start.
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { createLogger } from '../../host/agent/log.ts';
import { NODE } from '../net/netns.ts';

const capture = (opts: Parameters<typeof createLogger>[0]) => {
  const lines: string[] = [];
  const log = createLogger({ ...opts, write: (l) => lines.push(l) });
  log.info('VI_1: backup -> master', { instance: 'VI_1' });
  log.debug('not shown');
  return lines;
};

t.test('a terminal gets human lines, anything else JSON lines', async (t) => {
  const human = capture({ isatty: () => true });
  t.equal(human.length, 1, 'debug is off by default');
  t.match(human[0], /^\d{4}-\d\d-\d\dT[\d:.]+Z INFO  VI_1: backup -> master {2}instance=VI_1$/);
  const json = capture({ isatty: () => false });
  t.same({ ...JSON.parse(json[0]!), time: 'x' }, { time: 'x', level: 'info', msg: 'VI_1: backup -> master', instance: 'VI_1' });
  t.match(capture({ json: true, isatty: () => true })[0], /^\{/, '--log-json wins over a terminal');
  t.equal(capture({ json: true, debug: true }).length, 2, '--debug shows debug lines');
});

t.test('the terminal test given is asked about fd 2, and node:tty is not loaded for it', async (t) => {
  const asked: number[] = [];
  capture({ isatty: (fd) => { asked.push(fd); return false; } });
  t.same(asked, [2]);
  const src = `import { createLogger } from ${JSON.stringify(new URL('../../host/agent/log.ts', import.meta.url).href)};
createLogger({ isatty: () => false }).info('x');
const given = process.moduleLoadList.filter((m) => m === 'NativeModule tty');
createLogger().info('y');
const fallback = process.moduleLoadList.filter((m) => m === 'NativeModule tty');
console.log(JSON.stringify({ given, fallback }));`;
  const r = spawnSync(NODE, ['--input-type=module', '-e', src], { encoding: 'utf8', timeout: 20_000 });
  t.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { given: string[]; fallback: string[] };
  t.same(out.given, [], 'no node:tty with a terminal test given');
  t.ok(out.fallback.includes('NativeModule tty'), 'node:tty when none is given');
});

t.test('a repeating line is rate-limited, and what was held back is counted in one line', async (t) => {
  const lines: string[] = [];
  const log = createLogger({ json: true, write: (l) => lines.push(l), rateLimit: { burst: 3, windowMs: 200 } });
  for (let i = 0; i < 100; i++) log.warn('instance VI_1: advert not sent: refused', { instance: 'VI_1' });
  log.info('VI_1: backup -> master');
  log.warn('instance VI_1: advert not sent: refused', { instance: 'VI_2' });
  t.equal(lines.length, 5, 'the burst of 3, and other lines (other text, or other fields) not held back by it');
  t.same(lines.map((l) => JSON.parse(l).msg).slice(0, 3), Array(3).fill('instance VI_1: advert not sent: refused'));
  await new Promise((r) => setTimeout(r, 300));
  t.equal(lines.length, 6, 'one line when the window ended');
  const sum = JSON.parse(lines[5]!);
  t.equal(sum.level, 'warn');
  t.equal(sum.suppressed, 97);
  t.equal(sum.instance, 'VI_1', 'with the fields of the line');
  t.match(sum.msg, /^instance VI_1: advert not sent: refused \(repeated 97 more times in 0\.2 s, not logged\)$/);
  // A new window lets the line through again.
  log.warn('instance VI_1: advert not sent: refused', { instance: 'VI_1' });
  t.equal(lines.length, 7);
  const off: string[] = [];
  const all = createLogger({ json: true, write: (l) => off.push(l), rateLimit: false });
  for (let i = 0; i < 50; i++) all.warn('x');
  t.equal(off.length, 50, 'rateLimit: false keeps every line');
});
