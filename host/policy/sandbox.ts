// One policy at run time: its worker (eval-worker.ts), its limits, its rounds, its swaps.
//
// Rounds of every check that uses the policy queue here and run one at a time. The CPU budget
// is the worker thread's CPU time in a round (Worker.cpuUsage, read from outside the thread):
// waiting for a probe costs none, so a slow backend never counts against the policy, nor does
// a busy machine's run queue; a loop does. When the budget runs out, the worker is terminated (V8 stops even a tight WebAssembly loop), the
// round fails with VIGIL_EPOLICY_CPU, and the next round starts a fresh worker from the same
// compiled policy. A load (a hot swap) is a message to the same worker, so it lands between two
// rounds, and only if the new policy instantiates; otherwise the old one keeps running.
import { Worker } from 'node:worker_threads';
import type { CheckSpec } from '../config/types.ts';
import { PolicyError, reasonOf, type PolicyCode } from './errors.ts';
import type { Compiled } from './compiler.ts';
import { spawnEvalWorker } from './workers.ts';
import { PAGE } from './memcap.ts';
import * as probes from './probes.ts';
import type { PolicyStats } from './types.ts';

export interface PolicyLimits {
  memoryPages: number;    // linear memory cap
  cpuUs: number;          // compute time per round (and per load)
  heapMb: number;         // the worker's JS heap (jco's glue lives there)
}

export interface PolicyLog { info(msg: string, f?: object): void; warn(msg: string, f?: object): void; debug(msg: string, f?: object): void }


const DATA_BYTES = 256 * 1024;
const LOG_PER_ROUND = 20;
const LOAD_MS = 5000;

interface Round {
  id: number;
  spec: CheckSpec;
  signal: AbortSignal;
  resolve: () => void;
  reject: (e: Error) => void;
}


export class Sandbox {
  readonly name: string;
  private readonly limits: PolicyLimits;
  private readonly log: PolicyLog;
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private compiled: Compiled | undefined;
  private readonly ctl = new SharedArrayBuffer(8);
  private readonly data = new SharedArrayBuffer(DATA_BYTES);
  private readonly ctlView = new Int32Array(this.ctl);
  private readonly dataView = new Uint8Array(this.data);
  private readonly queue: Round[] = [];
  private running: Round | undefined;
  private seq = 0;
  private gen = 0;
  private readonly loads = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private loading = 0;
  private restarting = false;
  private lastKill: { code: PolicyCode; why: string } | undefined;
  private idleWaiters: (() => void)[] = [];
  private budget: { timer: NodeJS.Timeout | undefined } | undefined;
  private logged = 0;
  private closed = false;
  readonly stats: PolicyStats = { sha256: null, loadedAt: null, loads: 0, refused: 0, lastRefusal: null, lastSwapMs: null, evaluations: 0, kills: {}, workerStarts: 0 };

  constructor(name: string, limits: PolicyLimits, log: PolicyLog) {
    this.name = name;
    this.limits = limits;
    this.log = log;
  }

  // Loads (or swaps in) a compiled policy. Resolves once it answers; rejects, keeping the old
  // one, when it does not instantiate within its budget.
  async load(c: Compiled, seenAt = performance.now()): Promise<void> {
    const first = !this.compiled;
    // Between rounds: no round starts while a load is in flight, and a load waits for the
    // round in flight.
    this.loading++;
    try {
      while (this.running) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      await this.ensureWorker();
      await this.send(c);
    } catch (err) {
      this.stats.refused++;
      this.stats.lastRefusal = (err as Error).message;
      throw err;
    } finally {
      this.loading--;
      queueMicrotask(() => this.next());
    }
    this.compiled = c;
    this.stats.sha256 = c.sha256;
    this.stats.loadedAt = new Date().toISOString();
    this.stats.loads++;
    if (!first) this.stats.lastSwapMs = Math.round((performance.now() - seenAt) * 1000) / 1000;
  }

  private send(c: Compiled): Promise<void> {
    const gen = ++this.gen;
    return new Promise<void>((resolve, reject) => {
      this.loads.set(gen, { resolve, reject });
      // Starting includes compiling the modules and jco's glue: a budget of its own, which
      // still stops a start function that loops.
      const ms = Math.max(LOAD_MS, (10 * this.limits.cpuUs) / 1000);
      this.stopBudget();
      this.budget = { timer: setTimeout(() => this.kill('VIGIL_EPOLICY_CPU', `the policy did not start within ${ms} ms`), ms) };
      this.worker!.postMessage({ t: 'load', gen, shape: c.shape, js: c.js, modules: c.modules });
    }).finally(() => this.stopBudget());
  }

  evaluate(spec: CheckSpec, signal: AbortSignal): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the checker is stopping'));
    if (!this.compiled) return Promise.reject(new PolicyError('VIGIL_EPOLICY_CRASH', `policy ${this.name} is not loaded${this.stats.lastRefusal ? `: ${this.stats.lastRefusal}` : ''}`));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ id: ++this.seq, spec, signal, resolve, reject });
      this.next();
    });
  }

  private next(): void {
    if (this.running || this.closed || this.loading) return;
    let r: Round | undefined;
    while ((r = this.queue.shift())) {
      if (!r.signal.aborted) break;
      r.reject(new PolicyError('VIGIL_EPOLICY_BUSY', `timed out waiting for policy ${this.name} (busy with other checks' rounds)`));
    }
    if (!r) return;
    // A round due while the sandbox restarts after a kill fails at once with why it was
    // killed: clearer than the round's timeout, which the restart would otherwise eat.
    if (this.lastKill && this.restarting) {
      const k = this.lastKill;
      r.reject(new PolicyError(k.code, `${k.why} (its sandbox is restarting)`));
      queueMicrotask(() => this.next());
      return;
    }
    this.running = r;
    this.logged = 0;
    void this.ensureWorker().then(() => {
      if (this.running !== r) return;
      this.stats.evaluations++;
      this.startCpuBudget(this.worker!);
      this.worker!.postMessage({ t: 'eval', id: r.id, target: r.spec.target, args: r.spec.args ?? [] });
    }, (err: Error) => this.finish(r, err));
  }

  private finish(r: Round, err?: Error): void {
    if (this.running !== r) return;
    this.running = undefined;
    this.stopBudget();
    if (err) r.reject(err); else r.resolve();
    for (const w of this.idleWaiters.splice(0)) w();
    this.next();
  }

  // ---- the worker ------------------------------------------------------------------------------

  private ensureWorker(): Promise<void> {
    if (this.ready) return this.ready;
    this.stats.workerStarts++;
    const w = spawnEvalWorker({
      workerData: { ctl: this.ctl, data: this.data, probeWaitMs: 60_000, memoryCapBytes: this.limits.memoryPages * PAGE },
      resourceLimits: { maxOldGenerationSizeMb: this.limits.heapMb, maxYoungGenerationSizeMb: 4, stackSizeMb: 1 },
      stdout: false, stderr: false,
    });
    this.worker = w;
    w.on('message', (m) => this.onMessage(w, m));
    w.on('error', (err: Error & { code?: string }) => {
      if (this.worker !== w) return;
      const oom = err.code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.lost(oom ? 'VIGIL_EPOLICY_MEMORY' : 'VIGIL_EPOLICY_CRASH', oom ? `the policy ran its worker out of its ${this.limits.heapMb} MiB heap` : `the policy's worker failed: ${err.message}`);
    });
    w.on('exit', () => { if (this.worker === w) this.lost('VIGIL_EPOLICY_CRASH', 'the policy\'s worker exited'); });
    // A new worker after a kill gets the current policy back before its next round. Budgets
    // count from when the thread runs, not from when it was asked for.
    const online = new Promise<void>((resolve) => w.once('online', () => resolve()));
    const c = this.compiled;
    this.ready = online.then(() => (c && this.worker === w ? this.send(c) : undefined));
    this.ready.catch(() => { if (this.worker === w) this.lost('VIGIL_EPOLICY_CRASH', 'the policy failed to start again'); });
    return this.ready;
  }

  private onMessage(w: Worker, m: { t: string; gen?: number; id?: number; ok?: boolean; reason?: string; code?: string; message?: string; kind?: string; args?: unknown[]; level?: string }): void {
    if (w !== this.worker) return;
    switch (m.t) {
      case 'loaded': case 'load-error': {
        const p = this.loads.get(m.gen!);
        this.loads.delete(m.gen!);
        if (m.t === 'loaded') p?.resolve();
        else p?.reject(new PolicyError((m.code ?? 'VIGIL_EPOLICY_FORMAT') as PolicyCode, m.message ?? 'load failed'));
        return;
      }
      case 'result': {
        const r = this.running;
        if (!r || r.id !== m.id) return;
        if (m.ok) { this.finish(r); return; }
        if (m.code) this.count(m.code);
        this.finish(r, m.code ? new PolicyError(m.code as PolicyCode, m.reason ?? 'failed') : new Error(m.reason || 'the policy failed the round without a reason'));
        return;
      }
      case 'probe': void this.probe(w, m.kind!, m.args ?? []); return;
      case 'log':
        if (++this.logged > LOG_PER_ROUND) return;
        this.log[m.level === 'warn' || m.level === 'error' ? 'warn' : m.level === 'debug' ? 'debug' : 'info'](`policy ${this.name}${this.running ? ` (check ${this.running.spec.name})` : ''}: ${m.message}`, { policy: this.name });
    }
  }

  private async probe(w: Worker, kind: string, args: unknown[]): Promise<void> {
    const r = this.running;
    let answer: unknown;
    if (!r) answer = { error: 'probes run only during a round' };
    else {
      const s = r.spec, sig = r.signal;
      const num = (v: unknown) => (typeof v === 'number' && v >= 0 && v <= 65535 ? v : 0);
      const text = (v: unknown) => (typeof v === 'string' ? v : '');
      switch (kind) {
        case 'http': answer = await probes.http(s, text(args[0]), num(args[1]), text(args[2]), args[3] === true, sig); break;
        case 'tcp': answer = await probes.tcp(s, num(args[0]), text(args[1]).slice(0, 4096), sig); break;
        case 'dns': answer = await probes.dns(s, text(args[0]), text(args[1]), sig); break;
        case 'icmp': answer = await probes.icmp(s, sig); break;
        default: answer = { error: `no probe ${kind}` };
      }
    }
    if (w !== this.worker) return;
    const bytes = new TextEncoder().encode(JSON.stringify(answer));
    if (bytes.length > DATA_BYTES) return this.kill('VIGIL_EPOLICY_CRASH', 'a probe answer did not fit the sandbox buffer');
    this.dataView.set(bytes);
    Atomics.store(this.ctlView, 1, bytes.length);
    Atomics.store(this.ctlView, 0, 1);
    Atomics.notify(this.ctlView, 0);
  }

  // ---- the CPU budget ---------------------------------------------------------------------------

  // A wall-clock timer set to the CPU time left: the thread cannot have used more CPU than the
  // wall time that passed, so when it fires the thread's CPU time is read, and the policy is
  // stopped if it is over, else the timer is set again for what is left.
  private startCpuBudget(w: Worker): void {
    this.stopBudget();
    const budgetUs = this.limits.cpuUs;
    const cpu = async () => { const u = await w.cpuUsage(); return u.user + u.system; };
    const start = cpu();
    const b: { timer: NodeJS.Timeout | undefined } = { timer: undefined };
    const arm = (ms: number) => {
      b.timer = setTimeout(() => {
        void Promise.all([start, cpu()]).then(([s0, now]) => {
          if (this.budget !== b) return;
          const left = budgetUs - (now - s0);
          if (left <= 0) this.kill('VIGIL_EPOLICY_CPU', `the policy ran past its CPU budget of ${budgetUs / 1000} ms`);
          else arm(Math.max(1, left / 1000));
        }, () => {});
      }, ms);
    };
    this.budget = b;
    arm(budgetUs / 1000);
  }

  private stopBudget(): void {
    if (this.budget?.timer) clearTimeout(this.budget.timer);
    this.budget = undefined;
  }

  // ---- failures ---------------------------------------------------------------------------------

  private count(code: string): void {
    const k = reasonOf(code);
    this.stats.kills[k] = (this.stats.kills[k] ?? 0) + 1;
  }

  // Stops the worker; the round (or load) in flight fails with `code`.
  private kill(code: PolicyCode, why: string): void {
    const w = this.worker;
    this.lost(code, why);
    void w?.terminate();
  }

  // The worker is gone (killed, out of heap, crashed): fail what it was doing, start afresh next time.
  private lost(code: PolicyCode, why: string): void {
    const w = this.worker;
    if (!w) return;
    this.worker = undefined;
    this.ready = undefined;
    this.stopBudget();
    void w.terminate();
    this.count(code);
    if (this.running || this.loads.size) this.log.warn(`policy ${this.name}: ${why}`, { policy: this.name, code });
    const err = new PolicyError(code, why);
    const wasStarting = this.loads.size > 0;
    for (const [, p] of this.loads) p.reject(err);
    this.loads.clear();
    if (this.running) this.finish(this.running, err);
    // The next worker starts now, not at the next round: starting one (a thread, jco's glue,
    // the modules) takes longer than many a check's timeout. Not after a failed start, which
    // would only fail again, in a loop.
    if (!wasStarting && !this.closed && this.compiled && !this.worker) {
      this.lastKill = { code, why };
      this.restarting = true;
      const done = () => { this.restarting = false; };
      void this.ensureWorker().then(done, done);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const err = new Error('the checker is stopping');
    for (const r of this.queue.splice(0)) r.reject(err);
    const w = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    this.stopBudget();
    if (this.running) { const r = this.running; this.running = undefined; r.reject(err); }
    await w?.terminate();
  }
}
