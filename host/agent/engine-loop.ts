// The engine's one OS timer (a timerfd at the core's earliest deadline, microsecond resolution)
// and what it does between events: minor collections at times of its choosing, and the memory
// trim after a start. The engine's state machine arms it (Commands.armTimer).
import { shim, K } from '../net/shim.ts';
import type { Logger } from './log.ts';
import { MemoryLockError, MemoryTrim } from './trim.ts';

// Every 256 events (2.6 s at 100 adverts/s: ~0.2 MB allocated, a 2 MB semi-space), when the
// next deadline is at least 4 ms away.
const GC_EVERY = 256;
const GC_ROOM_US = 4000;
// How long after a start (or a reload) the engine gives back its start's memory: past the first
// transitions, gratuitous ARPs and the compile cache's flush.
const TRIM_AFTER_US = 5_000_000;

// CLOCK_MONOTONIC (us) as the latest poll callback of this process started, set by the shim
// (clockCell): a fast callback gets no arguments. Over an ArrayBuffer of its own, so its bytes
// never move.
export const wakeClock = new Float64Array(new ArrayBuffer(8));
let clockRegistered = false;

export class EngineLoop {
  private fd = -1;
  private readonly log: Logger;
  private readonly now: () => number;
  // `now` is CLOCK_MONOTONIC (the shim's clock): the timer is armed at the deadline itself, with
  // no clock read, and not re-armed for the deadline it already has. Else (a test's clock) after
  // the wait, as measured on `now`.
  private readonly absolute: boolean;
  private armed = NaN;
  constructor(o: { log: Logger; now: () => number; absolute: boolean; onTimer: () => number }) {
    this.log = o.log;
    this.now = o.now;
    this.absolute = o.absolute;
    if (!clockRegistered) { shim().clockCell(wakeClock); clockRegistered = true; }
    this.fd = shim().timerCreate();
    // A plain call per expiry (host/native/poll.c call_fast): onTimer says when it queued work.
    shim().pollStartFast(this.fd, K('UV_READABLE'), o.onTimer);
  }

  get open(): boolean { return this.fd >= 0; }
  close(): void { if (this.fd >= 0) { shim().close(this.fd); this.fd = -1; } }

  /**
   * The timer at `deadline`; then, with the next deadline far enough away, a minor collection
   * every GC_EVERY events, so the young generation never fills up at a moment of its own (a
   * scavenge forced by an allocation took 2-4 ms here, one in every ~15 s at 100 adverts/s:
   * an advert that late), or a step of the memory trim.
   */
  /** True when it did more than arm (a collection, a trim step: they may log). */
  arm(deadline: number, now = this.now()): boolean {
    if (this.fd < 0) return false;
    const wait = deadline === Infinity ? Infinity : deadline - now;
    if (!this.absolute) shim().timerSet(this.fd, wait);
    else if (deadline !== this.armed || deadline <= now) {
      // A deadline met re-arms at once: the fired expiry must be consumed (level-triggered poll).
      shim().timerAt(this.fd, deadline);
      this.armed = deadline;
    }
    if (++this.sinceGc >= GC_EVERY && wait > GC_ROOM_US) {
      this.sinceGc = 0;
      // Made at the first collection, not at start: a new V8 context (~3 ms) is not for the
      // path to the first advert.
      this.minorGc ??= minorGcFunction() ?? null;
      this.minorGc?.({ type: 'minor' });
      return true;
    } else if (this.trimAt && wait > GC_ROOM_US && this.now() >= this.trimAt) {
      this.trimStep();
      return true;
    }
    return false;
  }
  private sinceGc = 0;
  private minorGc: ((o: { type: 'minor' }) => void) | null | undefined;

  /** After a start or a reload: the memory only that needed goes back, in steps, a while later. */
  trimLater(): void {
    this.trimAt = this.now() + TRIM_AFTER_US;
    this.trim = undefined;
  }

  // A step (~1 ms) at a time between events (host/agent/trim.ts): at 100 adverts/s, RSS
  // 57 -> ~28 MB. trimAt 0: nothing pending.
  private trimAt = 0;
  private trim: MemoryTrim | undefined;
  /** Lock the code once a trim is done (set when realtime is on). */
  lockMemory = false;
  private codeLocked = false;
  private lockWarned = false;
  private trimStep(): void {
    try {
      this.trim ??= new MemoryTrim(shim(), { lock: this.lockMemory, unlockFirst: this.codeLocked });
      const more = this.trim.step();
      // Set from the first lock on: a pass a reload cuts short has locked some already.
      if (this.trim.lockedBytes > 0) this.codeLocked = true;
      if (more) return;
      this.log.debug(`memory: ${(this.trim.droppedKb / 1024).toFixed(1)} MB of file pages given back`);
      if (this.trim.lockedBytes) this.log.debug(`memory: the code's ${(this.trim.lockedBytes / 1048576).toFixed(0)} MB of file mappings locked on fault`);
    } catch (err) {
      if (err instanceof MemoryLockError) {
        this.codeLocked = false;
        if (!this.lockWarned) this.log.warn(err.message);
        this.lockWarned = true;
      } else {
        // A shim built before these ops, say: the pages stay, nothing else changes.
        this.log.debug(`memory trim stopped: ${(err as Error).message}`);
      }
    }
    this.trimAt = 0;
    this.trim = undefined;
  }
}

// V8's gc(), for minor collections at times of our choosing: the global when this process was
// started with --expose-gc (tests may), else one from a context made after setting the flag.
// The engine's own command line leaves it out (ENGINE_V8_FLAGS, host/agent/engine-main.ts: why).
function minorGcFunction(): ((o: { type: 'minor' }) => void) | undefined {
  const g = (globalThis as { gc?: (o: { type: 'minor' }) => void }).gc;
  if (g) return g;
  try {
    process.getBuiltinModule('node:v8').setFlagsFromString('--expose-gc');
    return process.getBuiltinModule('node:vm').runInNewContext('gc') as (o: { type: 'minor' }) => void;
  } catch {
    return undefined;
  }
}
