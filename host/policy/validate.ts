// A policy checked the way the checker loads it (compile, imports, exports, memory limit,
// instantiated in a sandbox; no round is run, so no probe goes out), for `vigil check` and
// `vigil policy check / load`.
import { Compiler } from './compiler.ts';
import { Sandbox } from './sandbox.ts';
import { readPolicyFile } from './registry.ts';

export interface Validated { sha256: string; imports: string[] }

export async function validatePolicy(files: string[], limits: { memoryPages: number; cpuUs: number }): Promise<(Validated | Error)[]> {
  const quiet = { info() {}, warn() {}, debug() {} };
  const compiler = new Compiler();
  try {
    return await Promise.all(files.map(async (file) => {
      const box = new Sandbox('check', { ...limits, heapMb: 64 }, quiet);
      try {
        const c = await compiler.compile(await readPolicyFile(file), limits.memoryPages);
        await box.load(c);
        return { sha256: c.sha256, imports: c.imports };
      } catch (err) {
        return err as Error;
      } finally {
        await box.close();
      }
    }));
  } finally {
    compiler.close();
  }
}
