// Durations as people write them in configs and on the command line: "10ms", "1s", "2m",
// "720h", "1.5d", "2w", "1y". Kept in microseconds, the unit the core's clock uses.

const UNITS: Record<string, number> = {
  us: 1, ms: 1e3, s: 1e6, m: 60e6, h: 3600e6, d: 86400e6, w: 7 * 86400e6, y: 365.25 * 86400e6,
};

export class DurationSyntaxError extends Error {}

export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(us|ms|s|m|h|d|w|y)\s*$/.exec(text);
  if (!m) {
    if (/^\s*\d+(\.\d+)?\s*$/.test(text)) {
      throw new DurationSyntaxError(`duration ${JSON.stringify(text)} needs a unit (ms, s, m, h, d, w or y), e.g. "${text.trim()}s"`);
    }
    throw new DurationSyntaxError(`${JSON.stringify(text)} is not a duration: write a number and a unit, e.g. 10ms, 1s, 2m, 720h`);
  }
  return Math.round(Number(m[1]) * UNITS[m[2]]);
}

// "6h 5m 15.6s", the two or three largest units that matter to a person reading downtime.
export function formatDuration(us: number): string {
  if (!Number.isFinite(us)) return us > 0 ? 'forever' : 'n/a';
  if (us < 1e3) return `${Math.round(us)}us`;
  if (us < 1e6) return `${+(us / 1e3).toFixed(1)}ms`;
  // Round once, at the precision shown, so no "4m 60s".
  let s = us < 60e6 ? Math.round(us / 1e4) / 100 : Math.round(us / 1e6);
  const parts: string[] = [];
  const steps: [string, number][] = [['y', 365.25 * 86400], ['d', 86400], ['h', 3600], ['m', 60]];
  for (const [u, n] of steps) {
    if (s >= n) { const k = Math.floor(s / n); parts.push(`${k}${u}`); s -= k * n; }
  }
  if (s > 0 || parts.length === 0) parts.push(`${+s.toFixed(2)}s`);
  return parts.slice(0, 3).join(' ') || '0s';
}
