// How an engine process is started (`vigil run` at start, the supervisor at each restart).
import { spawn, type ChildProcess } from 'node:child_process';

// The engine's stdin is a pipe from the supervisor: its config (host/agent/spec.ts), the
// checker's reports, and EOF when the supervisor is gone. A restarted engine is told so: its
// config is already on the pipe, so it does not start on the accepted record
// (host/agent/accepted.ts), which only a first engine may start on before the parse.
// With `ready`, the engine also gets a pipe on fd 3 (VIGIL_READY_FD) on which it says when the
// supervisor may go on (engineReady).
export function spawnEngine(command: string, args: string[], restart = false, ready = false): ChildProcess {
  return spawn(command, args, {
    stdio: ['pipe', 'inherit', 'inherit', ready ? 'pipe' : 'ignore'],
    env: { ...process.env, VIGIL_SUPERVISED: '1', ...(restart ? { VIGIL_RESTART: '1' } : {}), ...(ready ? { VIGIL_READY_FD: '3' } : {}) },
  });
}

// Resolves when an engine spawned with `ready` has said so (it has started, or must wait for
// the config), has exited, or after ms.
export function engineReady(child: ChildProcess, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const pipe = child.stdio[3] as NodeJS.ReadableStream | null;
    const done = () => {
      clearTimeout(timer);
      child.off('exit', done);
      pipe?.off('data', done);
      pipe?.off('end', done);
      (pipe as { destroy?: () => void } | null)?.destroy?.();
      resolve();
    };
    const timer = setTimeout(done, ms);
    child.once('exit', done);
    if (!pipe) { done(); return; }
    pipe.once('data', done);
    pipe.once('end', done);
  });
}
