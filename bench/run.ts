// `make bench`: runs every bench module in bench/ that exports `run()`, prints their tables and
// writes the figures to bench/results/latest.json.
//
// Each module runs in a child process of its own (the same Node, with --expose-gc): a fresh
// heap and JIT per module, and a module that throws, crashes or hangs is reported as skipped
// instead of taking the run down. core.ts is required (its failure fails `make bench`); every
// other module, net.ts included, is optional.
//
// A module: `export async function run(): Promise<object>`, optionally
// `export function format(result): string` for its table; a `targets: Target[]` field in the
// result (bench/table.ts) joins the summary.
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import os from 'node:os';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { table, targetsTable, type Target } from './table.ts';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const RESULTS = path.join(BENCH_DIR, 'results', 'latest.json');
const REQUIRED = ['core.ts'];
const EXPECTED = ['core.ts', 'net.ts', 'failover.ts'];          // reported as skipped when absent
// Per module; failover.ts runs 20 failovers per series against keepalived and needs ~2.5 min;
// checks.ts three load series and two 30 s jitter windows, about 110 s; lb.ts (the load
// balancer against straight to a real server, side by side, and whether IPVS exists) 27 wrk runs
// of 4 s, about 130 s; lb-apply.ts nft transactions on maps up to 10,000 elements, about 60 s;
// scale.ts ten pairs of daemons (1-255 instances), about 200 s.
const TIMEOUTS: Record<string, number> = { 'failover.ts': 300_000, 'checks.ts': 200_000, 'lb.ts': 240_000, 'lb-apply.ts': 150_000, 'scale.ts': 360_000 };
const timeoutOf = (file: string) => Number(process.env.VIGIL_BENCH_TIMEOUT_MS ?? TIMEOUTS[file] ?? 75_000);

type Outcome =
  | { module: string; status: 'ok'; seconds: number; result: Record<string, unknown>; text: string }
  | { module: string; status: 'failed' | 'skipped'; seconds: number; reason: string };

type ChildMessage =
  | { status: 'ok'; result: Record<string, unknown>; text: string }
  | { status: 'error'; error: string }
  | { status: 'no-run' };

// ---- child: import one module, run it, send the result back --------------------------------------

async function child(file: string): Promise<void> {
  const send = (m: ChildMessage) => new Promise<void>((resolve) => process.send!(m, () => resolve()));
  let mod: { run?: unknown; format?: unknown };
  try {
    mod = await import(pathToFileURL(path.join(BENCH_DIR, file)).href);
  } catch (err) {
    await send({ status: 'error', error: `import failed: ${describe(err)}` });
    return;
  }
  if (typeof mod.run !== 'function') { await send({ status: 'no-run' }); return; }
  try {
    const result = await (mod.run as () => Promise<Record<string, unknown>>)();
    let text: string;
    try {
      text = typeof mod.format === 'function' ? String((mod.format as (r: unknown) => string)(result)) : generic(file, result);
    } catch (err) {
      text = `${generic(file, result)}\n(format() threw: ${describe(err)})`;
    }
    await send({ status: 'ok', result: JSON.parse(JSON.stringify(result)), text });
  } catch (err) {
    await send({ status: 'error', error: describe(err) });
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return String(err);
}

function generic(file: string, result: Record<string, unknown>): string {
  const lines = [`${file}`];
  const rows = result.rows;
  if (Array.isArray(rows) && rows.length > 0 && typeof rows[0] === 'object') {
    const keys = [...new Set(rows.flatMap((r) => Object.keys(r as object)))];
    lines.push(table(keys, rows.map((r) => keys.map((k) => fmt((r as Record<string, unknown>)[k])))));
  } else {
    const { targets: _t, ...rest } = result;
    lines.push(JSON.stringify(rest, null, 2).split('\n').slice(0, 60).join('\n'));
  }
  return lines.join('\n');
}

function fmt(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(4);
  return v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

// ---- parent ----------------------------------------------------------------------------------------

// Modules that look like they export run(); the child makes sure.
function discover(): string[] {
  const self = path.basename(fileURLToPath(import.meta.url));
  const found = readdirSync(BENCH_DIR)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && f !== self)
    .filter((f) => /export\s+(async\s+)?function\s+run\s*\(|export\s+(const|let)\s+run\b|export\s*\{[^}]*\brun\b/
      .test(readFileSync(path.join(BENCH_DIR, f), 'utf8')));
  return found.sort((a, b) => (a === 'core.ts' ? -1 : b === 'core.ts' ? 1 : a.localeCompare(b)));
}

function runChild(file: string): Promise<Outcome> {
  const started = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
  return new Promise((resolve) => {
    const proc = fork(fileURLToPath(import.meta.url), ['--child', file], {
      execArgv: ['--expose-gc'],
      // The module sizes its work to the time it has.
      env: { ...process.env, VIGIL_BENCH_TIMEOUT_MS: String(timeoutOf(file)) },
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let message: ChildMessage | undefined;
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; proc.kill('SIGKILL'); }, timeoutOf(file));
    proc.on('message', (m) => { message = m as ChildMessage; });
    proc.on('error', (err) => { message ??= { status: 'error', error: `could not start: ${describe(err)}` }; });
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      const s = seconds();
      if (message?.status === 'ok') resolve({ module: file, status: 'ok', seconds: s, result: message.result, text: message.text });
      else if (message?.status === 'error') resolve({ module: file, status: 'failed', seconds: s, reason: message.error });
      else if (message?.status === 'no-run') resolve({ module: file, status: 'skipped', seconds: s, reason: 'does not export run()' });
      else if (timedOut) resolve({ module: file, status: 'failed', seconds: s, reason: `timed out after ${timeoutOf(file) / 1000} s` });
      else resolve({ module: file, status: 'failed', seconds: s, reason: `exited (${signal ?? `code ${code}`}) without a result` });
    });
  });
}

// The kernel's preemption model, which bounds every jitter figure: with `none` (or `voluntary`)
// a SCHED_FIFO engine woken while another task is in the kernel on its CPU waits until that task
// leaves it or yields, however high its own priority. From /sys/kernel/debug/sched/preempt when
// readable (PREEMPT_DYNAMIC kernels), else the boot command line's preempt=, else the build's.
function preemption(): string {
  try {
    const cur = /\((\w+)\)/.exec(readFileSync('/sys/kernel/debug/sched/preempt', 'utf8'))?.[1];
    if (cur) return `${cur} (debugfs)`;
  } catch { /* not mounted, or not ours to read */ }
  const cmd = /(?:^|\s)preempt=(\w+)/.exec(readFileSync('/proc/cmdline', 'utf8'))?.[1];
  let config = '';
  try { config = gunzipSync(readFileSync('/proc/config.gz')).toString('latin1'); } catch { /* no config.gz */ }
  const dynamic = /^CONFIG_PREEMPT_DYNAMIC=y$/m.test(config) ? ', PREEMPT_DYNAMIC' : '';
  if (cmd) return `${cmd} (preempt= on the command line${dynamic})`;
  const built = /^CONFIG_PREEMPT_RT=y$/m.test(config) ? 'rt' : /^CONFIG_PREEMPT=y$/m.test(config) ? 'full'
    : /^CONFIG_PREEMPT_VOLUNTARY=y$/m.test(config) ? 'voluntary' : /^CONFIG_PREEMPT_NONE=y$/m.test(config) ? 'none' : 'unknown';
  return `${built} (the kernel's build${dynamic}${dynamic ? ', no preempt= on the command line' : ''})`;
}
const PREEMPTION = preemption();

async function main(): Promise<number> {
  const t0 = process.hrtime.bigint();
  const modules = discover();
  const outcomes: Outcome[] = [];
  for (const f of EXPECTED) {
    if (!modules.includes(f) && !existsSync(path.join(BENCH_DIR, f))) {
      outcomes.push({ module: f, status: 'skipped', seconds: 0, reason: 'not present in bench/' });
    } else if (!modules.includes(f)) {
      outcomes.push({ module: f, status: 'skipped', seconds: 0, reason: 'does not export run()' });
    }
  }
  console.log(`vigil bench: ${modules.length ? modules.join(', ') : 'no modules'} — ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'} x${os.cpus().length}, ` +
    `load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, kernel ${os.release()} preemption ${PREEMPTION}`);
  for (const f of modules) {
    console.log(`\n=== ${f} ===`);
    const o = await runChild(f);
    if (o.status === 'ok') console.log(o.text);
    else if (REQUIRED.includes(f)) console.log(`${f} FAILED: ${o.reason}`);
    else { console.log(`${f}: skipped — ${firstLine(o.reason)}`); o.status = 'skipped'; }
    outcomes.push(o);
  }

  // Summary: every module's targets, then what did not run.
  const targets: (Target & { module: string })[] = [];
  for (const o of outcomes) {
    if (o.status !== 'ok' || !Array.isArray(o.result.targets)) continue;
    for (const t of o.result.targets as Target[]) targets.push({ ...t, module: o.module });
  }
  console.log('\n=== summary ===');
  if (targets.length) console.log(targetsTable(targets.map((t) => {
    const prefix = `${t.module.replace(/\.ts$/, '')}: `;
    return { ...t, name: t.name.startsWith(prefix) ? t.name : prefix + t.name };
  })));
  for (const o of outcomes) {
    if (o.status !== 'ok') console.log(`${o.module}: ${o.status} — ${firstLine(o.reason)}`);
  }

  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const json = {
    when: new Date().toISOString(),
    seconds,
    env: { node: process.version, v8: process.versions.v8, cpu: os.cpus()[0]?.model, cpus: os.cpus().length,
      platform: `${process.platform}-${process.arch}`, loadavg: os.loadavg(), kernel: os.release(), preemption: PREEMPTION },
    modules: Object.fromEntries(outcomes.map((o) => [o.module.replace(/\.ts$/, ''),
      o.status === 'ok' ? { status: o.status, seconds: o.seconds, result: o.result } : { status: o.status, seconds: o.seconds, reason: o.reason }])),
    targetsMet: targets.every((t) => t.met),
  };
  mkdirSync(path.dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(json, null, 2) + '\n');
  console.log(`\n${targets.filter((t) => t.met).length}/${targets.length} targets met; wrote ${path.relative(process.cwd(), RESULTS)} (${seconds.toFixed(1)} s)`);
  const requiredFailed = outcomes.some((o) => REQUIRED.includes(o.module) && o.status !== 'ok');
  return requiredFailed ? 1 : 0;
}

function firstLine(s: string): string {
  return s.split('\n')[0];
}

if (process.argv[2] === '--child' && process.argv[3] && process.send) {
  await child(process.argv[3]);
  process.exit(0);
} else {
  process.exitCode = await main();
}
