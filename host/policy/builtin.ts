// The policies vigil ships (policies/src/, built by `make policies`): from the checkout's
// build directory, or from the single executable's assets.
import { readFileSync } from 'node:fs';
import { PolicyError } from './errors.ts';

type Sea = { isSea(): boolean; getRawAsset(name: string): ArrayBuffer };
function sea(): Sea | undefined {
  try {
    const s = (process as unknown as { getBuiltinModule(n: string): Sea | undefined }).getBuiltinModule('node:sea');
    return s?.isSea() ? s : undefined;
  } catch { return undefined; }
}

export function readBuiltin(name: string): Uint8Array {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new PolicyError('VIGIL_EPOLICY_READ', `no built-in policy ${JSON.stringify(name)}`);
  const s = sea();
  try {
    if (s) return new Uint8Array(s.getRawAsset(`policies/${name}.wasm`));
    return new Uint8Array(readFileSync(new URL(`../../policies/build/${name}.wasm`, import.meta.url)));
  } catch (err) {
    throw new PolicyError('VIGIL_EPOLICY_READ', `the built-in policy ${name} is missing (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): run \`make policies\``);
  }
}
