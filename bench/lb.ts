// The load balancer's overhead: wrk in a client namespace against a real nginx, through a VIP
// (the director's nftables NAT on 192.0.2.100, DR on 192.0.2.101) and straight to the same real server routed through the
// same director (the control), in two modes: keep-alive, and a new connection per request
// (`Connection: close`). Runs alternate control / NAT / DR, REPS times; the ratios are the median
// of the paired ratios of each round. Topology: bench/lb-topo.ts. Rules: vigil's own
// (bench/lb-vigil-rules.ts, from host/lb/), or with VIGIL_LB_RULES=hand the hand-written ones
// (bench/lb-rules.ts), which are also used when vigil's cannot be loaded.
//
// "before" repeats the first measurement's setup, where the client reached the VIP and the real
// server from one address: new connections through a NAT VIP then collapse, because the real
// server's TIME_WAIT sockets left by the control's connections reject the VIP's SYNs that reuse a
// client port (PAWS: the client's TCP timestamp clock differs per destination address). "after"
// gives the VIP's traffic its own client address. docs/lb.md, "New connections and TIME_WAIT".
//
// wrk's latency is from a request's write to its response: a connect() that waits for a SYN
// retransmit shows in requests/s, not in the percentiles.
//
//   node bench/lb.ts             standalone (root): prints the table
//   node bench/run.ts            as part of `make bench` (run() below)
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { have, median, nsExec } from './lab.ts';
import { CLIENT, CLIENT_IF, CLIENT_VIP_SRC, PORT, SERVER_IF, VIP, VIP_DR, onSignals, up, type Topology } from './lb-topo.ts';
import { handWritten, type RulesFn, type BenchService } from './lb-rules.ts';
import { table, type Target } from './table.ts';

const run$ = promisify(execFile);
const QUICK = process.env.VIGIL_BENCH_QUICK === '1';
const SECONDS = Number(process.env.VIGIL_LB_SECONDS ?? 2);
// Many short rounds, not a few long ones: on a shared machine the load drifts, and a ratio within
// one round (seconds apart) is steadier than one across rounds.
const REPS = Number(process.env.VIGIL_LB_REPS ?? (QUICK ? 2 : 6));
const CONNECTIONS = 4;
const TABLE = 'vblb';

export type Path = 'direct' | 'nat' | 'dr';
export type Mode = 'keep-alive' | 'close';
export type Setup = 'after' | 'before';

export interface WrkRun {
  path: Path; mode: Mode; setup: Setup; rep: number;
  rps: number; p50Us: number; p99Us: number; errors: number;
  /** the client's SYN retransmits and the real server's SYNs refused in TIME_WAIT by PAWS, in this run */
  synRetrans: number; pawsTimewait: number;
  /** the director's conntrack: insert_failed + drop + early_drop, and clash_resolve, in this run */
  ctFailed: number; ctClash: number;
}

export interface Ratio { mode: Mode; setup: Setup; path: Path; rps: number; p99: number; rpsRange: [number, number]; p99Range: [number, number] }

export interface LbResult {
  module: 'lb';
  rules: string;
  skipped?: string;
  ipvs: string;
  seconds: number; reps: number; connections: number;
  runs: WrkRun[];
  ratios: Ratio[];
  targets: Target[];
}

// ---- measuring ----------------------------------------------------------------------------------

const UNIT: Record<string, number> = { us: 1, ms: 1e3, s: 1e6 };
function us(s: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(s.trim());
  return m ? Number(m[1]) * UNIT[m[2]] : NaN;
}

export function parseWrk(out: string): { rps: number; p50Us: number; p99Us: number; errors: number } {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const p50Us = us(/^\s+50%\s+(\S+)/m.exec(out)?.[1] ?? '');
  const p99Us = us(/^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? '');
  const se = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const errors = (se ? se.slice(1).reduce((a, b) => a + Number(b), 0) : 0) + non2xx;
  return { rps, p50Us, p99Us, errors };
}

/** TcpExt counters of a namespace (/proc/net/netstat as its processes see it). */
function tcpExt(ns: string): Record<string, number> {
  const lines = nsExec(ns, 'cat', '/proc/net/netstat').split('\n');
  const out: Record<string, number> = {};
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const k = lines[i].split(/\s+/), v = lines[i + 1].split(/\s+/);
    if (k[0] !== 'TcpExt:') continue;
    for (let j = 1; j < k.length; j++) out[k[j]] = Number(v[j]);
  }
  return out;
}

/** The director's conntrack statistics, summed over CPUs. */
function ctStats(ns: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of nsExec(ns, 'conntrack', '-S').matchAll(/(\w+)=(\d+)/g)) out[m[1]] = (out[m[1]] ?? 0) + Number(m[2]);
  return out;
}

async function apply(t: Topology, rendered: string | Promise<string>): Promise<void> {
  const text = await rendered;
  try {
    execFileSync('ip', ['netns', 'exec', t.director, 'nft', '-f', '-'], { input: text, stdio: ['pipe', 'ignore', 'pipe'] });
  } catch (e) {
    throw new Error(`nft -f - in ${t.director} refused the rules: ${(e as { stderr?: Buffer }).stderr?.toString().trim()}\n${text}`);
  }
}

// Both virtual servers at once, each on its own VIP, as on a director with two: installed once.
function services(t: Topology): BenchService[] {
  const realServers = [{ address: t.backends[0].address, port: PORT }];
  return [{ vip: VIP, port: PORT, forwarding: 'nat', realServers, ingress: CLIENT_IF, egress: SERVER_IF },
    { vip: VIP_DR, port: PORT, forwarding: 'dr', realServers, ingress: CLIENT_IF, egress: SERVER_IF, notrackReplies: true }];
}

async function wrk(t: Topology, path: Path, mode: Mode, setup: Setup, rep: number): Promise<WrkRun> {
  const b = t.backends[0];
  // The control crosses the same director with the same rules loaded (conntrack on for it too).
  const url = `http://${path === 'direct' ? b.address : path === 'nat' ? VIP : VIP_DR}:${PORT}/`;
  const args = ['netns', 'exec', t.client, 'wrk', '-t1', `-c${CONNECTIONS}`, `-d${SECONDS}s`, '--timeout', '5s', '--latency'];
  if (mode === 'close') args.push('-H', 'Connection: close');
  const c0 = tcpExt(t.client), b0 = tcpExt(b.ns), s0 = ctStats(t.director);
  const { stdout } = await run$('ip', [...args, url], { timeout: (SECONDS + 15) * 1000 });
  const c1 = tcpExt(t.client), b1 = tcpExt(b.ns), s1 = ctStats(t.director);
  const d = (a: Record<string, number>, z: Record<string, number>, k: string) => (z[k] ?? 0) - (a[k] ?? 0);
  return { path, mode, setup, rep, ...parseWrk(stdout),
    synRetrans: d(c0, c1, 'TCPSynRetrans'), pawsTimewait: d(b0, b1, 'PAWSTimewait'),
    ctFailed: d(s0, s1, 'insert_failed') + d(s0, s1, 'drop') + d(s0, s1, 'early_drop'), ctClash: d(s0, s1, 'clash_resolve') };
}

export function ratios(runs: WrkRun[]): Ratio[] {
  const out: Ratio[] = [];
  const keys = new Set(runs.filter((r) => r.path !== 'direct').map((r) => `${r.mode}|${r.setup}|${r.path}`));
  for (const k of keys) {
    const [mode, setup, path] = k.split('|') as [Mode, Setup, Path];
    const rp: number[] = [], pp: number[] = [];
    for (const r of runs.filter((x) => x.mode === mode && x.setup === setup && x.path === path)) {
      const c = runs.find((x) => x.mode === mode && x.setup === setup && x.path === 'direct' && x.rep === r.rep);
      if (!c) continue;
      rp.push(r.rps / c.rps);
      pp.push(r.p99Us / c.p99Us);
    }
    out.push({ mode, setup, path, rps: median(rp), p99: median(pp),
      rpsRange: [Math.min(...rp), Math.max(...rp)], p99Range: [Math.min(...pp), Math.max(...pp)] });
  }
  return out;
}

export function ipvsAvailable(): string {
  if (existsSync('/proc/net/ip_vs')) return 'available';
  try {
    execFileSync('modprobe', ['ip_vs'], { stdio: ['ignore', 'ignore', 'pipe'] });
    return existsSync('/proc/net/ip_vs') ? 'available' : 'not available in this kernel (modprobe ip_vs ran, no /proc/net/ip_vs)';
  } catch (e) {
    const err = e as { code?: string; stderr?: Buffer };
    const why = err.code === 'ENOENT' ? 'no modprobe, no /proc/net/ip_vs' : (err.stderr?.toString().trim().split('\n')[0] || 'failed');
    return `not available in this kernel (modprobe ip_vs: ${why})`;
  }
}

async function pickRules(): Promise<{ rules: RulesFn; name: string }> {
  if (process.env.VIGIL_LB_RULES === 'hand') return { rules: handWritten, name: 'hand-written (bench/lb-rules.ts)' };
  try {
    const { vigilRules } = await import('./lb-vigil-rules.ts');
    return { rules: vigilRules, name: "vigil's (host/lb/)" };
  } catch (e) {
    return { rules: handWritten, name: `hand-written (bench/lb-rules.ts): vigil's could not be loaded: ${(e as Error).message.split('\n')[0]}` };
  }
}

export async function run(given?: RulesFn): Promise<LbResult> {
  const ipvs = ipvsAvailable();
  const { rules, name } = given ? { rules: given, name: 'given' } : await pickRules();
  const base = { module: 'lb' as const, rules: name, ipvs, seconds: SECONDS, reps: REPS, connections: CONNECTIONS, runs: [], ratios: [], targets: [] };
  if (process.getuid?.() !== 0) return { ...base, skipped: 'needs root (namespaces)' };
  const missing = ['wrk', 'nginx', 'nft', 'conntrack'].filter((c) => !have(c));
  if (missing.length) return { ...base, skipped: `missing ${missing.join(', ')}: bash packaging/system-deps.sh bench` };
  const t = await up(1);
  const stop = onSignals(t);
  const runs: WrkRun[] = [];
  try {
    await apply(t, rules(TABLE, services(t)));
    const series = async (mode: Mode, setup: Setup, paths: Path[]) => {
      t.srcFor(setup === 'after' ? CLIENT_VIP_SRC : CLIENT);
      for (let rep = 0; rep < REPS; rep++) for (const p of paths) runs.push(await wrk(t, p, mode, setup, rep));
    };
    // "after" first: "before" leaves the real server's TIME_WAIT sockets behind for a minute.
    await series('keep-alive', 'after', ['direct', 'nat', 'dr']);
    await series('close', 'after', ['direct', 'nat', 'dr']);
    await series('close', 'before', ['direct', 'nat', 'dr']);
  } finally {
    stop();
    t.destroy();
  }
  const rs = ratios(runs);
  const targets: Target[] = [];
  for (const r of rs.filter((x) => x.setup === 'after')) {
    targets.push({ name: `${r.path} ${r.mode}: requests/s vs direct`, target: '>= 0.9x', value: `${r.rps.toFixed(2)}x`, met: r.rps >= 0.9 });
    targets.push({ name: `${r.path} ${r.mode}: p99 vs direct`, target: '<= 1.15x', value: `${r.p99.toFixed(2)}x`, met: r.p99 <= 1.15 });
  }
  return { ...base, runs, ratios: rs, targets };
}

// ---- output -------------------------------------------------------------------------------------

const fmtUs = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} ms` : `${v.toFixed(0)} us`);

export function format(r: LbResult): string {
  const lines = [`load balancer: wrk -t1 -c${r.connections} ${r.seconds} s x ${r.reps} rounds per path, nginx-light, director on nftables with ${r.rules} rules`];
  lines.push(`IPVS: ${r.ipvs}${r.ipvs === 'available' ? ' (not measured: no IPVS path in this bench yet)' : ', so there is no IPVS column'}`);
  if (r.skipped) return `${lines.join('\n')}\nskipped: ${r.skipped}`;
  const rows: string[][] = [];
  for (const setup of ['after', 'before'] as Setup[]) {
    for (const mode of ['keep-alive', 'close'] as Mode[]) {
      for (const path of ['direct', 'nat', 'dr'] as Path[]) {
        const xs = r.runs.filter((x) => x.setup === setup && x.mode === mode && x.path === path);
        if (!xs.length) continue;
        const ratio = r.ratios.find((x) => x.setup === setup && x.mode === mode && x.path === path);
        const sum = (k: keyof WrkRun) => xs.reduce((a, x) => a + (x[k] as number), 0);
        rows.push([setup, mode, path,
          median(xs.map((x) => x.rps)).toFixed(0), fmtUs(median(xs.map((x) => x.p50Us))), fmtUs(median(xs.map((x) => x.p99Us))),
          ratio ? `${ratio.rps.toFixed(2)}x (${ratio.rpsRange[0].toFixed(2)}-${ratio.rpsRange[1].toFixed(2)})` : '',
          ratio ? `${ratio.p99.toFixed(2)}x (${ratio.p99Range[0].toFixed(2)}-${ratio.p99Range[1].toFixed(2)})` : '',
          String(sum('synRetrans')), String(sum('pawsTimewait')), String(sum('ctFailed')), String(sum('errors'))]);
      }
    }
  }
  lines.push(table(['setup', 'mode', 'path', 'req/s', 'p50', 'p99', 'req/s vs direct', 'p99 vs direct', 'SYN rexmit', 'PAWS TW', 'ct fail', 'errors'], rows,
    ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r']));
  lines.push('after: the VIP\'s connections leave the client from 203.0.113.3, the control\'s from 203.0.113.2; ' +
    'before: both from 203.0.113.2 (the first measurement). Ratios: median of each round\'s VIP/direct (min-max). ' +
    'SYN rexmit: the client\'s SYN retransmits; PAWS TW: SYNs the real server refused in TIME_WAIT; ct fail: the director\'s conntrack insert_failed+drop+early_drop.');
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await run();
  console.log(format(r));
}
