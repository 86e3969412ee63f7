import type { PolicyReport } from '../policy/types.ts';

// What the checker process tells the engine: one JSON object per line on the checker's
// stdout, relayed as is by the supervisor to the engine's stdin. The engine only parses lines
// (no undici, no checker code): see docs/ARCHITECTURE.md "Processes".
export interface CheckReport {
  check: string;              // the check's name
  up: boolean;
  settled: boolean;           // `up` is decided (see state.ts); until then the engine keeps what it had
  error: string | null;       // the last round's failure, null after a success
  code?: string | null;       // error's stable code (VIGIL_ECHECK_*, VIGIL_EPOLICY_*: host/checks/errors.ts)
  latencyMs: number | null;   // the last round's duration (successful or not)
  detail?: CheckDetail;       // exec: the last exit code and first line of output; dynamic: the weight it set
  value?: number | null;      // file: the integer the file holds (null: unreadable)
  transitions: number;        // since this checker process started
  rounds: number;
  failures: number;
  policy?: PolicyReport | null; // type policy: the policy's load and sandbox state (host/policy/)
  run?: RunReport;            // the way to the next flip, for the status page's rise/fall progress
}

/** Successes and failures in a row (state.ts's okRun, failRun), against the check's rise and fall. */
export interface RunReport { ok: number; fail: number; rise: number; fall: number }

const isRun = (v: unknown): v is RunReport => !!v && typeof v === 'object'
  && ['ok', 'fail', 'rise', 'fall'].every((k) => Number.isInteger((v as Record<string, unknown>)[k]));

// An exec check's last run (host/checks/exec.ts), for /status.
export interface CheckDetail { exitCode: number | null; output: string; weight?: number }

export function parseReport(line: string): CheckReport | undefined {
  let o: unknown;
  try { o = JSON.parse(line); } catch { return undefined; }
  const r = o as Partial<CheckReport> | null;
  if (!r || typeof r.check !== 'string' || typeof r.up !== 'boolean' || typeof r.settled !== 'boolean') return undefined;
  return {
    check: r.check, up: r.up, settled: r.settled,
    error: typeof r.error === 'string' ? r.error.slice(0, 500) : null,
    code: typeof r.code === 'string' && r.error != null ? r.code.slice(0, 40) : null,
    latencyMs: typeof r.latencyMs === 'number' ? r.latencyMs : null,
    transitions: typeof r.transitions === 'number' ? r.transitions : 0,
    rounds: typeof r.rounds === 'number' ? r.rounds : 0,
    failures: typeof r.failures === 'number' ? r.failures : 0,
    ...(r.policy && typeof r.policy === 'object' ? { policy: r.policy } : {}),
    ...(r.detail && typeof r.detail === 'object' ? { detail: { exitCode: typeof r.detail.exitCode === 'number' ? r.detail.exitCode : null, output: String(r.detail.output ?? '').slice(0, 200), ...(typeof r.detail.weight === 'number' ? { weight: r.detail.weight } : {}) } } : {}),
    ...(r.value === null || typeof r.value === 'number' ? { value: r.value } : {}),
    ...(isRun(r.run) ? { run: { ok: r.run.ok, fail: r.run.fail, rise: r.run.rise, fall: r.run.fall } } : {}),
  };
}

// What a tracked check does to an instance's priority: the (weight, failing) pair the core's
// track() takes. Every check but file: its weight while it fails (0: FAULT). A file check
// (keepalived's track_file) carries the integer its file holds: value x weight is added to the
// priority; with weight 0 a non-zero value is FAULT; a result under -253, or a file that cannot
// be read, is FAULT too.
export function trackEffect(weight: number, up: boolean, value: number | null | undefined): { weight: number; failing: boolean } {
  if (value === undefined) return { weight, failing: !up };
  if (value === null) return { weight: 0, failing: true };
  if (weight === 0) return { weight: 0, failing: value !== 0 };
  const v = value * weight;
  if (v < -253) return { weight: 0, failing: true };
  return { weight: Math.max(-254, Math.min(254, v)), failing: v !== 0 };
}
