// Benchmark of the load balancer's scheduler tables (host/lb/tables.ts over core.wasm): the time
// to compute each table at 3, 100, 1,000 and 10,000 real servers, through the host wrapper
// (inputs checked and copied in, the table copied out), against the same algorithms in plain
// TypeScript (test/helpers/lb-reference.ts) in the same run.
//
//   node bench/lb-tables.ts         standalone: prints the table
//   node bench/run.ts               with every bench module
//
// VIGIL_BENCH_QUICK=1 shortens every measurement.
import { wrrSlots, hashBuckets, updateBuckets, maglevTable } from '../host/lb/tables.ts';
import { refWrr, refBuckets, refMaglev } from '../test/helpers/lb-reference.ts';
import { table } from './table.ts';

const QUICK = process.env.VIGIL_BENCH_QUICK === '1';
const BUDGET_MS = QUICK ? 40 : 300;   // per measurement; at least 3 calls
const COUNTS = [3, 100, 1000, 10_000];

interface Case { name: string; wasm: (k: Uint32Array, w: number[]) => Uint16Array; ts: (k: Uint32Array, w: number[]) => Uint16Array }
const CASES: Case[] = [
  { name: 'wrr', wasm: (_k, w) => wrrSlots(w), ts: (_k, w) => refWrr(w) },
  { name: 'sh/dh 256 buckets', wasm: (k, w) => hashBuckets(k, w, 256), ts: (k, w) => refBuckets(k, w, 256) },
  { name: 'sh/dh 4096 buckets', wasm: (k, w) => hashBuckets(k, w, 4096), ts: (k, w) => refBuckets(k, w, 4096) },
  { name: 'mh 251', wasm: (k, w) => maglevTable(k, w, 251), ts: (k, w) => refMaglev(k, w, 251) },
  { name: 'mh 65537', wasm: (k, w) => maglevTable(k, w, 65537), ts: (k, w) => refMaglev(k, w, 65537) },
];

export interface Row { table: string; servers: number; length: number; wasmMs: number; tsMs: number; wasmWallMs: number; tsWallMs: number; same: boolean }
export interface Result { rows: Row[]; note: string }

// Milliseconds of one call, medians over samples of k calls (k makes a sample last >= 2 ms),
// as many samples as fit the budget (3 at least): wall time and this process's CPU time, which
// the other processes on a shared machine disturb less.
function time(f: () => unknown): { wall: number; cpu: number } {
  let k = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < k; i++) f();
    if (performance.now() - t0 >= 2 || k >= 65536) break;
    k *= 4;
  }
  const wall: number[] = [], cpu: number[] = [];
  const until = performance.now() + BUDGET_MS;
  while (wall.length < 3 || (performance.now() < until && wall.length < 200)) {
    const c0 = process.cpuUsage(), t0 = performance.now();
    for (let i = 0; i < k; i++) f();
    const t1 = performance.now(), c1 = process.cpuUsage(c0);
    wall.push((t1 - t0) / k);
    cpu.push((c1.user + c1.system) / 1000 / k);
  }
  const median = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1]!;
  return { wall: median(wall), cpu: median(cpu) };
}

function servers(n: number): { keys: Uint32Array; weights: number[] } {
  const keys = new Uint32Array(n), weights: number[] = [];
  let x = 0x9e3779b9;
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    do { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; x >>>= 0; } while (seen.has(x));
    seen.add(x);
    keys[i] = x;
    weights.push(1 + (x % 10));
  }
  return { keys, weights };
}

export async function run(): Promise<Result> {
  const rows: Row[] = [];
  for (const n of COUNTS) {
    const { keys, weights } = servers(n);
    for (const c of CASES) {
      const a = c.wasm(keys, weights), b = c.ts(keys, weights);
      const wasm = time(() => c.wasm(keys, weights)), ts = time(() => c.ts(keys, weights));
      rows.push({
        table: c.name, servers: n, length: a.length,
        wasmMs: wasm.cpu, tsMs: ts.cpu, wasmWallMs: wasm.wall, tsWallMs: ts.wall,
        same: a.length === b.length && a.every((v, i) => v === b[i]),
      });
    }
    // One server goes down (weight 0): the 4096-bucket table updated from the one before,
    // against making it whole (the TS column: the core's whole table, in the same run).
    const previous = { keys, weights, table: hashBuckets(keys, weights, 4096) };
    const down = weights.slice();
    down[n >> 1] = 0;
    const a = updateBuckets(previous, keys, down), b = hashBuckets(keys, down, 4096);
    const upd = time(() => updateBuckets(previous, keys, down)), whole = time(() => hashBuckets(keys, down, 4096));
    rows.push({
      table: 'sh/dh 4096, one down: update vs whole', servers: n, length: a.length,
      wasmMs: upd.cpu, tsMs: whole.cpu, wasmWallMs: upd.wall, tsWallMs: whole.wall,
      same: a.length === b.length && a.every((v, i) => v === b[i]),
    });
  }
  return {
    rows,
    note: 'weights 1..10; wasm = host/lb/tables.ts (checks, copies in and out) over core.wasm; ' +
      'plain TS = the same algorithms in test/helpers/lb-reference.ts, in the same run; ' +
      '"update vs whole": updateBuckets in the wasm column, hashBuckets (wasm) in the TS column',
  };
}

const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(4));

export function format(r: Result): string {
  return ['Scheduler tables: median time to compute one table, CPU ms (wall ms)', r.note,
    table(['table', 'servers', 'length', 'wasm ms', 'plain TS ms', 'TS / wasm', 'same table'],
      r.rows.map((x) => [x.table, String(x.servers), String(x.length), `${fmt(x.wasmMs)} (${fmt(x.wasmWallMs)})`,
        `${fmt(x.tsMs)} (${fmt(x.tsWallMs)})`, (x.tsMs / x.wasmMs).toFixed(2), x.same ? 'yes' : 'NO'])),
  ].join('\n');
}

if (import.meta.main) console.log(format(await run()));
