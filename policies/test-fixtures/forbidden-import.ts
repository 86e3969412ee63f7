// Imports vigil:policy/secrets (declared only in forbidden-import.wit, not in the policy world)
// and calls it, so the import survives into the component. The build refuses it (as the host
// must); it is still written out for the runtime's tests.
import { Args, register, fail } from "../sdk";
import { liftString, lowerString, retArea } from "../sdk/abi";
export { evaluate, cabi_realloc } from "../sdk";

// @ts-ignore: decorator
@external("vigil:policy/secrets@0.1.0", "get")
declare function _get(np: usize, nl: usize, ret: usize): void;

function check(target: string, args: Args): string | null {
  const n = lowerString("root-password"), ret = retArea(8);
  _get(changetype<usize>(n), n.byteLength, ret);
  return fail("got " + liftString(load<u32>(ret), load<u32>(ret, 4)));
}

// Last: top-level code runs in order, and check may use the globals above.
register(check);
