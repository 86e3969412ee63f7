// How an engine process is started (`vigil run` at start, the supervisor at each restart).
import { spawn, type ChildProcess } from 'node:child_process';

// The engine's stdin is a pipe from the supervisor: its config (host/agent/spec.ts), the
// checker's reports, and EOF when the supervisor is gone. A restarted engine is told so: its
// config is already on the pipe, so it does not start on the accepted record
// (host/agent/accepted.ts), which only a first engine may start on before the parse.
export function spawnEngine(command: string, args: string[], restart = false): ChildProcess {
  return spawn(command, args, {
    stdio: ['pipe', 'inherit', 'inherit'],
    env: { ...process.env, VIGIL_SUPERVISED: '1', ...(restart ? { VIGIL_RESTART: '1' } : {}) },
  });
}
