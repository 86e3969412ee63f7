// jco's transpiler, in a thread of its own: it is large (a 3.5 MB WebAssembly module of its
// own, ~100 MB while it works), slow the first time (~0.3 s), and it parses untrusted bytes.
// Here it neither blocks the checker's rounds nor can take the checker down; the parent
// stops this thread when it has been idle a while.
import { parentPort } from 'node:worker_threads';

const port = parentPort!;
type Transpile = (c: Uint8Array, o: object) => Promise<{ files: [string, Uint8Array][] | Record<string, Uint8Array>; imports: string[]; exports: [string, string][] }>;
let transpileBytes: Promise<Transpile> | undefined;

port.on('message', async (m: { id: number; bytes: Uint8Array }) => {
  try {
    const transpile = await (transpileBytes ??= import('@bytecodealliance/jco').then((x) => x.transpile as unknown as Transpile));
    const out = await transpile(m.bytes, { name: 'policy', instantiation: { tag: 'async' } });
    const files = Array.isArray(out.files) ? Object.fromEntries(out.files) : out.files;
    const text = (n: string) => (files[n] ? new TextDecoder().decode(files[n]) : '');
    port.postMessage({ id: m.id, js: text('policy.js'), dts: text('policy.d.ts'), imports: out.imports, exports: out.exports });
  } catch (err) {
    port.postMessage({ id: m.id, error: String((err as Error)?.message ?? err).slice(0, 2000) });
  }
});
