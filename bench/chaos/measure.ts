// What bench/chaos measures, from the kernel's address events (ip -ts monitor, wall clock ms)
// and captures: how long both routers held the VIP, how often the backup took it, the longest
// gap in a router's adverts, and the engine's CPU.
import { readFileSync } from 'node:fs';
import { VIP } from '../../test/chaos/harness.ts';

export interface AddrEvent { at: number; deleted: boolean; addr: string }

/** The intervals in [from, to] during which the VIP was held, by the events of one router. */
export function held(events: AddrEvent[], from: number, to: number): [number, number][] {
  const vip = events.filter((e) => e.addr === VIP);
  const before = vip.filter((e) => e.at < from).at(-1);
  let since: number | undefined = before && !before.deleted ? from : undefined;
  const out: [number, number][] = [];
  for (const e of vip.filter((x) => x.at >= from && x.at <= to)) {
    if (!e.deleted && since === undefined) since = e.at;
    else if (e.deleted && since !== undefined) { out.push([since, e.at]); since = undefined; }
  }
  if (since !== undefined) out.push([since, to]);
  return out;
}

/** Milliseconds during which both held it. */
export function overlapMs(a: [number, number][], b: [number, number][]): number {
  let sum = 0;
  for (const [s1, e1] of a) for (const [s2, e2] of b) sum += Math.max(0, Math.min(e1, e2) - Math.max(s1, s2));
  return sum;
}

/** Times a router took the VIP in [from, to]. */
export function takes(events: AddrEvent[], from: number, to: number): number {
  return events.filter((e) => e.addr === VIP && !e.deleted && e.at >= from && e.at <= to).length;
}

/** The longest gap (ms) between consecutive stamps in [from, to], the window's ends included. */
export function longestGap(stamps: number[], from: number, to: number): number {
  const s = [from, ...stamps.filter((x) => x >= from && x <= to).sort((a, b) => a - b), to];
  let g = 0;
  for (let i = 1; i < s.length; i++) g = Math.max(g, s[i]! - s[i - 1]!);
  return g;
}

/** utime + stime of a process and its threads, in ms (CLK_TCK 100). */
export function cpuTimeMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) * 10;
}

export function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** "median [min–max]" with the precision the numbers need. */
export function summary(xs: number[]): string {
  const s = xs.filter((x) => Number.isFinite(x));
  if (!s.length) return 'n/a';
  const f = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2));
  const lo = Math.min(...s), hi = Math.max(...s);
  return lo === hi ? f(lo) : `${f(median(s))} [${f(lo)}–${f(hi)}]`;
}
