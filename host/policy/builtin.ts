// The policies vigil ships (policies/src/, built by `make policies`): from the checkout's
// build directory, or from the single executable's assets.
import { readFileSync } from 'node:fs';
import { brotliDecompressSync } from 'node:zlib';
import { PolicyError } from './errors.ts';

const { getRawAsset, isSea } = process.getBuiltinModule('node:sea');

export function readBuiltin(name: string): Uint8Array {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new PolicyError('VIGIL_EPOLICY_READ', `no built-in policy ${JSON.stringify(name)}`);
  try {
    // Brotli in the executable (packaging/policy-assets.ts: its size has a budget).
    if (isSea()) return new Uint8Array(brotliDecompressSync(new Uint8Array(getRawAsset(`policies/${name}.wasm.br`))));
    return new Uint8Array(readFileSync(new URL(`../../policies/build/${name}.wasm`, import.meta.url)));
  } catch (err) {
    throw new PolicyError('VIGIL_EPOLICY_READ', `the built-in policy ${name} is missing (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): run \`make policies\``);
  }
}
