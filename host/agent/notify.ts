// Notify hooks: a script per state, run without blocking the event loop, with the new state in
// argv (keepalived's order: "INSTANCE" name state priority) and env, and a timeout after which
// it is killed, with every process it started (its process group). A hook that fails is
// logged; it never changes what VRRP does.
// node:child_process (with dgram and more: ~1-3 MB of RSS) only once a hook runs: most engines never run one.
import type { Logger } from './log.ts';

export interface NotifyEvent {
  instance: string;
  state: string;
  previous: string;
  priority: number;
  reason: string;
}

export function runNotify(script: string, e: NotifyEvent, timeoutUs: number, log: Logger): Promise<number | null> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (code: number | null) => { if (!done) { done = true; clearTimeout(timer); resolve(code); } };
    let child;
    try {
      child = process.getBuiltinModule('node:child_process').spawn(script, ['INSTANCE', e.instance, e.state.toUpperCase(), String(e.priority)], {
        stdio: ['ignore', 'ignore', 'pipe'],
        // Its own process group, so that the timeout kills what the hook started too (a shell
        // script's sleep, curl, ...), not only the hook's own process.
        detached: true,
        env: {
          ...process.env,
          VIGIL_INSTANCE: e.instance, VIGIL_STATE: e.state, VIGIL_PREVIOUS_STATE: e.previous,
          VIGIL_PRIORITY: String(e.priority), VIGIL_REASON: e.reason,
        },
      });
    } catch (err) {
      log.warn(`notify hook ${script} could not start: ${(err as Error).message}`, { instance: e.instance });
      resolve(null);
      return;
    }
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => { if (stderr.length < 2000) stderr += b.toString(); });
    const timer = setTimeout(() => {
      log.warn(`notify hook ${script} still running after ${timeoutUs / 1e6}s: killed`, { instance: e.instance, state: e.state });
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { child.kill('SIGKILL'); }
    }, timeoutUs / 1000);
    child.on('error', (err) => {
      log.warn(`notify hook ${script} failed to run: ${err.message}`, { instance: e.instance, state: e.state });
      finish(null);
    });
    child.on('exit', (code, signal) => {
      if (code !== 0) {
        log.warn(`notify hook ${script} exited ${code ?? signal}`, { instance: e.instance, state: e.state, stderr: stderr.trim() || undefined });
      }
      finish(code);
    });
  });
}
