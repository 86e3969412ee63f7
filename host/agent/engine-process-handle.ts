// An engine process as the supervisor sees it, and one that is not libuv's child: started by
// bin/vigil beside the supervisor, or by a warm start (host/agent/warm-start.ts). Apart from
// host/agent/supervisor.ts so that a warm start reaches its first advert without loading the
// supervisor (node:child_process, node:readline).
import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { shim, watchExit } from '../net/shim.ts';

// What the supervisor uses of an engine process: a ChildProcess, or an adopted one.
export interface EngineProcess {
  readonly pid?: number;
  readonly stdin: Writable | null;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  kill(sig?: NodeJS.Signals): boolean;
  on(event: 'exit', cb: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
  once(event: 'exit', cb: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
}


// An engine bin/vigil started beside this process (its Node starting while this one does, not
// after), or one a warm start spawned (host/agent/warm-start.ts): our child, with its stdin on
// `fd`, but not libuv's, so a pidfd reports its exit and reaps it (host/native/process.c).
export class AdoptedEngine extends EventEmitter implements EngineProcess {
  readonly pid: number;
  readonly stdin: Socket;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  constructor(pid: number, fd: number) {
    super();
    this.pid = pid;
    shim().setCloexec(fd);   // restarted engines and the checker must not hold this engine's pipe
    // First: it throws without a pidfd, and then no socket owns the fd yet.
    watchExit(pid, (code, signal) => {
      this.exitCode = code;
      this.signalCode = signal;
      this.stdin.destroy();
      this.emit('exit', code, signal);
    });
    this.stdin = new Socket({ fd, readable: false, writable: true });
  }
  kill(sig: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.exitCode !== null || this.signalCode !== null) return false;
    // Not yet reaped (the pidfd callback does that), so the pid cannot have been reused.
    try { process.kill(this.pid, sig); return true; } catch { return false; }
  }
}

/**
 * The engine bin/vigil started for this `vigil run` (VIGIL_ENGINE_PID, its stdin on
 * VIGIL_ENGINE_FD), or undefined. The variables are consumed: no later child sees them.
 */
export function adoptEngine(): EngineProcess | undefined {
  const pid = Number(process.env.VIGIL_ENGINE_PID), fd = Number(process.env.VIGIL_ENGINE_FD);
  delete process.env.VIGIL_ENGINE_PID;
  delete process.env.VIGIL_ENGINE_FD;
  if (!(pid > 0 && fd > 2)) return undefined;
  try {
    return new AdoptedEngine(pid, fd);
  } catch {
    // No pidfd (a kernel before 5.4): that engine ends at EOF, a spawned one replaces it.
    try { shim().close(fd); } catch { /* gone */ }
    return undefined;
  }
}
