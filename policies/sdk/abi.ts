// Canonical-ABI plumbing for the vigil:policy world, by hand (there is no wit-bindgen for
// AssemblyScript). Everything a round allocates lives in one arena that is dropped when the
// next round starts.
//
// Why --runtime stub: a policy round is short and self-contained, so a bump allocator that is
// reset wholesale beats any GC. The stub runtime *is* such an allocator (its __alloc bumps,
// its __reset rewinds), so AssemblyScript strings, arrays and classes work unchanged and the
// host's cabi_realloc shares the same heap. No GC code is linked in, which keeps the
// components small and the cost of a round predictable.

// The heap offset right after the module's start function (top-level code may allocate:
// `register(check)`, global arrays, maps). Resetting rewinds to here, not to __heap_base,
// so such objects survive every round.
let keep: usize = 0;
let marked = false;
// Set when a round's result has been handed back. The host lifts the result before it calls
// in again, so the arena is rewound lazily, at the first allocation or evaluate of the next
// round: no post-return export needed. (A round that trapped leaves this unset, but the
// component model never enters a trapped instance again.)
let roundDone = false;

// The stub's own layout (std/assembly/rt/common.ts): a 4-byte block header, 16-byte alignment.
const BLOCK_OVERHEAD: usize = 4;
const AL_MASK: usize = 15;

function mark(): void {
  const start = ((__heap_base + BLOCK_OVERHEAD + AL_MASK) & ~AL_MASK) - BLOCK_OVERHEAD;
  const probe = __alloc(0);
  keep = probe - BLOCK_OVERHEAD - start; // bytes the start function allocated (a multiple of 16)
  marked = true;
  __free(probe);
}

function rewind(): void {
  __reset();
  // One block exactly as long as what start allocated: 4 + computeSize(keep - 8) == keep.
  if (keep) __alloc(keep - 2 * BLOCK_OVERHEAD);
}

/** Called at the top of every export and allocation: drop the last round's garbage once. */
export function beginRound(): void {
  if (!marked) mark();
  if (roundDone) { rewind(); roundDone = false; }
}

/** Called when a result is ready: the arena is rewound at the next call, not now. */
export function endRound(): void {
  roundDone = true;
}

// Memory the host writes lowered arguments and import results into. `old` is never 0 with
// jco except for growing a list, which the stub's __realloc handles (last block grows in
// place). The stub aligns every block to 16, more than any canonical-ABI alignment (8).
export function cabi_realloc(old: usize, oldSize: usize, align: usize, newSize: usize): usize {
  beginRound();
  if (old == 0) return __alloc(newSize);
  return __realloc(old, newSize);
}

/** A UTF-8 string at (ptr, len) in linear memory, as an AssemblyScript string. */
export function liftString(ptr: usize, len: usize): string {
  return String.UTF8.decodeUnsafe(ptr, len, false);
}

/** A string as UTF-8 bytes in the arena; `.byteLength` is its canonical-ABI length. */
export function lowerString(s: string): ArrayBuffer {
  return String.UTF8.encode(s, false);
}

/** Room in the arena for an import's result (the host writes it, we read it back). */
export function retArea(size: i32): usize {
  return __alloc(<usize>size);
}
