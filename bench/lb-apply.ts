// The load balancer's apply time: vigil's reconciler (host/lb/, through bench/lb-reconcile.ts)
// from a check's down verdict to the nft transaction applied at 3, 100 and 1,000 real servers,
// and its full apply of 1,000 and 10,000 with the process's RSS; and under it, the floor: what
// one hand-written `nft -f -` transaction costs here. In a namespace of its own:
//   - replacing one element (delete + add in one transaction) of a slot map of 3, 100, 1,000 and
//     10,000 elements, p50/p99, with nft spawned (a) through `ip netns exec` from outside and
//     (b) by a process already inside the namespace, as `vigil lb` would be;
//   - controls from the same run: a transaction that changes nothing, and a spawn of `true`;
//   - a full apply (table, chain, map) of 1,000 and 10,000 elements: time, and nft's peak RSS.
//
//   node bench/lb-apply.ts       standalone (root)
//   node bench/run.ts            as part of `make bench` (run() below)
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ip, nsExec, quantile, have, reaper } from './lab.ts';
import { table, type Target } from './table.ts';
import type { ReconcileFigures } from './lb-reconcile.ts';

const SELF = fileURLToPath(import.meta.url);
const NS = 'vblba-d';
const T = 'vblba';
const QUICK = process.env.VIGIL_BENCH_QUICK === '1';
const SIZES = [3, 100, 1000, 10000];
const ROUNDS = QUICK ? 20 : 60;
const VERDICT_SIZES = [3, 100, 1000];
const VERDICT_ROUNDS = QUICK ? 10 : 30;
const RECONCILE = fileURLToPath(new URL('./lb-reconcile.ts', import.meta.url));

// The slot table of a virtual server (wrr / mh): slot -> real server address . port.
// Documentation addresses only (198.51.100.0/24): 200 hosts, and the port tells the rest apart.
const addr = (i: number) => `198.51.100.${11 + (i % 200)}`;
const elem = (i: number, port = 8080) => `${i} : ${addr(i)} . ${port + Math.floor(i / 200)}`;

export function fullApply(n: number): string {
  const elems: string[] = [];
  for (let i = 0; i < n; i++) elems.push(elem(i));
  return `add table ip ${T}\ndelete table ip ${T}\ntable ip ${T} {
  map slots { typeof numgen inc mod 2 : ip daddr . tcp dport; size ${Math.max(65535, n)}; elements = { ${elems.join(', ')} } }
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr 192.0.2.100 meta l4proto tcp tcp dport 80 dnat ip to numgen inc mod ${n} map @slots
  }
}
`;
}

/** One element's value replaced: nft 1.0.6 refuses `add` over an existing key, so delete + add. */
export const replaceOne = (k: number, port: number) =>
  `delete element ip ${T} slots { ${k} }\nadd element ip ${T} slots { ${elem(k, port)} }\n`;
const NOOP = `add table ip ${T}\n`;

type Timed = (text: string) => number;
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

function nftInside(text: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('nft', ['-f', '-'], { input: text, stdio: ['pipe', 'ignore', 'pipe'] });
  const t = ms(t0);
  if (r.status !== 0) throw new Error(`nft: ${r.stderr.toString().trim()}`);
  return t;
}
function nftViaIpNetns(text: string): number {
  const t0 = process.hrtime.bigint();
  execFileSync('ip', ['netns', 'exec', NS, 'nft', '-f', '-'], { input: text, stdio: ['pipe', 'ignore', 'pipe'] });
  return ms(t0);
}
function spawnTrue(): number {
  const t0 = process.hrtime.bigint();
  spawnSync('true');
  return ms(t0);
}

interface Series { p50: number; p99: number; n: number }
const series = (xs: number[]): Series => ({ p50: quantile(xs, 0.5), p99: quantile(xs, 0.99), n: xs.length });

export interface ApplyRow { size: number; inside: Series; ipNetns: Series; noop: Series; spawnTrue: Series }
export interface FullRow { size: number; ms: number; nftMaxRssKB: number; textKB: number }
export interface ApplyResult { module: 'lb-apply'; skipped?: string; rounds: number; rows: ApplyRow[]; full: FullRow[]; vigil: ReconcileFigures[]; vigilError?: string; targets: Target[] }

// vigil's reconciler with `n` real servers, in the namespace (a process per size: its RSS is its own).
function reconcile(n: number, rounds: number): ReconcileFigures {
  const out = execFileSync('ip', ['netns', 'exec', NS, process.execPath, RECONCILE, String(n), String(rounds)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  return JSON.parse(out.trim().split('\n').pop()!);
}

// Inside the namespace: the figures of (b) and the controls, as JSON on stdout.
function inner(): void {
  const out: Record<number, { inside: number[]; noop: number[]; spawnTrue: number[] }> = {};
  for (const n of SIZES) {
    nftInside(fullApply(n));
    const r = { inside: [] as number[], noop: [] as number[], spawnTrue: [] as number[] };
    for (let i = 0; i < ROUNDS; i++) {
      r.inside.push(nftInside(replaceOne(i % n, 9000 + (i % 2))));
      r.noop.push(nftInside(NOOP));
      r.spawnTrue.push(spawnTrue());
    }
    out[n] = r;
  }
  process.stdout.write(JSON.stringify(out));
}

function fullRow(n: number): FullRow {
  const text = fullApply(n);
  const t0 = process.hrtime.bigint();
  const r = spawnSync('ip', ['netns', 'exec', NS, '/usr/bin/time', '-f', 'maxrss=%M', 'nft', '-f', '-'], { input: text, encoding: 'utf8' });
  const t = ms(t0);
  if (r.status !== 0) throw new Error(`nft full apply of ${n}: ${r.stderr.trim()}`);
  return { size: n, ms: t, nftMaxRssKB: Number(/maxrss=(\d+)/.exec(r.stderr)?.[1] ?? NaN), textKB: text.length / 1024 };
}

export async function run(): Promise<ApplyResult> {
  const base = { module: 'lb-apply' as const, rounds: ROUNDS, rows: [], full: [], vigil: [], targets: [] };
  if (process.getuid?.() !== 0) return { ...base, skipped: 'needs root (a namespace)' };
  if (!have('nft')) return { ...base, skipped: 'no nft: bash packaging/system-deps.sh bench' };
  try { ip('netns', 'del', NS); } catch { /* none left */ }
  // A SIGKILL (bench/run.ts's timeout) must not leave the namespace behind either.
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-lb-apply-'));
  const reap = reaper('vblba-', dir);
  ip('netns', 'add', NS);
  try {
    const fromInside = JSON.parse(execFileSync('ip', ['netns', 'exec', NS, process.execPath, SELF, '--inner'], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'] }));
    const rows: ApplyRow[] = [];
    for (const n of SIZES) {
      nftViaIpNetns(fullApply(n));
      const via: number[] = [];
      for (let i = 0; i < ROUNDS; i++) via.push(nftViaIpNetns(replaceOne(i % n, 9000 + (i % 2))));
      const f = fromInside[n];
      rows.push({ size: n, inside: series(f.inside), ipNetns: series(via), noop: series(f.noop), spawnTrue: series(f.spawnTrue) });
    }
    const full = [fullRow(1000), fullRow(10000), fullRow(1000), fullRow(10000)];
    const worst = Math.max(...rows.map((r) => r.inside.p99));
    const targets: Target[] = [{ name: 'floor: one element replaced by hand, nft in the namespace, p99',
      target: '<= 30 ms at 3..10,000', value: `${worst.toFixed(1)} ms`, met: worst <= 30 }];
    // vigil's own reconciler, when host/lb/ has one (it is being written beside this bench).
    const vigil: ReconcileFigures[] = [];
    let vigilError: string | undefined;
    try {
      for (const n of VERDICT_SIZES) vigil.push(reconcile(n, VERDICT_ROUNDS));
      vigil.push(reconcile(10000, 0));
      const measured = vigil.filter((v) => v.downToApplied.n > 0);
      const w = Math.max(...measured.map((v) => v.downToApplied.p99));
      targets.push({ name: `vigil: a check's down verdict -> transaction applied, p99 at ${measured.map((v) => v.servers).join(', ')} real servers`,
        target: '<= 30 ms, flat', value: measured.map((v) => `${v.downToApplied.p99.toFixed(0)}`).join(' / ') + ' ms', met: w <= 30 });
    } catch (e) {
      vigilError = ((e as { stderr?: string }).stderr || (e as Error).message).trim().split('\n').slice(-3).join(' ');
    }
    return { ...base, rows, full, vigil, vigilError, targets };
  } finally {
    try { nsExec(NS, 'nft', 'delete', 'table', 'ip', T); } catch { /* not made */ }
    ip('netns', 'del', NS);
    rmSync(dir, { recursive: true, force: true });
    reap.close();
  }
}

const f1 = (v: number) => v.toFixed(1);

export function format(r: ApplyResult): string {
  if (r.skipped) return `lb-apply: skipped: ${r.skipped}`;
  const lines: string[] = [];
  const floor = [`nft transactions written by hand, ${r.rounds} per figure, ms p50 / p99:`];
  floor.push(table(['map size', 'replace 1, nft in the ns', 'replace 1, ip netns exec nft', 'no-op, nft in the ns', 'spawn true'],
    r.rows.map((x) => [String(x.size), `${f1(x.inside.p50)} / ${f1(x.inside.p99)}`, `${f1(x.ipNetns.p50)} / ${f1(x.ipNetns.p99)}`,
      `${f1(x.noop.p50)} / ${f1(x.noop.p99)}`, `${f1(x.spawnTrue.p50)} / ${f1(x.spawnTrue.p99)}`])));
  if (r.vigil.length) {
    lines.push(`vigil's reconciler (host/lb/), one NAT virtual server, wrr; ${r.vigil[0].downToApplied.n} down and up verdicts each, ms p50 / p99:`);
    lines.push(table(['real servers', 'down -> applied', 'of which nft', 'up -> applied', 'full apply', 'of which nft', 'RSS after', 'peak RSS', 'down tx'],
      r.vigil.map((v) => [String(v.servers),
        v.downToApplied.n ? `${f1(v.downToApplied.p50)} / ${f1(v.downToApplied.p99)}` : '-',
        v.downNft.n ? `${f1(v.downNft.p50)} / ${f1(v.downNft.p99)}` : '-',
        v.upToApplied.n ? `${f1(v.upToApplied.p50)} / ${f1(v.upToApplied.p99)}` : '-',
        f1(v.fullApplyMs), f1(v.fullApplyNftMs), `${v.rssMB.toFixed(0)} MB`, `${v.maxRssMB.toFixed(0)} MB`, v.downToApplied.n ? `${v.downTxBytes} B` : '-'])));
    lines.push('RSS: the measuring process (Node and the reconciler, as in `vigil lb`). Controls from the same run below.');
  } else if (r.vigilError) lines.push(`vigil's reconciler: not measured: ${r.vigilError}`);
  lines.push(...floor);
  lines.push('full apply written by hand (table, chain, slot map; through ip netns exec), twice each:');
  lines.push(table(['elements', 'ms', 'nft peak RSS', 'text'], r.full.map((x) => [String(x.size), f1(x.ms), `${(x.nftMaxRssKB / 1024).toFixed(1)} MB`, `${f1(x.textKB)} KB`])));
  return lines.join('\n');
}

if (process.argv[2] === '--inner') inner();
else if (process.argv[1] === SELF) console.log(format(await run()));
