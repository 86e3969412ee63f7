// Small helpers shared by the bench modules and bench/run.ts: number formatting and plain-text
// tables. A bench module exports `run(): Promise<object>` and, optionally,
// `format(result): string` for its table; results may carry `targets: Target[]`.

export interface Target {
  name: string;
  target: string;       // what is wanted, e.g. ">= 5 M adverts/s"
  value: string;        // what was measured, formatted
  met: boolean;
}

export function table(head: string[], rows: string[][], align?: ('l' | 'r')[]): string {
  const all = [head, ...rows];
  const width = head.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => r.map((cell, c) => {
    const s = cell ?? '';
    return (align?.[c] ?? (c === 0 ? 'l' : 'r')) === 'l' ? s.padEnd(width[c]) : s.padStart(width[c]);
  }).join('  ').trimEnd();
  const rule = width.map((w) => '-'.repeat(w)).join('  ');
  return [line(head), rule, ...rows.map(line)].join('\n');
}

export function targetsTable(targets: Target[]): string {
  return table(['target', 'wanted', 'measured', 'met'],
    targets.map((t) => [t.name, t.target, t.value, t.met ? 'yes' : 'NO']), ['l', 'l', 'r', 'l']);
}

// 12345678 -> "12.35 M"
export function rate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return String(perSecond);
  if (perSecond >= 1e9) return `${(perSecond / 1e9).toFixed(2)} G`;
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)} k`;
  return perSecond.toFixed(0);
}

export function ns(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}
