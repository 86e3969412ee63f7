// The vigil policy SDK for AssemblyScript. A policy is one file:
//
//   import { Args, register, http, ok, fail } from "../sdk";
//   export { evaluate, cabi_realloc } from "../sdk";
//   function check(target: string, args: Args): string | null { ... return ok(); }
//   register(check);   // last: top-level code runs in order, after the globals check uses
//
// Built with --runtime stub (see abi.ts for why) by policies/build.ts; GUIDE.md has the rest.
export { cabi_realloc } from "./abi";
import "./abort"; // compiled in for --use abort=policies/sdk/abort/onAbort
export { evaluate, register, ok, fail, Check } from "./policy";
export { Args } from "./args";
export {
  http, tcp, dns, icmp, log, nowUs, Level,
  HttpResponse, TcpResponse, DnsResponse, IcmpResult,
} from "./probes";
export { canonicalIP, canonicalIPv4, canonicalIPv6 } from "./addr";
export { quote, ms } from "./text";
