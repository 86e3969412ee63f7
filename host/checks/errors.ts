// Why a check's round failed, as a stable code next to the text: /status and the checker's
// reports carry both, so scripts switch on the code (a policy's own failures are VIGIL_EPOLICY_*,
// host/policy/errors.ts).
import { VigilError } from '../errors.ts';

export const CHECK_CODES = {
  TIMEOUT: 'VIGIL_ECHECK_TIMEOUT',     // no answer within the timeout (or still none to an earlier round)
  CONNECT: 'VIGIL_ECHECK_CONNECT',     // the connection was refused, reset or unreachable
  SEND: 'VIGIL_ECHECK_SEND',           // the kernel refused the probe's packet
  STATUS: 'VIGIL_ECHECK_STATUS',       // HTTP status not one of expect.status
  BODY: 'VIGIL_ECHECK_BODY',           // HTTP body does not match expect.body
  DIGEST: 'VIGIL_ECHECK_DIGEST',       // HTTP body digest is not expect.digest
  BANNER: 'VIGIL_ECHECK_BANNER',       // TCP banner missing or not matching expect.banner
  DNS_RCODE: 'VIGIL_ECHECK_DNS_RCODE', // DNS answered with an error rcode (NXDOMAIN, SERVFAIL...)
  DNS_ANSWER: 'VIGIL_ECHECK_DNS_ANSWER', // DNS answered without the record or the expected address
  DNS_FORMAT: 'VIGIL_ECHECK_DNS_FORMAT', // a DNS message vigil cannot read
  CA: 'VIGIL_ECHECK_CA',               // the check's ca file cannot be read
  EXIT: 'VIGIL_ECHECK_EXIT',           // exec: the command exited non-zero (or was killed by a signal)
  SPAWN: 'VIGIL_ECHECK_SPAWN',         // exec: the command could not be started (no such program or user, unsafe as root)
  PROCESS: 'VIGIL_ECHECK_PROCESS',     // process: the count of matching processes is outside min..max
  FILE: 'VIGIL_ECHECK_FILE',           // file: the file cannot be read or holds no integer
  FAILED: 'VIGIL_ECHECK_FAILED',       // a probe failed with no code of its own (a test's, a policy's verdict)
} as const;
export type CheckCode = (typeof CHECK_CODES)[keyof typeof CHECK_CODES];

export class CheckError extends VigilError {
  constructor(code: CheckCode, message: string, options?: { cause?: unknown }) { super(code, message, options); }
}

/** The code of any probe failure: its own VIGIL_E code, else VIGIL_ECHECK_FAILED. */
export function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('VIGIL_E') ? code : CHECK_CODES.FAILED;
}
