// Allocates through the runtime (strings in an array, 1 KiB each) forever: it burns CPU and
// memory at once, slower than membomb, so either of the host's limits may stop it first.
import { Args, register } from "../sdk";
export { evaluate, cabi_realloc } from "../sdk";

function check(target: string, args: Args): string | null {
  const kept: string[] = [];
  const chunk = "x".repeat(512); // 512 UTF-16 units = 1 KiB
  while (true) kept.push(chunk + kept.length.toString());
}

// Last: top-level code runs in order, and check may use the globals above.
register(check);
