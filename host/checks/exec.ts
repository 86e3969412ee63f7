// exec checks (keepalived's vrrp_script and MISC_CHECK): run a command, exit 0 is up. Without a
// shell unless the check says so, as the check's user (nobody unless written; root only when
// written), in a process group of its own that is killed whole at the timeout, so a hanging
// script and everything it started go together. Its exit code and the first line it printed
// are kept for /status: keepalived's track scripts fail silently, and users complain of that.
// Runs in the checker process, never in the engine.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { scriptProblem } from '../config/security.ts';
import { envp, K, shim, watchExit, type Shim } from '../net/shim.ts';
import type { CheckSpec } from '../config/types.ts';
import { CHECK_CODES as E, CheckError } from './errors.ts';

export interface ExecDetail {
  exitCode: number | null;    // null: killed by a signal (the timeout's, or another)
  output: string;             // the first line it printed (stdout, else stderr), 200 characters at most
  weight?: number;            // dynamic (misc_dynamic): exit 2..255 sets the real server's weight to exit - 2
}

const OUTPUT_MAX = 200;
const READ_MAX = 64 * 1024;   // read and dropped beyond the first line, so the command never blocks on a full pipe
// What the command sees: a known PATH, no secrets of the agent's environment.
const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' };

interface Ids { uid: number; gid: number; home: string }
const users = new Map<string, Ids | string>();

// /etc/passwd, not getpwnam: the checker has no libc binding, and a name service that blocks
// would stall every check. Read once per user.
export function userIds(user: string): Ids | string {
  const hit = users.get(user);
  if (hit !== undefined) return hit;
  let r: Ids | string = `user ${user} does not exist (no line in /etc/passwd)`;
  if (/^\d+$/.test(user)) r = { uid: Number(user), gid: Number(user), home: '/' };
  else {
    try {
      for (const l of readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const f = l.split(':');
        if (f[0] === user && f.length >= 7) { r = { uid: Number(f[2]), gid: Number(f[3]), home: f[5] || '/' }; break; }
      }
    } catch (err) { r = `cannot read /etc/passwd: ${(err as NodeJS.ErrnoException).code}`; }
  }
  users.set(user, r);
  return r;
}

// Why the program may not run as root (host/config/security.ts: the file and every directory
// above it root's and not writable by others). `vigil check` refuses such a config; this is
// for a file changed since the config was read.
const rootProblem = (path: string) => scriptProblem(path);

export function execProbe(c: CheckSpec, signal: AbortSignal): Promise<ExecDetail> {
  const x = c.exec!;
  const ids = userIds(x.user);
  if (typeof ids === 'string') return Promise.reject(new CheckError(E.SPAWN, ids));
  const argv = x.shell ? ['/bin/sh', '-c', x.command[0]] : x.command;
  if (ids.uid === 0) {
    const why = rootProblem(argv[0]);
    if (why) return Promise.reject(new CheckError(E.SPAWN, `not run as root: ${why}`));
  }
  const s = shimOrNot();
  if (s && process.getuid?.() === 0) return viaShim(s, c, argv, ids, signal);
  return viaNode(c, argv, ids, signal);
}

// posix_spawn through the shim: the child shares the checker's memory until its exec, where
// node:child_process forks it (its page tables copied, per run): 1.05 ms a run against 3-8 ms
// measured (bench/notify.ts's comparison, here for /bin/true). Another user than root through
// setpriv, as the notify hooks. stdout and stderr on one pipe: the first line of either.
let loaded: Shim | null | undefined;
function shimOrNot(): Shim | null {
  if (loaded === undefined) { try { loaded = shim(); } catch { loaded = null; } }
  return loaded;
}
const SETPRIV = '/usr/bin/setpriv';

function viaShim(s: Shim, c: CheckSpec, argv: string[], ids: Ids, signal: AbortSignal): Promise<ExecDetail> {
  return new Promise((resolve, reject) => {
    const full = ids.uid === 0 ? argv : [SETPRIV, `--reuid=${ids.uid}`, `--regid=${ids.gid}`, '--init-groups', '--', ...argv];
    const env = envp({ ...ENV, HOME: ids.home, VIGIL_CHECK: c.name });
    let pid: number, fd: number;
    const [r, w] = s.pipe(1) as [number, number];
    try {
      pid = s.spawn(full, env, Int32Array.of(
        K('SPAWN_OPEN'), 0, K('O_RDONLY'), 0,
        K('SPAWN_DUP2'), w, 1, 0,
        K('SPAWN_DUP2'), w, 2, 0,
        K('SPAWN_CLOSEFROM'), 3, 0, 0,
      ), ['/dev/null'], K('POSIX_SPAWN_SETPGROUP'));
      fd = r;
    } catch (err) {
      s.close(r);
      reject(new CheckError(E.SPAWN, `cannot run ${argv[0]}: ${(err as Error).message}`));
      return;
    } finally {
      s.close(w);
    }
    let out = '', open = true, done = false;
    const buf = new Uint8Array(1024);
    const drain = (): number => {
      for (;;) {
        const n = s.read(fd, buf);
        if (n <= 0) return n;
        if (out.length < 1024) out += Buffer.from(buf.buffer, 0, n).toString('utf8');
      }
    };
    const close = () => { if (open) { open = false; try { s.pollStop(fd); } catch { /* not polled */ } s.close(fd); } };
    const first = () => out.split('\n').map((l) => l.trimEnd()).find((l) => l.trim())?.trim().slice(0, OUTPUT_MAX) ?? '';
    const finish = (err: (Error & { detail?: ExecDetail }) | null, d: ExecDetail) => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      if (err) { err.detail = d; reject(err); } else resolve(d);
    };
    const onAbort = () => {
      try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
      if (open) drain();
      close();
      finish(new CheckError(E.TIMEOUT, `timed out after ${c.timeoutUs / 1e6}s: killed with its process group${first() ? ` (it printed ${JSON.stringify(first())})` : ''}`), { exitCode: null, output: first() });
    };
    signal.addEventListener('abort', onAbort, { once: true });
    s.pollStart(fd, K('UV_READABLE'), () => { if (drain() === 0) close(); });
    watchExit(pid, (code, sig) => {
      // What it wrote before it ended; a process it left in the background may hold the pipe.
      if (open) drain();
      close();
      const d: ExecDetail = { exitCode: code, output: first() };
      if (code === 0) return finish(null, d);
      if (code !== null && code >= 2 && c.exec!.dynamic) return finish(null, { ...d, weight: code - 2 });
      if (code === null) return finish(new CheckError(E.EXIT, `killed by ${sig}${d.output ? `: ${d.output}` : ''}`), d);
      if (code === 127 && ids.uid !== 0 && !out) return finish(new CheckError(E.SPAWN, `cannot run ${argv[0]} as ${c.exec!.user}`), d);
      finish(new CheckError(E.EXIT, `exit ${code}${d.output ? `: ${d.output}` : ''}`), d);
    });
  });
}

function viaNode(c: CheckSpec, argv: string[], ids: Ids, signal: AbortSignal): Promise<ExecDetail> {
  const x = c.exec!;
  return new Promise((resolve, reject) => {
    let first = '', pending = '', got = 0, done = false;
    const child = spawn(argv[0], argv.slice(1), {
      uid: ids.uid, gid: ids.gid, cwd: '/', detached: true,
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...ENV, HOME: ids.home, VIGIL_CHECK: c.name },
    });
    const line = (chunk: Buffer) => {
      got += chunk.length;
      if (first || got > READ_MAX) return;
      pending += chunk.toString('utf8', 0, Math.min(chunk.length, 1024));
      const nl = pending.indexOf('\n');
      if (nl >= 0) first = pending.slice(0, nl).trimEnd().slice(0, OUTPUT_MAX) || ' ';
      else if (pending.length >= OUTPUT_MAX) first = pending.slice(0, OUTPUT_MAX);
    };
    // stdout's first line wins over stderr's.
    let errFirst = '';
    child.stdout!.on('data', line);
    child.stderr!.on('data', (b: Buffer) => { if (!errFirst) errFirst = b.toString('utf8', 0, 1024).split('\n')[0].trimEnd().slice(0, OUTPUT_MAX); });
    const output = () => (first || pending.split('\n')[0].trimEnd().slice(0, OUTPUT_MAX) || errFirst).trim();
    const killGroup = () => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone already */ } };
    const onAbort = () => {
      // The whole group: the script's children (a `sleep` it waits on) with it.
      killGroup();
      finish(new CheckError(E.TIMEOUT, `timed out after ${c.timeoutUs / 1e6}s: killed with its process group${output() ? ` (it printed ${JSON.stringify(output())})` : ''}`), { exitCode: null, output: output() });
    };
    const finish = (err: (Error & { detail?: ExecDetail }) | null, d: ExecDetail) => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      child.stdout!.destroy(); child.stderr!.destroy();
      if (err) { err.detail = d; reject(err); } else resolve(d);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (err: NodeJS.ErrnoException) => finish(new CheckError(E.SPAWN, `cannot run ${argv[0]}: ${err.code ?? err.message}`), { exitCode: null, output: '' }));
    // The result once its output is read: at 'close', or shortly after 'exit' when something it
    // started in the background still holds the pipe.
    let exited: [number | null, NodeJS.Signals | null] | undefined;
    const settle = () => {
      const [code, sig] = exited!;
      const d: ExecDetail = { exitCode: code, output: output() };
      if (code === 0) return finish(null, d);
      if (code !== null && code >= 2 && x.dynamic) return finish(null, { ...d, weight: code - 2 });
      if (code === null) return finish(new CheckError(E.EXIT, `killed by ${sig}${d.output ? `: ${d.output}` : ''}`), d);
      finish(new CheckError(E.EXIT, `exit ${code}${d.output ? `: ${d.output}` : ''}`), d);
    };
    child.on('exit', (code, sig) => { exited = [code, sig]; setTimeout(() => { if (!done) settle(); }, 50).unref(); });
    child.on('close', () => { if (exited && !done) settle(); });
  });
}
