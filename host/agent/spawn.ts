// How an engine process is started (`vigil run` at start, the supervisor at each restart).
import { spawn, type ChildProcess } from 'node:child_process';

// The engine's stdin is a pipe from the supervisor: its config (host/agent/spec.ts), the
// checker's reports, and EOF when the supervisor is gone.
export function spawnEngine(command: string, args: string[]): ChildProcess {
  return spawn(command, args, {
    stdio: ['pipe', 'inherit', 'inherit'],
    env: { ...process.env, VIGIL_SUPERVISED: '1' },
  });
}
