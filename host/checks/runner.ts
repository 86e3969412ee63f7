// Runs every check at its interval with its timeout, feeds each result to the check's rise/fall
// state machine, and reports: at once when a check flips (or first settles), and otherwise the
// checks that ran a round since the last report (their last error and latency), once per `flushMs` (so 1,000 checks/s do
// not become 1,000 lines/s into the VRRP engine).
//
// Scheduling: one timer for the whole runner, not one (or two) per round. Checks with the same
// interval and timeout form a group; their rounds start, and their deadlines fall, in the same
// cyclic order every interval, so a group is a ring with a cursor (the next to start) and a FIFO
// of rounds in flight (the next to time out). A wake starts every round due within
// COALESCE_MS: at 10,000 checks/s the event loop wakes about 1,000 times/s instead of once or
// twice per round, and each wake's requests go out (and their answers come back) together.
import type { CheckSpec, CheckType } from '../config/types.ts';
import { initialState, step, type CheckState } from './state.ts';
import type { CheckDetail, CheckReport } from './protocol.ts';
import { CHECK_CODES as E, CheckError, codeOf, type CheckCode } from './errors.ts';

export type Probe = (c: CheckSpec, signal: AbortSignal) => Promise<void | CheckDetail>;   // exec: its last run, for /status
// A probe rejects with a VigilError whose code says why (host/checks/errors.ts).
// A built-in probe's callback form, cheaper per round: no AbortSignal, no promise. It calls
// `done` once (null, or why the round failed and its code; possibly before it returns), and
// timeout() at the deadline makes it call `done` with its reason at once.
export type FastProbe = (c: CheckSpec, done: (error: string | null, code?: CheckCode) => void) => { timeout(): void } | null;

export interface RunnerOptions {
  report: (r: CheckReport) => void;
  probes?: Partial<Record<CheckType, Probe>>;   // tests inject their own
  flushMs?: number;
  onRound?: (name: string, ok: boolean, error: string | null, code: string | null) => void;
}

// Rounds due this close to a wake start with it (early by at most this much).
const COALESCE_MS = 1;
// The abort reason of every timed-out round: abort() without one builds a DOMException with a
// stack trace, per round, just when the process is already late.
const TIMED_OUT = new CheckError(E.TIMEOUT, 'timed out');

// A check as the runner schedules it (not the engine's running router).
interface ScheduledCheck {
  spec: CheckSpec;
  group: Group;
  state: CheckState;
  next: number;               // performance.now() of the next round
  // The round in flight: its number, start, deadline, and how to end it at the deadline.
  inFlight: boolean;
  seq: number;
  ac: AbortController | null;             // a Probe's
  handle: { timeout(): void } | null;     // a FastProbe's
  startedAt: number;
  deadline: number;
  error: string | null;
  code: string | null;        // error's VIGIL_E code
  detail: CheckDetail | null; // exec: the last exit code and first line of output
  latencyMs: number | null;
  rounds: number;
  failures: number;
  dirty: boolean;
}

interface Group {
  intervalMs: number;
  timeoutMs: number;
  ring: ScheduledCheck[];            // in order of their start within the interval
  cursor: number;             // ring[cursor] starts next
  flight: ScheduledCheck[];          // rounds started, in start (so deadline) order; finished ones are skipped
  head: number;               // flight[head] is the oldest possibly unfinished
}

async function builtin(type: CheckType): Promise<Probe> {
  switch (type) {
    case 'tcp': return (await import('./tcp.ts')).tcpProbe;
    case 'http': return (await import('./http.ts')).httpProbe;
    case 'dns': return (await import('./dns.ts')).dnsProbe;
    case 'icmp': return (await import('./icmp.ts')).icmpProbe;
    case 'exec': return (await import('./exec.ts')).execProbe;
    // Watched, not run in rounds: host/checks/watch.ts (the checker hands them there).
    case 'process': case 'file': throw new CheckError(E.FAILED, `${type} checks are watched, not run in rounds`);
    // The checker hands in the policy sandboxes' probe (host/policy/registry.ts).
    case 'policy': throw new CheckError(E.FAILED, 'policy checks need the policy registry');
  }
}

// The built-ins that have a FastProbe form too.
async function fastBuiltin(type: CheckType): Promise<FastProbe | undefined> {
  return type === 'http' ? (await import('./http.ts')).startHttp : undefined;
}

export class Runner {
  private readonly o: RunnerOptions;
  private readonly checks: ScheduledCheck[];
  private readonly groups: Group[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAt = Infinity;
  private stopped = false;
  private probes: Partial<Record<CheckType, Probe>> = {};
  private fast: Partial<Record<CheckType, FastProbe>> = {};

  constructor(checks: CheckSpec[], o: RunnerOptions) {
    this.o = o;
    const byKey = new Map<string, Group>();
    this.checks = checks.map((spec) => {
      const key = `${spec.intervalUs}/${spec.timeoutUs}`;
      let group = byKey.get(key);
      if (!group) {
        group = { intervalMs: spec.intervalUs / 1000, timeoutMs: spec.timeoutUs / 1000, ring: [], cursor: 0, flight: [], head: 0 };
        byKey.set(key, group);
        this.groups.push(group);
      }
      const c: ScheduledCheck = { spec, group, state: initialState(), next: 0, inFlight: false, seq: 0, ac: null, handle: null, startedAt: 0, deadline: 0, error: null, code: null, detail: null, latencyMs: null, rounds: 0, failures: 0, dirty: false };
      group.ring.push(c);
      return c;
    });
  }

  async start(): Promise<void> {
    for (const c of this.checks) {
      this.probes[c.spec.type] ??= this.o.probes?.[c.spec.type] ?? await builtin(c.spec.type);
      if (!this.o.probes?.[c.spec.type]) this.fast[c.spec.type] ??= await fastBuiltin(c.spec.type);
    }
    // Spread the first rounds over a check's interval, so checks do not all fire together.
    const t0 = performance.now();
    for (const g of this.groups) g.ring.forEach((c, i) => { c.next = t0 + g.intervalMs * (i / g.ring.length); });
    this.startDue();
    this.flushTimer = setInterval(() => this.flush(), this.o.flushMs ?? 1000);
    this.flushTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.wakeTimer);
    clearInterval(this.flushTimer);
    for (const c of this.checks) c.inFlight = false;   // rounds in flight end unreported
  }

  snapshot(): CheckReport[] { return this.checks.map((c) => this.report(c)); }

  private wake(): void {
    this.wakeTimer = undefined;
    this.wakeAt = Infinity;
    if (this.stopped) return;
    const now = performance.now();
    // Deadlines first. A probe rejects from its abort listener with its own reason ("timed out
    // waiting for the banner"); that lands as a microtask, so the fallback and the starts are
    // microtasks queued after it, and a check whose round just timed out can start its next.
    for (const g of this.groups) {
      while (g.head < g.flight.length) {
        const c = g.flight[g.head];
        if (c.inFlight) {
          if (c.deadline > now) break;
          if (c.handle) c.handle.timeout();
          else {
            const seq = c.seq;
            c.ac?.abort(TIMED_OUT);
            queueMicrotask(() => { if (c.inFlight && c.seq === seq) this.finish(c, 'timed out', E.TIMEOUT); });
          }
        }
        g.head++;
      }
      // Drop what is behind the head: all of it, or (when a round is always in flight, as at
      // 10,000 checks/s) the finished half, so the array does not grow with every round.
      if (g.head === g.flight.length) { g.flight.length = 0; g.head = 0; } else if (g.head >= 256 && g.head * 2 >= g.flight.length) { g.flight.splice(0, g.head); g.head = 0; }
    }
    queueMicrotask(() => this.startDue());
  }

  private startDue(): void {
    if (this.stopped) return;
    // Now, not the wake's time: ending the rounds that timed out may have taken a while.
    const now = performance.now();
    for (const g of this.groups) {
      for (let n = g.ring.length; n > 0; n--) {
        const c = g.ring[g.cursor];
        if (c.next > now + COALESCE_MS) break;
        g.cursor = (g.cursor + 1) % g.ring.length;
        c.next += g.intervalMs;
        // A stalled process skips the rounds it missed rather than firing them in a burst.
        if (c.next < now) c.next += Math.ceil((now - c.next) / g.intervalMs) * g.intervalMs;
        if (!c.inFlight) this.begin(c);
      }
    }
    this.arm();
  }

  // The timer at the earliest of: a group's next start, a round's deadline.
  private arm(): void {
    if (this.stopped) return;
    let at = Infinity;
    for (const g of this.groups) {
      at = Math.min(at, g.ring[g.cursor].next);
      while (g.head < g.flight.length && !g.flight[g.head].inFlight) g.head++;
      if (g.head < g.flight.length) at = Math.min(at, g.flight[g.head].deadline);
    }
    if (at >= this.wakeAt - 0.5) return;
    clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = setTimeout(() => this.wake(), Math.max(0, at - performance.now()));
  }

  private begin(c: ScheduledCheck): void {
    const now = performance.now();
    const seq = ++c.seq;
    c.inFlight = true;
    c.startedAt = now;
    c.deadline = now + c.group.timeoutMs;
    c.group.flight.push(c);
    const fast = this.fast[c.spec.type];
    if (fast) {
      c.ac = null;
      c.handle = null;
      const h = fast(c.spec, (error, code) => { if (c.inFlight && c.seq === seq) this.finish(c, error, code ?? E.FAILED); });
      if (c.inFlight && c.seq === seq) c.handle = h;
      return;
    }
    const ac = new AbortController();
    c.ac = ac;
    c.handle = null;
    this.probes[c.spec.type]!(c.spec, ac.signal).then(
      (d) => { if (c.inFlight && c.seq === seq) { c.detail = (d as CheckDetail | undefined) ?? null; this.finish(c, ac.signal.aborted ? 'timed out' : null, E.TIMEOUT); } },
      (err: Error & { detail?: CheckDetail }) => {
        if (!c.inFlight || c.seq !== seq) return;
        c.detail = err.detail ?? null;
        if (ac.signal.aborted && !err.message) this.finish(c, 'timed out', E.TIMEOUT);
        else this.finish(c, err.message, codeOf(err));
      },
    );
  }

  // `code` is error's VIGIL_E code (ignored on a success).
  private finish(c: ScheduledCheck, error: string | null, code: string): void {
    c.inFlight = false;
    c.ac = null;
    c.handle = null;
    c.latencyMs = Math.round((performance.now() - c.startedAt) * 1000) / 1000;
    c.rounds++;
    if (error !== null) c.failures++;
    c.error = error;
    c.code = error === null ? null : code;
    this.o.onRound?.(c.spec.name, error === null, error, c.code);
    const flip = step(c.state, error === null, c.spec.rise, c.spec.fall);
    if (flip) { c.dirty = false; this.o.report(this.report(c)); } else c.dirty = true;
  }

  private flush(): void {
    for (const c of this.checks) {
      if (!c.dirty) continue;
      c.dirty = false;
      this.o.report(this.report(c));
    }
  }

  private report(c: ScheduledCheck): CheckReport {
    return {
      check: c.spec.name, up: c.state.up, settled: c.state.settled, error: c.error, code: c.code, latencyMs: c.latencyMs,
      transitions: c.state.transitions, rounds: c.rounds, failures: c.failures,
      run: { ok: c.state.okRun, fail: c.state.failRun, rise: c.spec.rise, fall: c.spec.fall },
      ...(c.detail ? { detail: c.detail } : {}),
    };
  }
}
