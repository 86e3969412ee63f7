// Why a policy could not be loaded or a round of it did not finish. The code is what status,
// metrics and tests match; the message is what an operator reads.
import { VigilError } from '../errors.ts';

export type PolicyCode =
  | 'VIGIL_EPOLICY_FORMAT'    // not a component, or a malformed one
  | 'VIGIL_EPOLICY_IMPORT'    // imports something the host does not grant
  | 'VIGIL_EPOLICY_EXPORT'    // no `evaluate` of the right shape
  | 'VIGIL_EPOLICY_MEMORY'    // memory beyond its limit (declared, or grown into)
  | 'VIGIL_EPOLICY_CPU'       // ran past its CPU-time budget
  | 'VIGIL_EPOLICY_TRAP'      // trapped (unreachable, out of bounds, abort...)
  | 'VIGIL_EPOLICY_CRASH'     // its worker died some other way
  | 'VIGIL_EPOLICY_READ'      // the file could not be read
  | 'VIGIL_EPOLICY_BUSY';     // its round waited too long behind other checks' rounds

export class PolicyError extends VigilError {
  declare readonly code: PolicyCode;
  constructor(code: PolicyCode, message: string, options?: { cause?: unknown }) { super(code, message, options); }
}

// The short name used in metrics labels and status: VIGIL_EPOLICY_CPU -> cpu.
export function reasonOf(code: string): string {
  return code.startsWith('VIGIL_EPOLICY_') ? code.slice('VIGIL_EPOLICY_'.length).toLowerCase() : 'other';
}
