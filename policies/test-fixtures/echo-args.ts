// Fails with a reason that is JSON of what it received: {"target":"...","args":[["k","v"],...]},
// so a test can JSON.parse it and compare with what it passed (order, UTF-8, empty strings).
import { Args, register, fail } from "../sdk";
export { evaluate, cabi_realloc } from "../sdk";

function check(target: string, args: Args): string | null {
  const pairs: string[] = [];
  for (let i = 0; i < args.length; i++) pairs.push(`[${json(args.keys[i])},${json(args.values[i])}]`);
  return fail(`{"target":${json(target)},"args":[${pairs.join(",")}]}`);
}

// Pieces joined once, not `s += c` per character: nothing is freed within a round (the arena
// goes at its end), so growing a string char by char costs memory quadratic in its length.
function json(v: string): string {
  const out: string[] = ['"'];
  let from = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c != 34 && c != 92 && c >= 32) continue; // UTF-16 units: surrogate pairs pass intact
    out.push(v.slice(from, i));
    out.push(c < 32 ? "\\u" + c.toString(16).padStart(4, "0") : "\\" + String.fromCharCode(c));
    from = i + 1;
  }
  out.push(v.slice(from));
  out.push('"');
  return out.join("");
}

// Last: top-level code runs in order, and check may use the globals above.
register(check);
