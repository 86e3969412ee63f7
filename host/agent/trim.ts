// Giving back what only the start needed, once the engine runs: malloc's free pages, then the
// node binary's file pages the running engine does not touch (dropCleanPages, in steps between
// adverts), then, with real-time on, the file mappings locked on fault. Why and the figures:
// docs/ARCHITECTURE.md "Timing choices" (the memory trim).
// process.getBuiltinModule, not import: see host/core/addr.ts.
const { readFileSync } = process.getBuiltinModule('node:fs');
import type { Shim } from '../net/shim.ts';
import { dropCleanPages } from '../net/memory.ts';
import { VigilError } from '../errors.ts';

// One dropCleanPages call covers at most this much address space.
const CHUNK = 2 * 1024 * 1024;

/**
 * The readable, unwritable file mappings of /proc/PID/maps text, as [address, length] chunks of
 * at most CHUNK bytes. Anonymous and special mappings ([vdso], [stack]: inode 0) are left out;
 * a chunk that holds a private page (RELRO after relocation) is refused by dropCleanPages itself.
 */
export function fileChunks(maps: string, chunk = CHUNK): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const line of maps.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) r-[x-][ps] [0-9a-f]+ \S+ (\d+)/.exec(line);
    if (!m || m[3] === '0') continue;
    const end = parseInt(m[2]!, 16);
    for (let a = parseInt(m[1]!, 16); a < end; a += chunk) out.push([a, Math.min(chunk, end - a)]);
  }
  return out;
}

/**
 * The file mappings of /proc/PID/maps text, whole, as [address, length]: a path under /, not a
 * device (/dev/) or a memfd (V8 may hold its own memory in one).
 */
export function fileMappings(maps: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const line of maps.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) r[w-][x-][ps] [0-9a-f]+ \S+ (\d+)\s+(\/\S*)/.exec(line);
    if (!m || m[3] === '0' || /^\/(dev|memfd:)/.test(m[4]!)) continue;
    const start = parseInt(m[1]!, 16);
    out.push([start, parseInt(m[2]!, 16) - start]);
  }
  return out;
}

/** Locking refused (no CAP_IPC_LOCK, RLIMIT_MEMLOCK too low): nothing stays locked. */
export class MemoryLockError extends VigilError {
  constructor(cause: Error) {
    super('VIGIL_EMEMLOCK', `locking the engine's code in memory refused (${cause.message}): it may be evicted under memory pressure; ` +
      'grant CAP_IPC_LOCK (systemd AmbientCapabilities=CAP_IPC_LOCK) or raise RLIMIT_MEMLOCK (LimitMEMLOCK=infinity)', { cause });
  }
}

type TrimShim = Pick<Shim, 'mallocTrim' | 'madvise' | 'mlock2' | 'munlockall' | 'constants'>;

/**
 * For the supervisor and the checker: what only the start needed goes back, `afterMs` after it,
 * in ~1 ms steps every 20 ms (no lock: they are not the engine). Counted as on a box of their own
 * (shared pages once), the agent with 10 HTTP checks went 111 -> 90 MB PSS with both doing it.
 */
export function trimAfterStart(shim: TrimShim, afterMs = 5000): void {
  const trim = new MemoryTrim(shim);
  const step = () => { try { if (trim.step(1)) setTimeout(step, 20).unref(); } catch { /* left as it is */ } };
  setTimeout(step, afterMs).unref();
}

export class MemoryTrim {
  private chunks: Array<[number, number]> | undefined;
  private next = 0;
  droppedKb = 0;
  /** With `lock`, once done: the bytes of address space locked (resident or not). */
  lockedBytes = 0;
  private readonly shim: TrimShim;
  private readonly maps: () => string;
  private readonly drop: (addr: number, len: number) => number;
  private readonly lock: boolean;
  private readonly unlockFirst: boolean;
  private toLock: Array<[number, number]> = [];
  private locked = 0;
  /** lock: lock the file mappings once dropped; unlockFirst: an earlier pass locked them; drop: tests'. */
  constructor(shim: TrimShim, o: { maps?: () => string; lock?: boolean; unlockFirst?: boolean; drop?: (addr: number, len: number) => number } = {}) {
    this.shim = shim;
    this.maps = o.maps ?? (() => readFileSync('/proc/self/maps', 'utf8'));
    this.drop = o.drop ?? ((addr, len) => dropCleanPages(shim, addr, len));
    this.lock = o.lock ?? false;
    this.unlockFirst = o.unlockFirst ?? false;
  }

  /**
   * One step, within about budgetMs: the first gives malloc's free pages back and lists the
   * mappings, each next one drops chunks, then (with `lock`) locks mappings, one mlock2 each
   * (up to ~1 ms for the node binary's text here; all 51 at once took 1.6-2.7 ms). False once
   * it is done. Throws MemoryLockError, with nothing left locked, when the kernel refuses.
   */
  step(budgetMs = 1): boolean {
    if (!this.chunks) {
      // A reload's pass: the last pass's locks go first, or its madvise would fail on them
      // (munlockall: ~1.3 ms here, so only when there are any).
      if (this.lock && this.unlockFirst) this.shim.munlockall();
      this.shim.mallocTrim();
      const maps = this.maps();
      this.chunks = fileChunks(maps);
      this.toLock = this.lock ? fileMappings(maps) : [];
      return this.chunks.length + this.toLock.length > 0;
    }
    // At least one drop or lock a step, more while the budget lasts.
    const until = performance.now() + budgetMs;
    let did = false;
    while (this.next < this.chunks.length) {
      if (did && performance.now() >= until) return true;
      const [addr, len] = this.chunks[this.next++]!;
      this.droppedKb += this.drop(addr, len);
      did = true;
    }
    while (this.locked < this.toLock.length) {
      if (did && performance.now() >= until) return true;
      const [addr, len] = this.toLock[this.locked++]!;
      try {
        this.shim.mlock2(addr, len, this.shim.constants.MLOCK_ONFAULT!);
      } catch (e) {
        this.lockedBytes = 0;
        try { this.shim.munlockall(); } catch { /* nothing was locked */ }
        throw new MemoryLockError(e as Error);
      }
      this.lockedBytes += len;
      did = true;
    }
    return false;
  }
}
