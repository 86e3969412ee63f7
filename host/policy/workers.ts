// Where the policy runtime's two worker threads come from. In a checkout: their TypeScript
// files (named from the root, two levels up, so the path holds from build/host/'s bundle too). In the single executable (packaging/build-sea.ts), which has no files: the sandbox's
// worker is one bundled script (an asset, run with eval), and the compiler's, which is jco with
// its own WebAssembly modules read from beside it, is unpacked (brotli assets) into a private
// directory made for it (0700, under a parent only we own: host/private-dir.ts), removed when the
// worker or the process stops.
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { brotliDecompressSync } from 'node:zlib';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inPrivateDir, PrivateDirError } from '../private-dir.ts';
import { VigilError } from '../errors.ts';

const { getRawAsset, isSea } = process.getBuiltinModule('node:sea');

// The assets build-sea.ts writes for the compiler: the bundle, then what it reads from beside
// itself (jco's bindgen modules; the WASI shim's I/O worker, which it starts when it loads).
export const SEA_COMPILER_FILES = ['compile-worker.mjs', 'js-component-bindgen-component.core.wasm', 'js-component-bindgen-component.core2.wasm', 'worker-thread.bundle.js'];
export const SEA_EVAL_WORKER = 'policy/eval-worker.cjs';

export function spawnEvalWorker(o: WorkerOptions): Worker {
  if (!isSea()) return new Worker(new URL('../../host/policy/eval-worker.ts', import.meta.url), o);
  return new Worker(new TextDecoder().decode(getRawAsset(SEA_EVAL_WORKER)), { ...o, eval: true });
}

export function spawnCompileWorker(o: WorkerOptions): Worker {
  if (!isSea()) return new Worker(new URL('../../host/policy/compile-worker.ts', import.meta.url), o);
  try {
    return inPrivateDir('policy-', (dir) => {
      for (const f of SEA_COMPILER_FILES) {
        writeFileSync(join(dir, f), brotliDecompressSync(new Uint8Array(getRawAsset(`policy/${f}.br`))), { mode: 0o400, flag: 'wx' });
      }
      const w = new Worker(join(dir, SEA_COMPILER_FILES[0]), o);
      // The files are read while the worker runs (jco's modules at its first transpile, the
      // WASI shim's worker when it starts): removed when it stops, or when this process exits first.
      const remove = () => rmSync(dir, { recursive: true, force: true });
      process.once('exit', remove);
      w.once('exit', () => { process.off('exit', remove); remove(); });
      return w;
    });
  } catch (e) {
    if (e instanceof PrivateDirError) throw new VigilError('VIGIL_EPRIVATE_DIR', `cannot unpack jco for the policy compiler: ${e.message}`);
    throw e;
  }
}
