// The status page's arithmetic, apart from the DOM (test/ui/model.test.ts): the shape of /status
// as the page reads it, availability as nines and a month's error budget, rates from counters,
// and the client-side history (latency sparklines) that /status does not keep.

export interface Transition { at: string; from: string; to: string; reason: string; why: string }
export interface Instance {
  name: string; interface: string; vrid: number; state: string; priority: number; effectivePriority: number;
  masterAddress: string | null; virtualAddresses: string[]; transitions: Transition[];
  availability: { upSeconds: number; downSeconds: number; failures: number; repairs: number;
    mttfSeconds: number | null; mttrSeconds: number | null; availability: number | null };
}
export interface Check {
  name: string; type: string; target: string; state: string; up: boolean; error: string | null;
  latencyMs: number | null; rounds: number; failures: number; since: string | null; trackedBy: string[];
  code?: string | null;       // the checker's code for the error, when it gives one
  run?: { ok: number; fail: number; rise: number; fall: number } | null;   // rise/fall progress
}
export interface RealServer {
  address: string; port: number | null; weight: number; effectiveWeight?: number; up: boolean; since: string | null;
  check: string | null; activeConnections?: number; packets?: number; bytes?: number;
}
export interface VirtualServer {
  name: string; address: string | null; port: number | null; fwmark: number | null; protocol: string;
  scheduler: string; forwarding: string;
  quorum: { up: boolean; needed: number; healthy: number; since: string | null; sorry: boolean };
  realServers: RealServer[];
}
export interface Status {
  pid: number; startedAt: string; availabilityTarget?: number | null;
  instances: Instance[]; checks: Check[]; virtualServers?: VirtualServer[];
}

/** "99.9973 %" with as many decimals as it takes to show the nines, at most 6. */
export function percent(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return '–';
  if (ratio >= 1) return '100 %';
  const nines = Math.floor(-Math.log10(1 - ratio) + 1e-9);   // 1 - 0.999 is not 0.001 in floating point
  const decimals = Math.min(6, Math.max(2, nines));
  // Never round up to 100 %: 99.99996 shows as 99.9999, not 100.0000.
  const f = 10 ** decimals;
  return `${(Math.floor(ratio * 100 * f) / f).toFixed(decimals)} %`;
}

/** Availability as nines: 0.999 -> 3.0; 1 (no downtime seen) -> Infinity. */
export function nines(ratio: number | null): number | null {
  if (ratio === null || !Number.isFinite(ratio)) return null;
  if (ratio >= 1) return Infinity;
  return -Math.log10(1 - ratio);
}

export function fmtNines(n: number | null): string {
  if (n === null) return '–';
  if (n === Infinity) return '∞ nines';
  return `${(Math.floor(n * 10) / 10).toFixed(1)} nines`;
}

/** Seconds as the two largest units: "3 d 4 h", "12 m 5 s", "850 ms". */
export function duration(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '–';
  const neg = s < 0 ? '−' : '';
  s = Math.abs(s);
  if (s < 1) return `${neg}${Math.round(s * 1000)} ms`;
  if (s < 60) return `${neg}${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const units: [string, number][] = [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]];
  const parts: string[] = [];
  let left = Math.round(s);
  for (const [u, n] of units) {
    if (left >= n || parts.length) { parts.push(`${Math.floor(left / n)} ${u}`); left %= n; }
    if (parts.length === 2) break;
  }
  return neg + parts.join(' ');
}

/** The calendar month (UTC) around `now`: its start and its length in seconds. */
export function monthOf(now: Date): { start: number; seconds: number } {
  const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const end = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  return { start, seconds: (end - start) / 1000 };
}

/**
 * This month's downtime budget for a target in percent (99.99: 4 m 22 s in 30 days), and what is
 * left of it after the downtime this agent has seen. The agent counts downtime since it started;
 * when that was before this month, `partial` says the figure includes earlier downtime.
 */
export function budget(targetPercent: number, downSeconds: number, startedAt: string, now: Date) {
  const m = monthOf(now);
  const allowed = (1 - targetPercent / 100) * m.seconds;
  return { allowed, left: allowed - downSeconds, partial: Date.parse(startedAt) < m.start };
}

/** The error's code: an errno name (ECONNREFUSED), a VIGIL_E... code, or an HTTP status. */
export function errorCode(error: string | null): string | null {
  if (!error) return null;
  const m = /\b(VIGIL_E[A-Z0-9_]+|E[A-Z]{3,}[A-Z_]*)\b/.exec(error) ?? /\b(?:status|HTTP)\s*:?\s*([1-5]\d\d)\b/i.exec(error);
  if (m) return m[1];
  if (/timed? ?out/i.test(error)) return 'TIMEOUT';
  return null;
}

/** Rise/fall progress: toward up (successes of rise) while down, toward down while up. */
export function progress(c: Check): { text: string; done: number; of: number } | null {
  const r = c.run;
  if (!r) return null;
  if (c.up) return { text: r.fail ? `${r.fail}/${r.fall} failed, down at ${r.fall}` : `passing, down after ${r.fall} failed`, done: r.fail, of: r.fall };
  return { text: r.ok ? `${r.ok}/${r.rise} passed, up at ${r.rise}` : `failing, up after ${r.rise} passed`, done: r.ok, of: r.rise };
}

/** Bad states first, then the ones in between, then good: for "sort by state". */
export function stateRank(state: string): number {
  switch (state) {
    case 'fault': case 'down': case 'lost': return 0;
    case 'init': case 'unknown': return 1;
    case 'backup': return 2;
    default: return 3;   // master, up
  }
}

/**
 * A counter's rate per second, from the values the page sees at its polls. The counters move
 * when their writer writes (`vigil lb`: about once a second), not at every poll, so the rate is
 * taken over the changes of the last `windowMs` (a poll's lateness is then a small part of it);
 * a counter quiet for longer than `quietMs` counts its quiet time (traffic that stopped reads 0).
 */
export class Rate {
  private t: number[] = [];
  private v: number[] = [];
  private windowMs: number;
  private quietMs: number;
  constructor(windowMs = 10_000, quietMs = 3000) { this.windowMs = windowMs; this.quietMs = quietMs; }
  sample(t: number, v: number | undefined): number | null {
    if (v === undefined) return null;
    const last = this.v.length - 1;
    if (last >= 0 && v < this.v[last]) { this.t = []; this.v = []; }   // reset: a new writer
    if (!this.v.length || v !== this.v[this.v.length - 1]) { this.t.push(t); this.v.push(v); }
    while (this.t.length > 2 && t - this.t[1] > this.windowMs) { this.t.shift(); this.v.shift(); }
    let endT = this.t[this.t.length - 1];
    if (t - endT > this.quietMs) endT = t;
    if (endT === this.t[0]) return null;
    return (this.v[this.v.length - 1] - this.v[0]) / ((endT - this.t[0]) / 1000);
  }
}

/** Per second, as a person reads it: 0, 12, 1.2 k, 3.4 M. */
export function si(n: number | null, unit = ''): string {
  if (n === null) return '–';
  const abs = Math.abs(n);
  for (const [s, f] of [['G', 1e9], ['M', 1e6], ['k', 1e3]] as const) if (abs >= f) return `${(n / f).toFixed(1)} ${s}${unit}`;
  return `${abs < 10 && n % 1 ? n.toFixed(1) : Math.round(n)} ${unit}`.trimEnd();
}

/** A bounded series of (time, value), newest last, older than `keepMs` dropped. */
export class Series {
  readonly t: number[] = [];
  readonly v: number[] = [];
  readonly keepMs: number;
  readonly max: number;
  constructor(keepMs: number, max: number) { this.keepMs = keepMs; this.max = max; }
  push(t: number, v: number): void {
    this.t.push(t); this.v.push(v);
    let drop = 0;
    while (drop < this.t.length && (this.t[drop] < t - this.keepMs || this.t.length - drop > this.max)) drop++;
    if (drop) { this.t.splice(0, drop); this.v.splice(0, drop); }
  }
}

/** SVG polyline points for a series in a w x h box: time on x over `spanMs`, value on y from 0. */
export function sparkPoints(s: Series, now: number, spanMs: number, w: number, h: number): string {
  const top = Math.max(...s.v, 1e-9);
  const pts: string[] = [];
  for (let i = 0; i < s.t.length; i++) {
    const x = w - ((now - s.t[i]) / spanMs) * w;
    if (x < 0) continue;
    pts.push(`${x.toFixed(1)},${(h - 1 - (s.v[i] / top) * (h - 2)).toFixed(1)}`);
  }
  return pts.join(' ');
}

/** A row matches the filter when every word of it is in its text (case-insensitive). */
export function matches(filter: string, text: string): boolean {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  const hay = text.toLowerCase();
  return words.every((w) => hay.includes(w));
}
