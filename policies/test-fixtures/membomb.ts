// Grows its linear memory 1 MiB at a time and writes to every page (so it is really resident),
// until the host's memory cap stops it. Should the engine refuse a grow first (4 GiB), it traps.
import { Args, register } from "../sdk";
export { evaluate, cabi_realloc } from "../sdk";

function check(target: string, args: Args): string | null {
  while (true) {
    const first = memory.grow(16);
    if (first < 0) unreachable();
    for (let p = first; p < first + 16; p++) store<u8>(<usize>p << 16, 1);
  }
}

// Last: top-level code runs in order, and check may use the globals above.
register(check);
