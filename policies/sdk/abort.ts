// AssemblyScript calls abort(message, file, line, column) on a failed assert, an index out of
// range, a bad cast. The build points it here (--use abort=policies/sdk/abort/onAbort): the
// message goes to the checker's log, then the round ends in a trap as it would have anyway.
// A policy built elsewhere may use `--use abort=` instead: a plain trap, without the message.
import { log, Level } from "./probes";

export function onAbort(message: string | null, file: string | null, line: u32, column: u32): void {
  log(Level.Error, `abort: ${message !== null ? message : "(no message)"} at ${file !== null ? file : "?"}:${line}:${column}`);
  unreachable();
}
