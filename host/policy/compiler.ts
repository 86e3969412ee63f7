// Turns a policy file's bytes into what a sandbox loads: jco's JS glue plus the component's
// core modules with their memory capped. The glue is cached by the component's shape
// (component.ts), so a rebuilt policy with the same imports swaps without a transpile, and
// validated once: the component may import only what the host grants, and must export
// `evaluate` as the world declares it.
import type { Worker } from 'node:worker_threads';
import { PolicyError } from './errors.ts';
import { splitComponent } from './component.ts';
import { capMemory } from './memcap.ts';
import { spawnCompileWorker } from './workers.ts';

export const GRANTED = ['vigil:policy/probes@0.1.0', 'vigil:policy/log@0.1.0', 'vigil:policy/clock@0.1.0'];
const EVALUATE = 'evaluate(target: string, args: Array<[string, string]>): void';
const IDLE_MS = 30_000;
const TRANSPILE_MS = 20_000;

export interface Compiled {
  sha256: string;
  shape: string;            // component.ts's key: the same glue serves the same shape
  js: string;
  modules: Uint8Array[];
  imports: string[];
  transpiled: boolean;      // false: the glue came from the cache
}

interface Glue { js: string; imports: string[] }


export class Compiler {
  private readonly glue = new Map<string, Glue>();
  private worker: Worker | undefined;
  private idle: NodeJS.Timeout | undefined;
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: (g: Glue) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  async compile(bytes: Uint8Array, memoryPages: number): Promise<Compiled> {
    const parts = splitComponent(bytes);
    let glue = this.glue.get(parts.shapeKey);
    const transpiled = !glue;
    if (!glue) {
      glue = await this.transpile(bytes);
      this.glue.set(parts.shapeKey, glue);
    }
    const modules = parts.modules.map((m) => capMemory(m, memoryPages));
    return { sha256: parts.sha256, shape: parts.shapeKey, js: glue.js, modules, imports: glue.imports, transpiled };
  }

  private transpile(bytes: Uint8Array): Promise<Glue> {
    const w = this.startWorker();
    clearTimeout(this.idle);
    const id = ++this.seq;
    return new Promise<Glue>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.stopWorker(new PolicyError('VIGIL_EPOLICY_FORMAT', `jco did not finish reading the component within ${TRANSPILE_MS / 1000} s`));
      }, TRANSPILE_MS);
      this.waiting.set(id, { resolve, reject, timer });
      w.postMessage({ id, bytes });
    }).finally(() => {
      if (this.waiting.size === 0) { this.idle = setTimeout(() => this.stopWorker(), IDLE_MS); this.idle.unref(); }
    });
  }

  private startWorker(): Worker {
    if (this.worker) return this.worker;
    const w = spawnCompileWorker({ resourceLimits: { maxOldGenerationSizeMb: 512 }, stdout: false, stderr: false });
    w.unref();
    w.on('message', (m: { id: number; js?: string; dts?: string; imports?: string[]; error?: string }) => {
      const p = this.waiting.get(m.id);
      if (!p) return;
      this.waiting.delete(m.id);
      clearTimeout(p.timer);
      if (m.error !== undefined) { p.reject(new PolicyError('VIGIL_EPOLICY_FORMAT', `not a valid component: ${m.error}`)); return; }
      try { p.resolve(validate(m.js!, m.dts!)); } catch (err) { p.reject(err as Error); }
    });
    const gone = (why: string) => () => { if (this.worker === w) this.stopWorker(new PolicyError('VIGIL_EPOLICY_FORMAT', why)); };
    w.on('error', (err: Error) => gone(`jco failed reading the component: ${err.message}`)());
    w.on('exit', gone('jco stopped while reading the component'));
    this.worker = w;
    return w;
  }

  private stopWorker(err?: Error): void {
    const w = this.worker;
    this.worker = undefined;
    clearTimeout(this.idle);
    for (const [id, p] of this.waiting) {
      clearTimeout(p.timer);
      p.reject(err ?? new PolicyError('VIGIL_EPOLICY_FORMAT', 'the compiler was stopped'));
      this.waiting.delete(id);
    }
    void w?.terminate();
  }

  close(): void { this.stopWorker(); }
}

// What the glue's TypeScript declarations say the component imports and exports.
export function validate(js: string, dts: string): Glue {
  const imports = [...dts.matchAll(/^\s*'([^']+)': typeof /gm)].map((m) => m[1]);
  const forbidden = imports.filter((i) => !GRANTED.includes(i));
  if (forbidden.length) {
    throw new PolicyError('VIGIL_EPOLICY_IMPORT', `the component imports ${forbidden.join(', ')}, which vigil does not grant: a policy may import only ${GRANTED.join(', ')}`);
  }
  const root = /export interface Root \{([\s\S]*?)\n\}/.exec(dts)?.[1] ?? '';
  if (!root.includes(EVALUATE)) {
    const found = root.trim().split('\n').map((l) => l.trim().replace(/,$/, '')).filter(Boolean);
    throw new PolicyError('VIGIL_EPOLICY_EXPORT', `the component does not export evaluate: func(target: string, args: list<tuple<string, string>>) -> result<_, string>${found.length ? ` (it exports ${found.join('; ')})` : ''}: build it for the world vigil:policy/policy in policies/wit/policy.wit`);
  }
  if (/^\s*import\s/m.test(js)) throw new PolicyError('VIGIL_EPOLICY_IMPORT', 'the component needs host modules vigil does not provide');
  return { js, imports };
}
