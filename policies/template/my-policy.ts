// A template: copy this file to policies/src/<name>.ts, rename, edit, `make policies`, and
// policies/build/<name>.wasm is your policy. GUIDE.md explains the pieces.
//
// This one: the target's HTTP endpoint answers 200 and its body contains a word.
// args: contains (required), path ("/"), port (0: the target's own), tls (false).
import { Args, register, ok, fail, http, log, Level, quote } from "../sdk";
// The component's exports: always exactly these two, from the SDK.
export { evaluate, cabi_realloc } from "../sdk";

// Globals survive between rounds only as numbers: strings, arrays and objects made during a
// round are freed when the next round starts (GUIDE.md, "Memory").
let failures: u32 = 0;

function check(target: string, args: Args): string | null {
  // Read every arg first; the first problem (missing, malformed, unknown) becomes the reason.
  args.only(["contains", "path", "port", "tls"]);
  const word = args.str("contains");
  const path = args.str("path", "/");
  const port = args.int("port", 0, 0, 65535);
  const tls = args.bool("tls", false);
  if (args.error) return args.error;

  // The host runs the probe against the check's target, with the check's timeout.
  const r = http("GET", <u16>port, path, tls);
  if (r.status == 0) return fail(`no response: ${r.error}`);
  if (r.status != 200) return fail(`status ${r.status}`);
  if (!r.body.includes(word)) {
    failures++;
    if (failures % 10 == 1) log(Level.Warn, `no ${quote(word)} in the body; failed rounds so far: ${failures}`);
    return fail(`body does not contain ${quote(word)}`);
  }
  return ok();
}

// Last: top-level code runs in order, and check may use the globals above.
register(check);
