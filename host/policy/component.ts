// Reads a component's top-level sections: its core modules, and a key for everything else.
// Two components with the same key differ only in their core modules' code (a policy rebuilt
// after an edit, with the same imports and exports), so the JS glue jco generates for one
// serves the other; a swap then needs no transpile at all (policy.md, "hot swap"). Core
// modules appear in the glue as NAME.core.wasm, NAME.core2.wasm... in section order.
import { createHash } from 'node:crypto';
import { PolicyError } from './errors.ts';
import { sections } from './memcap.ts';

export interface ComponentParts {
  modules: Uint8Array[];
  shapeKey: string;
  sha256: string;
}

const MAX_BYTES = 64 * 2 ** 20;

export function splitComponent(bytes: Uint8Array): ComponentParts {
  if (bytes.length > MAX_BYTES) throw new PolicyError('VIGIL_EPOLICY_FORMAT', `the file is ${(bytes.length / 2 ** 20).toFixed(1)} MiB: a policy may be at most 64 MiB`);
  const magic = bytes.length >= 8 && bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d;
  if (!magic) throw new PolicyError('VIGIL_EPOLICY_FORMAT', 'not a WebAssembly file (no \\0asm header)');
  if (bytes[6] !== 1 || bytes[7] !== 0) {
    throw new PolicyError('VIGIL_EPOLICY_FORMAT', 'a core WebAssembly module, not a component: build it into a component of the world vigil:policy/policy (make policies does; see policies/GUIDE.md)');
  }
  const shape = createHash('sha256');
  const modules: Uint8Array[] = [];
  shape.update(bytes.subarray(0, 8));
  for (const { id, at, start, end } of sections(bytes)) {
    if (id === 1) { modules.push(bytes.subarray(start, end)); shape.update(`core module ${modules.length}`); }
    else shape.update(bytes.subarray(at, end));
  }
  if (modules.length === 0) throw new PolicyError('VIGIL_EPOLICY_FORMAT', 'malformed component: it carries no core module');
  return { modules, shapeKey: shape.digest('hex'), sha256: createHash('sha256').update(bytes).digest('hex') };
}
