// Never returns: the host's CPU-time deadline must stop it.
import { Args, register } from "../sdk";
export { evaluate, cabi_realloc } from "../sdk";

let spins: u64 = 0; // a side effect, so no optimizer can call the loop dead

function check(target: string, args: Args): string | null {
  while (true) spins++;
}

// Last: top-level code runs in order, and check may use the globals above.
register(check);
