// Fails with a reason that is JSON of what it received: {"target":"...","args":[["k","v"],...]},
// so a test can JSON.parse it and compare with what it passed (order, UTF-8, empty strings).
import { Args, register, fail } from "../sdk";
export { evaluate, cabi_realloc } from "../sdk";

function check(target: string, args: Args): string | null {
  let s = `{"target":${json(target)},"args":[`;
  for (let i = 0; i < args.length; i++) {
    if (i) s += ",";
    s += `[${json(args.keys[i])},${json(args.values[i])}]`;
  }
  return fail(s + "]}");
}

function json(v: string): string {
  let s = '"';
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c == 34 || c == 92) s += "\\" + String.fromCharCode(c);
    else if (c < 32) s += "\\u" + c.toString(16).padStart(4, "0");
    else s += String.fromCharCode(c); // UTF-16 units: surrogate pairs pass through intact
  }
  return s + '"';
}

// Last: top-level code runs in order, and check may use the globals above.
register(check);
