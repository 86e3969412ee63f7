// The policy runtime's share of the single executable (packaging/build-sea.ts), as SEA assets:
//   - policies/NAME.wasm: the built-in policies (host/policy/builtin.ts reads them);
//   - policy/eval-worker.cjs: the sandbox's worker, one script (host/policy/workers.ts runs it
//     with eval: the executable has no file to point a Worker at);
//   - policy/*.br: the compiler's worker, jco bundled, and what it reads from beside itself
//     (jco's bindgen modules, the WASI shim's I/O worker), brotli-compressed (4.6 MB become
//     1 MB: the executable's size has a budget); workers.ts unpacks them into a private
//     directory when the compiler starts.
// Returns the assets (name -> file) to add to the SEA config; files go into `dir`.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { brotliCompressSync, constants } from 'node:zlib';
import { rolldown, type Plugin } from 'rolldown';
import { BUILTIN_POLICIES } from '../host/config/policies.ts';
import { SEA_COMPILER_FILES, SEA_EVAL_WORKER } from '../host/policy/workers.ts';

// jco's transpile path imports oxc-minify (a native addon) for its `minify` option, which vigil
// never sets: it must not reach the executable.
const noMinify: Plugin = {
  name: 'vigil-no-minify',
  resolveId: (id) => (id === 'oxc-minify' ? '\0no-minify' : null),
  load: (id) => (id === '\0no-minify' ? 'export function minify() { throw new Error("minify is not in vigil\'s executable"); }' : null),
};

// jco's wasm-tools component (2.4 MB) serves its `stub` option and the wasm-tools API, never
// transpiling a component's bytes: out of the executable's budget.
const noWasmTools: Plugin = {
  name: 'vigil-no-wasm-tools',
  resolveId: (id, importer) => (id === '../vendor/wasm-tools.js' && importer?.includes('jco-transpile') ? '\0no-wasm-tools' : null),
  load: (id) => (id === '\0no-wasm-tools' ? 'export const $init = Promise.resolve(); export const tools = new Proxy({}, { get: () => () => { throw new Error("wasm-tools is not in vigil\'s executable"); } });' : null),
};

async function bundle(input: string, file: string, format: 'esm' | 'cjs', plugins: Plugin[] = []): Promise<void> {
  const b = await rolldown({ input, platform: 'node', plugins, external: [/^node:/], logLevel: 'silent' });
  const { output } = await b.write({ file, format, codeSplitting: false, sourcemap: false });
  await b.close();
  if (output.length !== 1) throw new Error(`${input}: expected one chunk, got ${output.map((o) => o.fileName).join(', ')}`);
}

export async function policyAssets(root: string, dir: string): Promise<Record<string, string>> {
  const assets: Record<string, string> = {};
  // Brotli-compressed too (57 kB become ~20): host/policy/builtin.ts unpacks one when it is used.
  for (const name of BUILTIN_POLICIES) {
    const out = join(dir, `${name}.wasm.br`);
    writeFileSync(out, brotliCompressSync(readFileSync(join(root, 'policies', 'build', `${name}.wasm`)), { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
    assets[`policies/${name}.wasm.br`] = out;
  }

  const evalFile = join(dir, 'eval-worker.cjs');
  await bundle(join(root, 'host/policy/eval-worker.ts'), evalFile, 'cjs');
  assets[SEA_EVAL_WORKER] = evalFile;

  const compileFile = join(dir, SEA_COMPILER_FILES[0]);
  await bundle(join(root, 'host/policy/compile-worker.ts'), compileFile, 'esm', [noMinify, noWasmTools]);
  // jco's own modules, from the package its transpile comes from, and the WASI shim that package uses.
  const jco = createRequire(join(root, 'package.json')).resolve('@bytecodealliance/jco');
  const transpile = createRequire(jco).resolve('@bytecodealliance/jco-transpile');
  const dirs = [join(dirname(dirname(transpile)), 'vendor'), join(dirname(dirname(createRequire(transpile).resolve('@bytecodealliance/preview2-shim/io'))), 'io')];
  for (const f of SEA_COMPILER_FILES) {
    const src = f === SEA_COMPILER_FILES[0] ? compileFile : dirs.map((d) => join(d, f)).find((x) => existsSync(x));
    if (!src) throw new Error(`${f} is not in ${dirs.join(' or ')}: update host/policy/workers.ts for this jco`);
    const out = join(dir, `${f}.br`);
    writeFileSync(out, brotliCompressSync(readFileSync(src), { params: { [constants.BROTLI_PARAM_QUALITY]: 9 } }));
    assets[`policy/${f}.br`] = out;
  }
  return assets;
}
