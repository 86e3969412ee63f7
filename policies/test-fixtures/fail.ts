// Always fails, with a fixed reason.
import { Args, register, fail } from "../sdk";
export { evaluate, cabi_realloc } from "../sdk";

function check(target: string, args: Args): string | null {
  return fail("fixture says no");
}

// Last: top-level code runs in order, and check may use the globals above.
register(check);
