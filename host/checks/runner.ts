// Runs every check at its interval with its timeout, feeds each result to the check's rise/fall
// state machine, and reports: at once when a check flips (or first settles), and otherwise the
// checks that ran a round since the last report (their last error and latency), once per `flushMs` (so 1,000 checks/s do
// not become 1,000 lines/s into the VRRP engine).
import type { CheckSpec, CheckType } from '../config/types.ts';
import { initialState, step, type CheckState } from './state.ts';
import type { CheckReport } from './protocol.ts';

export type Probe = (c: CheckSpec, signal: AbortSignal) => Promise<void>;

export interface RunnerOptions {
  report: (r: CheckReport) => void;
  probes?: Partial<Record<CheckType, Probe>>;   // tests inject their own
  flushMs?: number;
  onRound?: (name: string, ok: boolean, error: string | null) => void;
}

interface Running {
  spec: CheckSpec;
  state: CheckState;
  timer: NodeJS.Timeout | undefined;
  next: number;               // performance.now() of the next round
  error: string | null;
  latencyMs: number | null;
  rounds: number;
  failures: number;
  dirty: boolean;
}

async function builtin(type: CheckType): Promise<Probe> {
  switch (type) {
    case 'tcp': return (await import('./tcp.ts')).tcpProbe;
    case 'http': return (await import('./http.ts')).httpProbe;
    case 'dns': return (await import('./dns.ts')).dnsProbe;
    case 'icmp': return (await import('./icmp.ts')).icmpProbe;
  }
}

export class Runner {
  private readonly o: RunnerOptions;
  private readonly checks: Running[];
  private flushTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private probes: Partial<Record<CheckType, Probe>> = {};

  constructor(checks: CheckSpec[], o: RunnerOptions) {
    this.o = o;
    this.checks = checks.map((spec) => ({ spec, state: initialState(), timer: undefined, next: 0, error: null, latencyMs: null, rounds: 0, failures: 0, dirty: false }));
  }

  async start(): Promise<void> {
    for (const c of this.checks) {
      this.probes[c.spec.type] ??= this.o.probes?.[c.spec.type] ?? await builtin(c.spec.type);
    }
    // Spread the first rounds over a check's interval, so checks do not all fire together.
    const t0 = performance.now();
    this.checks.forEach((c, i) => {
      c.next = t0 + (c.spec.intervalUs / 1000) * (i / this.checks.length);
      this.schedule(c);
    });
    this.flushTimer = setInterval(() => this.flush(), this.o.flushMs ?? 1000);
    this.flushTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    for (const c of this.checks) clearTimeout(c.timer);
    clearInterval(this.flushTimer);
  }

  snapshot(): CheckReport[] { return this.checks.map((c) => this.report(c)); }

  private schedule(c: Running): void {
    if (this.stopped) return;
    c.timer = setTimeout(() => { void this.round(c); }, Math.max(0, c.next - performance.now()));
  }

  private async round(c: Running): Promise<void> {
    const intervalMs = c.spec.intervalUs / 1000;
    c.next += intervalMs;
    // A stalled process skips the rounds it missed rather than firing them in a burst.
    const now = performance.now();
    if (c.next < now) c.next += Math.ceil((now - c.next) / intervalMs) * intervalMs;
    const ac = new AbortController();
    const kill = setTimeout(() => ac.abort(), c.spec.timeoutUs / 1000);
    let error: string | null = null;
    const t0 = performance.now();
    try {
      await this.probes[c.spec.type]!(c.spec, ac.signal);
      if (ac.signal.aborted) error = 'timed out';
    } catch (err) {
      error = ac.signal.aborted && !(err as Error).message ? 'timed out' : (err as Error).message;
    }
    clearTimeout(kill);
    if (this.stopped) return;
    c.latencyMs = Math.round((performance.now() - t0) * 1000) / 1000;
    c.rounds++;
    if (error !== null) c.failures++;
    c.error = error;
    this.o.onRound?.(c.spec.name, error === null, error);
    const flip = step(c.state, error === null, c.spec.rise, c.spec.fall);
    if (flip) { c.dirty = false; this.o.report(this.report(c)); } else c.dirty = true;
    this.schedule(c);
  }

  private flush(): void {
    for (const c of this.checks) {
      if (!c.dirty) continue;
      c.dirty = false;
      this.o.report(this.report(c));
    }
  }

  private report(c: Running): CheckReport {
    return {
      check: c.spec.name, up: c.state.up, settled: c.state.settled, error: c.error, latencyMs: c.latencyMs,
      transitions: c.state.transitions, rounds: c.rounds, failures: c.failures,
    };
  }
}
