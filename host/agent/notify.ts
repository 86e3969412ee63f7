// Notify hooks: a script per state, run without blocking the event loop, with the new state in
// argv (keepalived's order: "INSTANCE" name state priority) and env, and a timeout after which
// it is killed, with every process it started (its process group). A hook that fails is
// logged; it never changes what VRRP does.
//
// Started through spawnHook (host/net/spawn.ts: posix_spawn: the child shares the engine's memory until
// its exec), not node:child_process, whose fork copies the engine's page tables with the main
// thread blocked: 5-19 ms measured here, which made the advert after every transition that
// runs a hook late. Its exit comes through a pidfd, its stderr through a pipe, both polled on
// the engine's loop. The engine runs SCHED_FIFO with SCHED_RESET_ON_FORK (host/net/realtime.ts):
// a hook runs as ordinary work.
import type { Logger } from './log.ts';
import { envp, K, shim, watchExit } from '../net/shim.ts';
import { spawnHook } from '../net/spawn.ts';
import { lookupUser } from '../config/security.ts';

export interface NotifyEvent {
  instance: string;
  state: string;
  previous: string;
  priority: number;
  reason: string;
}

const STDERR_KEPT = 2000;

/** `user`: the instance's notify.user, to run the hook as that local user instead of root. */
export function runNotify(script: string, e: NotifyEvent, timeoutUs: number, log: Logger, user?: string): Promise<number | null> {
  const env = {
    VIGIL_INSTANCE: e.instance, VIGIL_STATE: e.state, VIGIL_PREVIOUS_STATE: e.previous,
    VIGIL_PRIORITY: String(e.priority), VIGIL_REASON: e.reason,
  };
  return runHook('notify hook', [script, 'INSTANCE', e.instance, e.state.toUpperCase(), String(e.priority)], env, timeoutUs, log, { instance: e.instance, state: e.state }, user);
}

// A hook run as `user`: through util-linux's setpriv, which sets the real and effective ids and
// the user's groups, then execs the hook (the shim's spawn has no credentials of its own).
const SETPRIV = '/usr/bin/setpriv';
function asUser(argv: string[], user: string, env: NodeJS.ProcessEnv): string[] {
  const u = lookupUser(user);
  if (!u) throw new Error(`user ${JSON.stringify(user)} does not exist`);
  env.USER = env.LOGNAME = u.name;
  return [SETPRIV, `--reuid=${u.uid}`, `--regid=${u.gid}`, `--init-groups`, '--', ...argv];
}

/**
 * Any hook vigil runs (notify hooks, the load balancer's quorum hooks): argv[0] the script, env
 * added to this process's, killed with its process group after timeoutUs; as `user` if given.
 * Resolves with its exit code, or null when it could not start or was killed. `what` names it in
 * the log.
 */
export function runHook(what: string, argv: string[], extraEnv: Record<string, string>, timeoutUs: number, log: Logger, meta: Record<string, unknown>, user?: string): Promise<number | null> {
  const s = shim();
  const script = argv[0];
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv };
  return new Promise((resolve) => {
    let pid: number, errFd: number;
    try {
      [pid, errFd] = spawnHook(user ? asUser(argv, user, env) : argv, envp(env));
    } catch (err) {
      log.warn(`${what} ${script} could not start: ${(err as Error).message}`, meta);
      resolve(null);
      return;
    }
    let stderr = '';
    const buf = new Uint8Array(512);
    let errOpen = true;
    const closeErr = () => { if (errOpen) { errOpen = false; s.close(errFd); } };
    // What is there now; 0 at EOF (every holder of the pipe's write end has closed it).
    const drain = (): number => {
      for (;;) {
        const n = s.read(errFd, buf);
        if (n <= 0) return n;
        if (stderr.length < STDERR_KEPT) stderr += Buffer.from(buf.buffer, 0, n).toString();
      }
    };
    const timer = setTimeout(() => {
      log.warn(`${what} ${script} still running after ${timeoutUs / 1e6}s: killed`, meta);
      try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
    }, timeoutUs / 1000);
    try {
      watchExit(pid, (code, signal) => {
        clearTimeout(timer);
        // A process the hook left in the background may hold its stderr open: not waited for.
        if (errOpen) drain();
        closeErr();
        if (code !== 0) log.warn(`${what} ${script} exited ${code ?? signal}`, { ...meta, stderr: stderr.trim() || undefined });
        resolve(code);
      });
    } catch (err) {
      // No pidfd (a kernel before 5.3): the hook runs, unwatched; kill it rather than leave it.
      clearTimeout(timer);
      try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
      closeErr();
      log.warn(`${what} ${script} not watched (${(err as Error).message}): killed`, meta);
      resolve(null);
      return;
    }
    s.pollStart(errFd, K('UV_READABLE'), () => { if (drain() === 0) closeErr(); });
  });
}
