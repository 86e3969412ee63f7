// A checker that goes silent (stopped, stalled on memory in its cgroup, its event loop hung) is
// killed, and then restarted as a dead one is. The engine keeps the last check states while the
// checker is away; without this it kept them for as long as a stall lasted (make chaos
// checkerStall: 4.9 s without a round, a backend dying meanwhile never noticed). keepalived
// counts a hung track script as failed; here the checker comes back and judges again.
import type { CheckSpec } from '../config/types.ts';

// The runner reports each scheduled check at once when it flips, and every check that ran a
// round once per flush (host/checks/runner.ts): a live checker writes at least once per
// max(flush, the shortest interval + timeout). Watches (process, file) report only on a change.
const FLUSH_MS = 1000;
// A start may compile policies (jco) before its first round: more room before the first line.
const FIRST_LINE_MS = 30_000;

/** The longest a live checker stays silent, or undefined when it may legitimately say nothing. */
export function checkerSilenceLimitMs(checks: readonly CheckSpec[]): number | undefined {
  const scheduled = checks.filter((c) => c.type !== 'process' && c.type !== 'file');
  if (!scheduled.length) return undefined;
  const every = Math.max(FLUSH_MS, Math.min(...scheduled.map((c) => (c.intervalUs + c.timeoutUs) / 1000)));
  return 3 * every + FLUSH_MS;
}

/** Why the checker counts as hung at `now`, or undefined. `lastLine`: its last line, or its start. */
export function checkerSilence(checks: readonly CheckSpec[], now: number, lastLine: number, seenLine: boolean): string | undefined {
  const limit = checkerSilenceLimitMs(checks);
  if (limit === undefined) return undefined;
  const silent = now - lastLine, allowed = seenLine ? limit : limit + FIRST_LINE_MS;
  if (silent <= allowed) return undefined;
  return seenLine
    ? `checker silent for ${Math.round(silent)} ms (a live one reports at least every ${Math.round((limit - FLUSH_MS) / 3)} ms)`
    : `checker has not reported in the ${Math.round(silent)} ms since it started`;
}
