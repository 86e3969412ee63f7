// dist/vigil (make dist) serves the status page from its own asset (ui/index.html), with no
// file beside it: the page a checkout builds into build/ui/ travels inside the executable.
import t from 'tap';
import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { skipReason, nsExec } from '../net/netns.ts';
import { lab, vigilConfig, Proc } from '../helpers/agents.ts';
import { needTools } from '../helpers/tools.ts';

const DIST = join(import.meta.dirname, '..', '..', 'dist', 'vigil');
const skip = skipReason() ?? needTools('curl') ?? (existsSync(DIST) ? undefined : 'dist/vigil is not built: make dist');

t.test('dist/vigil serves the status page from inside itself', { skip }, async (t) => {
  const l = lab(t, 'vud-', ['a']);
  const [a] = l.hosts;
  const cfg = l.work.file('a.yaml', vigilConfig({ priority: 150, interval: '100ms' }));
  // Started from a directory with no build/ in reach: the page can only come from the asset.
  const p = new Proc(spawn('ip', ['netns', 'exec', a.ns, DIST, 'run', '-c', cfg, '--log-json'], { stdio: ['ignore', 'pipe', 'pipe'], cwd: l.work.dir }));
  l.procs.push(p);
  await p.waitLine(/status on http/, 10_000);
  const page = nsExec(a.ns, 'curl', '-sS', '-D', '-', 'http://127.0.0.1:9110/');
  t.match(page, /^HTTP\/1\.1 200/);
  t.match(page, /content-type: text\/html; charset=utf-8/i);
  t.match(page, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'sha256-/, 'the built page, with its CSP');
  t.ok(page.length < 100_000, `${page.length} bytes`);
});
