// The `evaluate` export: lifts (target, args), runs the author's check, lowers the verdict.
import { Args } from "./args";
import { beginRound, endRound, liftString, lowerString } from "./abi";

/** A check: null when it passes this round, else why it failed. */
export type Check = (target: string, args: Args) => string | null;

let registered: Check | null = null;

/** Hands the SDK the policy's check; call it once, as the last
 *  top-level statement of the policy's file (after any globals the check uses). */
export function register(check: Check): void {
  registered = check;
}

/** The check passed. */
export function ok(): string | null { return null; }

/** The check failed; `reason` is shown in status, the log and metrics. */
export function fail(reason: string): string | null { return reason; }

// result<_, string> is returned through a static area (the ABI returns its address):
// u8 discriminant at 0, string ptr at 4, len at 8. Static, so it costs no arena.
const RESULT: usize = memory.data(12, 4);

export function evaluate(tp: usize, tl: usize, ap: usize, al: usize): usize {
  beginRound();
  const target = liftString(tp, tl);
  const args = new Args();
  // list<tuple<string, string>>: `al` elements of (kp, kl, vp, vl), 16 bytes each.
  for (let i: usize = 0; i < al; i++) {
    const e = ap + i * 16;
    args.keys.push(liftString(load<u32>(e), load<u32>(e, 4)));
    args.values.push(liftString(load<u32>(e, 8), load<u32>(e, 12)));
  }
  const check = registered;
  const reason = check === null ? "policy never called register(check)" : check(target, args);
  if (reason === null) {
    store<u8>(RESULT, 0);
  } else {
    const r = lowerString(reason);
    store<u8>(RESULT, 1);
    store<u32>(RESULT, <u32>changetype<usize>(r), 4);
    store<u32>(RESULT, <u32>r.byteLength, 8);
  }
  endRound(); // the reason stays in the arena until the host calls in again
  return RESULT;
}
