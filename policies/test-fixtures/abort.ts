// Reads past the end of an array: AssemblyScript aborts, which the SDK logs, then traps.
import { Args, register, fail } from "../sdk";
export { evaluate, cabi_realloc } from "../sdk";

function check(target: string, args: Args): string | null {
  const empty: i32[] = [];
  return fail(empty[target.length].toString());
}

// Last: top-level code runs in order, and check may use the globals above.
register(check);
