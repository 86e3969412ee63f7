// The sandbox a policy runs in: one worker thread per policy, holding one instance of the
// component. The component sees only the imports built here: probes that the parent runs (the
// worker blocks on a shared flag meanwhile, so a component's synchronous import call can wait
// for asynchronous I/O), a rate-limited log, and a monotonic clock. The parent owns every
// limit: it kills this thread when a round runs past its CPU budget, the JS heap is capped by
// resourceLimits, and the linear memory by the maximum memcap.ts wrote into the module.
//
// Messages in:  { t: 'load', gen, shape, js, modules }  { t: 'eval', id, target, args }
// Messages out: { t: 'loaded', gen } { t: 'load-error', gen, code, message }
//               { t: 'probe', kind, args } { t: 'log', level, message }
//               { t: 'result', id, ok, reason?, code? }
import { parentPort, workerData } from 'node:worker_threads';
import { PolicyError } from './errors.ts';

interface Root { evaluate(target: string, args: [string, string][]): void }
type Instantiate = (getCoreModule: (p: string) => Promise<WebAssembly.Module>, imports: object,
  instantiateCore?: (m: WebAssembly.Module, i: WebAssembly.Imports) => Promise<WebAssembly.Instance>) => Promise<Root>;

const port = parentPort!;
const ctl = new Int32Array(workerData.ctl as SharedArrayBuffer);    // [0] 1 = answer ready, [1] its length
const data = new Uint8Array(workerData.data as SharedArrayBuffer);
const probeWaitMs = workerData.probeWaitMs as number;
const decoder = new TextDecoder();
const LEVELS = ['debug', 'info', 'warn', 'error'];

let current: { root: Root; memories: WebAssembly.Memory[] } | undefined;
// jco's glue by the component's shape: a swap to a policy of the same shape (component.ts)
// skips parsing ~100 KB of JavaScript again.
const glues = new Map<string, Promise<{ instantiate: Instantiate }>>();

// A synchronous import that waits for the parent to run the probe.
function probe(kind: string, args: unknown[]): unknown {
  Atomics.store(ctl, 0, 0);
  port.postMessage({ t: 'probe', kind, args });
  if (Atomics.wait(ctl, 0, 0, probeWaitMs) === 'timed-out') throw new PolicyError('VIGIL_EPOLICY_BUSY', `the ${kind} probe got no answer from the host`);
  return JSON.parse(decoder.decode(data.slice(0, ctl[1])));
}

const str = (v: unknown) => (typeof v === 'string' ? v : String(v));
const granted = {
  'vigil:policy/probes@0.1.0': {
    http: (method: string, p: number, path: string, tls: boolean) => probe('http', [str(method), p, str(path), !!tls]),
    tcp: (p: number, send: string) => probe('tcp', [p, str(send)]),
    dns: (name: string, qtype: string) => probe('dns', [str(name), str(qtype)]),
    icmp: () => {
      const r = probe('icmp', []) as { ok: boolean; latencyUs?: number; error?: string };
      if (r.ok) return r.latencyUs;
      // jco lowers a thrown value with a payload to the result's err case.
      throw Object.assign(new Error(r.error), { payload: r.error });
    },
  },
  'vigil:policy/log@0.1.0': {
    log: (level: string | number, message: string) => {
      port.postMessage({ t: 'log', level: typeof level === 'number' ? LEVELS[level] ?? 'info' : str(level), message: str(message).slice(0, 500) });
    },
  },
  'vigil:policy/clock@0.1.0': {
    nowUs: () => BigInt(Math.floor(performance.now() * 1000)),
  },
};
// jco's glue names an import by its interface, without the package version (the versions
// were checked when the glue was validated: compiler.ts).
const imports = Object.fromEntries(Object.entries(granted).flatMap(([k, v]) => [[k, v], [k.replace(/@[^@]*$/, ''), v]]));

async function load(shape: string, js: string, modules: Uint8Array[]): Promise<void> {
  let glue = glues.get(shape);
  if (!glue) {
    glue = import(`data:text/javascript;base64,${Buffer.from(js).toString('base64')}`) as Promise<{ instantiate: Instantiate }>;
    glues.set(shape, glue);
    glue.catch(() => glues.delete(shape));
  }
  const { instantiate } = await glue;
  const compiled = await Promise.all(modules.map((m) => WebAssembly.compile(m as Uint8Array<ArrayBuffer>)));
  current = await instantiateWith(instantiate, compiled);
  fresh = () => instantiateWith(instantiate, compiled);
  poisoned = false;
}

// A fresh instance of the loaded policy: jco will not enter an instance again after it trapped.
let fresh: (() => Promise<NonNullable<typeof current>>) | undefined;
let poisoned = false;

async function instantiateWith(instantiate: Instantiate, compiled: WebAssembly.Module[]): Promise<NonNullable<typeof current>> {
  const memories: WebAssembly.Memory[] = [];
  const root = await instantiate(
    async (p) => {
      const n = /\.core(\d*)\.wasm$/.exec(p);
      const m = n ? compiled[(n[1] ? Number(n[1]) : 1) - 1] : undefined;
      if (!m) throw new PolicyError('VIGIL_EPOLICY_FORMAT', `the component asks for a core module ${p} it does not carry`);
      return m;
    },
    imports,
    async (m, i) => {
      const inst = await WebAssembly.instantiate(m, i);
      for (const v of Object.values(inst.exports)) if (v instanceof WebAssembly.Memory) memories.push(v);
      return inst;
    },
  );
  if (typeof root?.evaluate !== 'function') throw new PolicyError('VIGIL_EPOLICY_EXPORT', 'the component exports no evaluate function');
  return { root, memories };
}

function verdict(id: number, target: string, args: [string, string][]): object {
  if (!current) return { t: 'result', id, ok: false, code: 'VIGIL_EPOLICY_CRASH', reason: 'no policy loaded' };
  try {
    current.root.evaluate(target, args);
    return { t: 'result', id, ok: true };
  } catch (err) {
    const e = err as { payload?: unknown; message?: string; name?: string };
    // The component's own err(...) verdict.
    if (e && e.payload !== undefined && !(err instanceof WebAssembly.RuntimeError)) return { t: 'result', id, ok: false, reason: str(e.payload).slice(0, 500) };
    poisoned = true;
    // A grow past the cap returns -1 and the policy then traps (or aborts): a trap with its
    // memory (nearly) full is the memory limit at work. Grows come in steps (AssemblyScript's
    // allocators ask for 1 MiB or more at a time), so "nearly": within max(1 MiB, 1/8 cap).
    const cap = workerData.memoryCapBytes as number;
    const used = Math.max(0, ...current.memories.map((m) => m.buffer.byteLength));
    if (cap - used < Math.max(2 ** 20, cap / 8)) {
      const mib = (n: number) => `${Math.round((n / 2 ** 20) * 10) / 10} MiB`;
      return { t: 'result', id, ok: false, code: 'VIGIL_EPOLICY_MEMORY', reason: `the policy hit its ${mib(cap)} memory limit (${mib(used)} in use) and stopped: ${e?.message ?? String(err)}` };
    }
    return { t: 'result', id, ok: false, code: 'VIGIL_EPOLICY_TRAP', reason: `the policy trapped: ${e?.message ?? String(err)}` };
  }
}

port.on('message', (m: { t: string; gen?: number; shape?: string; js?: string; modules?: Uint8Array[]; id?: number; target?: string; args?: [string, string][] }) => {
  if (m.t === 'load') {
    load(m.shape!, m.js!, m.modules!).then(
      () => port.postMessage({ t: 'loaded', gen: m.gen }),
      (err: { code?: string; message?: string }) => port.postMessage({
        t: 'load-error', gen: m.gen, code: err?.code?.startsWith('VIGIL_') ? err.code : 'VIGIL_EPOLICY_FORMAT',
        message: err instanceof WebAssembly.RuntimeError ? `the policy trapped while starting: ${err.message}` : String(err?.message ?? err),
      }),
    );
  } else if (m.t === 'eval') {
    if (!poisoned || !fresh) { port.postMessage(verdict(m.id!, m.target!, m.args!)); return; }
    // The last round trapped: this one gets a new instance (module state starts over).
    fresh().then((c) => { current = c; poisoned = false; port.postMessage(verdict(m.id!, m.target!, m.args!)); },
      (err: Error) => port.postMessage({ t: 'result', id: m.id, ok: false, code: 'VIGIL_EPOLICY_TRAP', reason: `the policy trapped while starting again: ${err.message}` }));
  }
});
