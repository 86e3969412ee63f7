// The checker's policies: one sandbox per policy of the config, loaded at start, and swapped
// when its file changes (edited in place, or replaced by `vigil policy load`, which renames a
// new file over it). A file that does not load is refused and logged, and the policy already
// running keeps running; a policy that never loaded fails its checks' rounds with the reason.
import { readFile } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { CheckSpec, PolicySpec } from '../config/types.ts';
import { Compiler } from './compiler.ts';
import { PolicyError } from './errors.ts';
import { Sandbox, type PolicyLog } from './sandbox.ts';
import type { PolicyReport } from './types.ts';
import { readBuiltin } from './builtin.ts';

// A file renamed into place (vigil policy load, mv) is complete at once; one written in place
// comes as several change events: wait for them to stop.
const SETTLE_RENAME_MS = 1;
const SETTLE_WRITE_MS = 15;
const HEAP_MB = 64;

export async function readPolicyFile(file: string): Promise<Uint8Array> {
  if (file.startsWith('builtin:')) return readBuiltin(file.slice('builtin:'.length));
  try {
    return new Uint8Array(await readFile(file));
  } catch (err) {
    throw new PolicyError('VIGIL_EPOLICY_READ', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export class Policies {
  private readonly compiler = new Compiler();
  private readonly sandboxes = new Map<string, { spec: PolicySpec; box: Sandbox; timer?: NodeJS.Timeout; seenAt: number; busy: Promise<void> }>();
  private readonly watchers: FSWatcher[] = [];
  private readonly log: PolicyLog;

  constructor(specs: PolicySpec[], log: PolicyLog) {
    this.log = log;
    for (const spec of specs) {
      this.sandboxes.set(spec.name, {
        spec, seenAt: 0, busy: Promise.resolve(),
        box: new Sandbox(spec.name, { memoryPages: spec.memoryPages, cpuUs: spec.cpuUs, heapMb: HEAP_MB }, log),
      });
    }
  }

  // Loads every policy (a failure is logged, not thrown: its checks fail with the reason) and
  // starts watching their files.
  async start(): Promise<void> {
    await Promise.all([...this.sandboxes.keys()].map((name) => this.reload(name, 'start')));
    const dirs = new Map<string, Set<string>>();
    for (const { spec } of this.sandboxes.values()) {
      if (spec.file.startsWith('builtin:')) continue;
      const d = dirname(spec.file);
      if (!dirs.has(d)) dirs.set(d, new Set());
      dirs.get(d)!.add(basename(spec.file));
    }
    for (const [dir] of dirs) {
      try {
        const w = watch(dir, { persistent: false }, (event, file) => this.changed(dir, file ? String(file) : null, event === 'rename'));
        w.on('error', (err) => this.log.warn(`policies: watching ${dir} failed: ${err.message}; swap policies with \`vigil policy load\` or a restart`));
        this.watchers.push(w);
      } catch (err) {
        this.log.warn(`policies: cannot watch ${dir}: ${(err as Error).message}`);
      }
    }
  }

  private changed(dir: string, file: string | null, renamed: boolean): void {
    for (const [name, s] of this.sandboxes) {
      if (dirname(s.spec.file) !== dir || (file !== null && basename(s.spec.file) !== file)) continue;
      if (!s.timer) s.seenAt = performance.now();
      clearTimeout(s.timer);
      s.timer = setTimeout(() => { s.timer = undefined; void this.reload(name, 'file changed'); }, renamed ? SETTLE_RENAME_MS : SETTLE_WRITE_MS);
    }
  }

  // Reads, compiles and loads the policy's file. Loads of one policy run one after the other.
  reload(name: string, why: string): Promise<void> {
    const s = this.sandboxes.get(name);
    if (!s) return Promise.resolve();
    const seenAt = why === 'start' ? performance.now() : s.seenAt || performance.now();
    s.busy = s.busy.then(async () => {
      let counted = false;
      try {
        const bytes = await readPolicyFile(s.spec.file);
        const c = await this.compiler.compile(bytes, s.spec.memoryPages);
        if (c.sha256 === s.box.stats.sha256) return;       // touched, not changed
        const swap = s.box.stats.sha256 !== null;
        counted = true;                                     // load() counts its own refusals
        await s.box.load(c, seenAt);
        this.log.info(swap ? `policy ${name}: swapped to ${c.sha256.slice(0, 12)} in ${s.box.stats.lastSwapMs} ms${c.transpiled ? '' : ' (same shape: no transpile)'}`
          : `policy ${name}: loaded ${c.sha256.slice(0, 12)} from ${s.spec.file}`, { policy: name, sha256: c.sha256, swapMs: s.box.stats.lastSwapMs });
      } catch (err) {
        const e = err as PolicyError;
        if (!counted) { s.box.stats.refused++; s.box.stats.lastRefusal = e.message; }
        this.log.warn(`policy ${name}: ${s.spec.file} refused (${why}): ${e.message}${s.box.stats.sha256 ? `; still running ${s.box.stats.sha256.slice(0, 12)}` : '; its checks fail until it loads'}`, { policy: name, code: e.code });
      }
    });
    return s.busy;
  }

  evaluate(c: CheckSpec, signal: AbortSignal): Promise<void> {
    const s = this.sandboxes.get(c.policy ?? '');
    if (!s) return Promise.reject(new Error(`no policy ${c.policy}`));
    return s.box.evaluate(c, signal);
  }

  report(name: string): PolicyReport | null {
    const s = this.sandboxes.get(name);
    return s ? { name, file: s.spec.file, ...s.box.stats, kills: { ...s.box.stats.kills } } : null;
  }

  async close(): Promise<void> {
    for (const w of this.watchers.splice(0)) w.close();
    for (const s of this.sandboxes.values()) clearTimeout(s.timer);
    this.compiler.close();
    await Promise.all([...this.sandboxes.values()].map((s) => s.box.close()));
  }
}
