// `make demo`, the README's first command, run as a user would (bash demo/demo.sh after `make`):
// it runs through with every failure handled (the VIP moves to the next router each time and
// back on recovery), and leaves nothing behind: no vdemo-* namespace, no process, not when it
// ends and not when it is interrupted half way (Ctrl-C).
import t from 'tap';
import { spawn, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { skipReason } from '../net/netns.ts';

const skip = skipReason();
const DEMO = fileURLToPath(new URL('../../demo/demo.sh', import.meta.url));

const leftNamespaces = () => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith('vdemo-'));
// Processes the demo started run in its namespaces or name them on their command line.
const leftProcesses = () => {
  try { return execFileSync('pgrep', ['-af', 'vdemo-'], { encoding: 'utf8' }).split('\n').filter((l) => l && !l.includes('pgrep')); } catch { return []; }
};

function runDemo(onLine?: (l: string, kill: () => void) => void): Promise<{ code: number | null; out: string }> {
  const p = spawn('bash', [DEMO], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const timer = setTimeout(() => p.kill('SIGKILL'), 170_000);
  for (const s of [p.stdout!, p.stderr!]) s.on('data', (d: Buffer) => {
    out += d.toString();
    if (onLine) for (const l of d.toString().split('\n')) onLine(l, () => p.kill('SIGINT'));
  });
  return new Promise((r) => p.on('exit', (code, sig) => { clearTimeout(timer); r({ code: code ?? (sig ? 128 : null), out }); }));
}

t.test('the demo runs through: every failure moves the VIP, every recovery brings it back', { skip, timeout: 180_000 }, async (t) => {
  const { code, out } = await runDemo();
  t.equal(code, 0, 'exit 0');
  const summary = out.slice(out.lastIndexOf('Summary'));
  const rows: Array<[string, RegExp, string]> = [
    ["r1's link cut", /r1's link cut\s+(\S+)\s+[\d.]+ ms/, 'r2'],
    ["r1's link back", /r1's link back \(preempts\)\s+(\S+)\s+[\d.]+ ms/, 'r1'],
    ["r1's vigil restarted", /r1's vigil restarted \(preempts\)\s+(\S+)\s+[\d.]+ ms/, 'r1'],
  ];
  for (const [what, re, master] of rows) t.equal(re.exec(summary)?.[1], master, `${what}: ${master} is master`);
  t.match(out, /removing stale VIP 192\.0\.2\.100/, 'the restarted vigil removed the VIP a SIGKILL left');
  t.same(leftNamespaces(), [], 'no namespace left');
  t.same(leftProcesses(), [], 'no process left');
});

t.test('Ctrl-C half way: exit 130 and nothing left', { skip, timeout: 120_000 }, async (t) => {
  let sent = false;
  const { code, out } = await runDemo((l, kill) => {
    // Once the agents run and a master was found: namespaces, agents and captures all exist.
    if (!sent && /Failure 1/.test(l)) { sent = true; kill(); }
  });
  t.ok(sent, 'interrupted during the failures');
  t.equal(code, 130, `exit 130 (${out.split('\n').filter(Boolean).slice(-2).join(' | ')})`);
  t.same(leftNamespaces(), [], 'no namespace left');
  t.same(leftProcesses(), [], 'no process left');
});
