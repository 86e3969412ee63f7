// Always passes.
import { Args, register, ok } from "../sdk";
export { evaluate, cabi_realloc } from "../sdk";

function check(target: string, args: Args): string | null {
  return ok();
}

// Last: top-level code runs in order, and check may use the globals above.
register(check);
