// Scripts run as root: refused when anyone but root (or the user a hook runs as) could change
// them, the file or a directory above it, symlinks resolved; `vigil check` and `vigil run` say
// where (file:line:col); security.allowUnsafeScripts turns the refusal into a warning at every
// start; notify.user runs hooks as a real unprivileged user (made here, removed at teardown).
import t from 'tap';
import { spawnSync, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scriptProblem, lookupUser } from '../../host/config/security.ts';
import { runNotify } from '../../host/agent/notify.ts';
import { createLogger } from '../../host/agent/log.ts';
import { VIGIL, lab, vigilConfig } from '../helpers/agents.ts';
import { skipReason } from '../net/netns.ts';

const root = process.getuid?.() === 0;
const USER = 'vigil-t18';

// A real unprivileged user for the file (useradd), removed at teardown.
function testUser(t: { teardown(fn: () => unknown): void }) {
  spawnSync('userdel', [USER], { stdio: 'ignore' });
  execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', USER], { stdio: 'pipe' });
  t.teardown(() => { spawnSync('userdel', [USER], { stdio: 'ignore' }); });
  return lookupUser(USER)!;
}

function tree(t: { teardown(fn: () => unknown): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-sec-'));
  chmodSync(dir, 0o755);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = (rel: string, mode = 0o755) => {
    const p = join(dir, rel);
    writeFileSync(p, '#!/bin/sh\nid -u > "$OUT"\n');
    chmodSync(p, mode);
    return p;
  };
  const sub = (rel: string, mode: number) => { const p = join(dir, rel); mkdirSync(p); chmodSync(p, mode); return p; };
  return { dir, file, sub };
}

t.test('scriptProblem: who could change the script', { skip: root ? false : 'needs root (files owned by root and by a test user)' }, async (t) => {
  const u = testUser(t);
  const x = tree(t);
  t.equal(scriptProblem(x.file('safe.sh')), undefined, 'root\'s, 0755, in root\'s directories under sticky /tmp');
  t.match(scriptProblem(x.file('open.sh', 0o777)), /open\.sh is writable by every user \(mode 0777\)/);
  const gw = x.file('group.sh', 0o775);
  chownSync(gw, 0, u.gid);
  t.match(scriptProblem(gw), new RegExp(`group\\.sh is writable by group ${u.gid} \\(mode 0775\\)`));
  const owned = x.file('owned.sh');
  chownSync(owned, u.uid, u.gid);
  t.match(scriptProblem(owned), new RegExp(`owned\\.sh is owned by uid ${u.uid}`));
  t.equal(scriptProblem(owned, u), undefined, 'its own user may own a hook that runs as that user');
  const wide = x.sub('wide', 0o777);
  const inWide = join(wide, 'hook.sh');
  writeFileSync(inWide, '#!/bin/sh\n'); chmodSync(inWide, 0o755);
  t.match(scriptProblem(inWide), /wide is writable by every user \(mode 0777\)/, 'a directory above it');
  // A symlink in a safe place to a script in an unsafe one: judged where it really is.
  const link = join(x.dir, 'link.sh');
  symlinkSync(inWide, link);
  t.match(scriptProblem(link), /wide is writable by every user/);
  // A symlink in an unsafe directory: whoever writes the directory repoints the link.
  const safeTarget = x.file('target.sh');
  const viaWide = join(wide, 'to-target.sh');
  symlinkSync(safeTarget, viaWide);
  t.match(scriptProblem(viaWide), /wide is writable by every user/);
  t.match(scriptProblem(join(wide, 'missing.sh')), /does not exist and .*wide is writable by every user.*anyone could create it/);
  t.equal(scriptProblem(join(x.dir, 'missing.sh')), undefined, 'missing, where only root could create it: it fails when run');
  t.match(scriptProblem('/tmp/vigil-no-such-hook.sh'), /does not exist and \/tmp is writable by every user/, 'sticky /tmp does not protect a name not yet taken');
  t.match(scriptProblem(x.dir), /is a directory/);
  const msg = scriptProblem(x.file('fix.sh', 0o777))!;
  t.match(msg, /chown root:root, chmod go-w/, 'names the fix');
  t.match(msg, /allowUnsafeScripts/, 'and the way to accept it');
});

const config = (hook: string, extra = '') => vigilConfig({ priority: 150, extra: `    notify: { master: ${hook} }${extra}` });

t.test('vigil check: refused at file:line:col, or a warning with allowUnsafeScripts', { skip: root ? false : 'needs root' }, async (t) => {
  const x = tree(t);
  const hook = x.file('open.sh', 0o777);
  const file = join(x.dir, 'vigil.yaml');
  writeFileSync(file, config(hook));
  const line = config(hook).split('\n').findIndex((l) => l.includes('notify:')) + 1;
  const col = config(hook).split('\n')[line - 1]!.indexOf(hook) + 1;
  const r = spawnSync(VIGIL, ['check', '-c', file], { encoding: 'utf8', timeout: 30_000 });
  t.equal(r.status, 2, 'refused');
  t.match(r.stderr, new RegExp(`^${file}:${line}:${col}: ${hook} is unsafe to run as root: ${hook} is writable by every user`, 'm'));
  writeFileSync(file, config(hook) + 'security: { allowUnsafeScripts: true }\n');
  const w = spawnSync(VIGIL, ['check', '-c', file], { encoding: 'utf8', timeout: 30_000 });
  t.equal(w.status, 0, 'accepted');
  t.match(w.stderr, new RegExp(`warning: ${file}:${line}:${col}: running anyway \\(security.allowUnsafeScripts\\): ${hook} is unsafe`));
  writeFileSync(file, config(x.file('safe.sh')));
  t.equal(spawnSync(VIGIL, ['check', '-c', file], { encoding: 'utf8', timeout: 30_000 }).status, 0, 'a safe hook passes');
  writeFileSync(file, config(x.file('u.sh')).replace('notify: {', 'notify: { user: no-such-user-t18,'));
  const nu = spawnSync(VIGIL, ['check', '-c', file], { encoding: 'utf8', timeout: 30_000 });
  t.match(nu.stderr, /notify\.user "no-such-user-t18" is not a local user/);
});

const netSkip = skipReason();
t.test('vigil run: refuses an unsafe hook at start; with allowUnsafeScripts, a warning at every start', { skip: netSkip ?? (root ? false : 'needs root') }, async (t) => {
  const l = lab(t, 'vsec-', ['a']);
  const x = tree(t);
  const hook = x.file('open.sh', 0o777);
  const refused = l.vigilFile(l.hosts[0]!, l.work.file('a.yaml', config(hook)));
  t.not(await refused.exited, 0, 'vigil run exits');
  t.ok(refused.lines.some((s) => s.includes(`${hook} is unsafe to run as root`) && s.includes('a.yaml:')), 'saying where and why');
  const warned = l.vigilFile(l.hosts[0]!, l.work.file('b.yaml', config(hook) + 'security: { allowUnsafeScripts: true }\n'));
  const w = await warned.waitLine(/running anyway \(security.allowUnsafeScripts\)/, 10_000);
  t.match(w, /"level":"warn"/);
  await warned.waitLine(/"to":"(master|backup)"/, 10_000);
  t.pass('and it runs');
});

t.test('notify.user: the hook runs as that user', { skip: root ? false : 'needs root' }, async (t) => {
  const u = testUser(t);
  const x = tree(t);
  const hook = x.file('whoami.sh');
  const out = join(x.dir, 'out');
  writeFileSync(out, ''); chownSync(out, u.uid, u.gid);
  process.env.OUT = out;
  t.teardown(() => { delete process.env.OUT; });
  const code = await runNotify(hook, { instance: 'VI_1', state: 'master', previous: 'backup', priority: 150, reason: 'master_down' },
    5e6, createLogger({ json: true, write: () => {} }), USER);
  t.equal(code, 0, 'ran');
  t.equal(readFileSync(out, 'utf8').trim(), String(u.uid), `as uid ${u.uid}, not root`);
  const asRoot = await runNotify(hook, { instance: 'VI_1', state: 'master', previous: 'backup', priority: 150, reason: 'master_down' },
    5e6, createLogger({ json: true, write: () => {} }));
  t.equal(asRoot, 0);
  t.equal(readFileSync(out, 'utf8').trim(), '0', 'without notify.user: as root');
  // The config takes the user and checks the script against it.
  const file = join(x.dir, 'vigil.yaml');
  const owned = x.file('owned.sh');
  chownSync(owned, u.uid, u.gid);
  writeFileSync(file, config(owned).replace('notify: {', `notify: { user: ${USER},`));
  const r = spawnSync(VIGIL, ['check', '-c', file, '--json'], { encoding: 'utf8', timeout: 30_000 });
  t.equal(r.status, 0, r.stderr);
  t.equal(JSON.parse(r.stdout).instances[0].notify.user, USER);
  writeFileSync(file, config(owned));
  t.equal(spawnSync(VIGIL, ['check', '-c', file], { encoding: 'utf8', timeout: 30_000 }).status, 2, 'the same script, run as root: refused');
});

t.test('notify.user in a running agent: its master hook runs as that user', { skip: netSkip ?? (root ? false : 'needs root') }, async (t) => {
  const u = testUser(t);
  const l = lab(t, 'vsecu-', ['a']);
  const x = tree(t);
  const hook = x.file('whoami.sh');
  const out = join(x.dir, 'out');
  writeFileSync(out, ''); chownSync(out, u.uid, u.gid);
  const file = l.work.file('u.yaml', config(hook).replace('notify: {', `notify: { user: ${USER},`));
  const p = l.vigilFile(l.hosts[0]!, file, { OUT: out });
  await p.waitLine(/"to":"master"/, 15_000);
  const t0 = performance.now();
  while (readFileSync(out, 'utf8').trim() === '' && performance.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
  t.equal(readFileSync(out, 'utf8').trim(), String(u.uid), `the hook ran as ${USER} (uid ${u.uid})`);
});
