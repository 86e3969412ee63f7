// Notify hooks: a script per state, run without blocking the event loop, with the new state in
// argv (keepalived's order: "INSTANCE" name state priority) and env, and a timeout after which
// it is killed, with every process it started (its process group). A hook that fails is
// logged; it never changes what VRRP does.
//
// Started through the shim's spawnHook (posix_spawn: the child shares the engine's memory until
// its exec), not node:child_process, whose fork copies the engine's page tables with the main
// thread blocked: 5-19 ms measured here, which made the advert after every transition that
// runs a hook late. Its exit comes through a pidfd, its stderr through a pipe, both polled on
// the engine's loop. The engine runs SCHED_FIFO with SCHED_RESET_ON_FORK (host/net/realtime.ts):
// a hook runs as ordinary work.
import type { Logger } from './log.ts';
import { K, shim } from '../net/shim.ts';

export interface NotifyEvent {
  instance: string;
  state: string;
  previous: string;
  priority: number;
  reason: string;
}

const STDERR_KEPT = 2000;

export function runNotify(script: string, e: NotifyEvent, timeoutUs: number, log: Logger): Promise<number | null> {
  const s = shim();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    VIGIL_INSTANCE: e.instance, VIGIL_STATE: e.state, VIGIL_PREVIOUS_STATE: e.previous,
    VIGIL_PRIORITY: String(e.priority), VIGIL_REASON: e.reason,
  };
  const envp = Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
  const meta = { instance: e.instance, state: e.state };
  let pid: number, errFd: number, pidfd: number;
  try {
    [pid, errFd] = s.spawnHook([script, 'INSTANCE', e.instance, e.state.toUpperCase(), String(e.priority)], envp);
  } catch (err) {
    log.warn(`notify hook ${script} could not start: ${(err as Error).message}`, { instance: e.instance });
    return Promise.resolve(null);
  }
  try {
    pidfd = s.pidfdOpen(pid);
  } catch (err) {
    // No pidfd (a kernel before 5.3): the hook runs, unwatched; kill it rather than leave it.
    try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
    s.close(errFd);
    log.warn(`notify hook ${script} not watched (${(err as Error).message}): killed`, meta);
    return Promise.resolve(null);
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
  s.pollStart(errFd, K('UV_READABLE'), () => { if (drain() === 0) closeErr(); });

  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      log.warn(`notify hook ${script} still running after ${timeoutUs / 1e6}s: killed`, meta);
      try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
    }, timeoutUs / 1000);
    s.pollStart(pidfd, K('UV_READABLE'), () => {
      const st = s.pidfdWait(pidfd);
      if (st === null) return;
      s.close(pidfd);
      clearTimeout(timer);
      // A process the hook left in the background may hold its stderr open: not waited for.
      if (errOpen) drain();
      closeErr();
      if (st !== 0) {
        log.warn(`notify hook ${script} exited ${st > 0 ? st : signalName(-st)}`, { ...meta, stderr: stderr.trim() || undefined });
      }
      resolve(st >= 0 ? st : null);
    });
  });
}

function signalName(n: number): string {
  const names = process.getBuiltinModule('node:os').constants.signals as Record<string, number>;
  return Object.keys(names).find((k) => names[k] === n) ?? `signal ${n}`;
}
