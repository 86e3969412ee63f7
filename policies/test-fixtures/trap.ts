// Traps (wasm `unreachable`) on every round.
import { Args, register } from "../sdk";
export { evaluate, cabi_realloc } from "../sdk";

function check(target: string, args: Args): string | null {
  unreachable();
  return null;
}

// Last: top-level code runs in order, and check may use the globals above.
register(check);
