// A helper process of the supervisor's (the load balancer): started on demand, restarted when
// it dies (backing off from 100 ms to 1 s, as the engine and checker are), stopped with SIGTERM.
import type { ChildProcess } from 'node:child_process';

const FIRST_RESTART_MS = 100;
const MAX_RESTART_MS = 1000;
const STABLE_MS = 10_000;

export class ChildSlot {
  private child: ChildProcess | undefined;
  private timer: NodeJS.Timeout | undefined;
  private backoff = FIRST_RESTART_MS;
  private startedAt = 0;
  private stopped = false;
  private startAfterExit = false;   // started again while the last one was still on its way out
  restarts = 0;

  private readonly what: string;
  private readonly spawnIt: () => ChildProcess | undefined;
  private readonly logError: (msg: string) => void;
  constructor(what: string, spawnIt: () => ChildProcess | undefined, logError: (msg: string) => void) {
    this.what = what;
    this.spawnIt = spawnIt;
    this.logError = logError;
  }

  start(): void {
    clearTimeout(this.timer);
    // Still stopping (a reload that removed its work, then one that brings it back): a new
    // one once this one has exited, since a signal now would reach a process that is ending.
    if (this.child && this.stopped) { this.startAfterExit = true; return; }
    this.stopped = false;
    if (this.child) return;
    const child = this.spawnIt();
    if (!child) return;
    this.child = child;
    this.startedAt = Date.now();
    child.on('exit', (code, signal) => {
      if (child !== this.child) return;
      this.child = undefined;
      if (this.startAfterExit) { this.startAfterExit = false; this.start(); return; }
      if (this.stopped) return;
      if (Date.now() - this.startedAt > STABLE_MS) this.backoff = FIRST_RESTART_MS;
      const wait = this.backoff;
      this.backoff = Math.min(MAX_RESTART_MS, this.backoff * 2);
      this.restarts++;
      this.logError(`${this.what} ${signal ? `killed by ${signal}` : `exited with status ${code}`}: restarting in ${wait} ms`);
      this.timer = setTimeout(() => this.start(), wait);
    });
  }

  /** A line to its stdin, if it runs. */
  write(line: string): void {
    const w = this.child?.stdin;
    if (w && w.writable) w.write(line + '\n');
  }

  /** False when it does not run, or is stopping. */
  signal(sig: NodeJS.Signals): boolean {
    if (this.stopped) return false;
    return this.child?.kill(sig) ?? false;
  }

  /** SIGTERM; resolves when it has exited, or after waitMs (then SIGKILL). */
  stop(waitMs = 0): Promise<void> {
    this.stopped = true;
    this.startAfterExit = false;
    clearTimeout(this.timer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    child.kill('SIGTERM');
    if (waitMs === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => { child.kill('SIGKILL'); resolve(); }, waitMs);
      child.once('exit', () => { clearTimeout(t); resolve(); });
    });
  }

  pid(): number | undefined { return this.child?.pid; }
}
