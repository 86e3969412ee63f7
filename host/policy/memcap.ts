// Caps the linear memories a policy's core modules define, by rewriting their memory section
// before they are compiled. A Worker's resourceLimits bound the JS heap only: WebAssembly
// memory lives outside it, so without this a policy could grow to 4 GiB. With a maximum in the
// module itself, memory.grow past the cap returns -1 (the policy traps or fails its round) and
// nothing else in the process notices.
import { PolicyError } from './errors.ts';

export const PAGE = 65536;

// An unsigned LEB128 (sizes, counts and limits in module and component binaries).
export function readU32(b: Uint8Array, o: number): [value: number, next: number] {
  let v = 0, shift = 0;
  for (let i = 0; i < 5; i++) {
    if (o >= b.length) throw new PolicyError('VIGIL_EPOLICY_FORMAT', 'truncated WebAssembly binary');
    const byte = b[o++];
    v += (byte & 0x7f) * 2 ** shift;
    if (!(byte & 0x80)) return [v, o];
    shift += 7;
  }
  throw new PolicyError('VIGIL_EPOLICY_FORMAT', 'bad LEB128 in a WebAssembly binary');
}

// The top-level sections of a module or component binary, after its 8-byte preamble: each
// section's id, where it starts (its id byte), where its contents start, and its end.
export function* sections(b: Uint8Array): Generator<{ id: number; at: number; start: number; end: number }> {
  let o = 8;
  while (o < b.length) {
    const [size, start] = readU32(b, o + 1);
    const end = start + size;
    if (end > b.length) throw new PolicyError('VIGIL_EPOLICY_FORMAT', 'malformed WebAssembly binary: a section runs past the end of the file');
    yield { id: b[o], at: o, start, end };
    o = end;
  }
}

function writeU32(out: number[], v: number): void {
  do {
    let byte = v & 0x7f;
    v = Math.floor(v / 128);
    if (v) byte |= 0x80;
    out.push(byte);
  } while (v);
}

// A new module whose defined memories have at most `maxPages` pages. Refuses a memory that
// starts above the cap, a shared or 64-bit memory, and anything that is not a core module.
export function capMemory(module: Uint8Array, maxPages: number): Uint8Array {
  if (module.length < 8 || module[0] !== 0 || module[1] !== 0x61 || module[2] !== 0x73 || module[3] !== 0x6d || module[4] !== 1) {
    throw new PolicyError('VIGIL_EPOLICY_FORMAT', 'not a WebAssembly core module');
  }
  const parts: Uint8Array[] = [module.subarray(0, 8)];
  for (const { id, at, start, end } of sections(module)) {
    if (id !== 5) { parts.push(module.subarray(at, end)); continue; }
    const body: number[] = [];
    let [count, p] = readU32(module, start);
    writeU32(body, count);
    for (let i = 0; i < count; i++) {
      const flags = module[p++];
      if (flags & ~1) throw new PolicyError('VIGIL_EPOLICY_MEMORY', `a policy memory must be plain 32-bit and unshared (limits flags 0x${flags.toString(16)})`);
      let min: number, max = Infinity;
      [min, p] = readU32(module, p);
      if (flags & 1) [max, p] = readU32(module, p);
      if (min > maxPages) {
        throw new PolicyError('VIGIL_EPOLICY_MEMORY', `the policy asks for ${fmtPages(min)} of memory at start, over its limit of ${fmtPages(maxPages)}: raise the policy's memory limit or shrink the policy`);
      }
      body.push(1);
      writeU32(body, min);
      writeU32(body, Math.min(max, maxPages));
    }
    if (p !== end) throw new PolicyError('VIGIL_EPOLICY_FORMAT', 'malformed memory section');
    const head: number[] = [5];
    writeU32(head, body.length);
    parts.push(Uint8Array.from(head), Uint8Array.from(body));
  }
  const out = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
  let w = 0;
  for (const x of parts) { out.set(x, w); w += x.length; }
  return out;
}

export function fmtPages(pages: number): string {
  const mib = (pages * PAGE) / 2 ** 20;
  return Number.isInteger(mib) ? `${mib} MiB` : `${pages * 64} KiB`;
}
