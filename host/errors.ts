// The root of vigil's errors. Every error a user can see has a stable `code` (VIGIL_E...),
// the way undici's UND_ERR_* codes work, so scripts and tests match codes, not messages.

export class VigilError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

// The command line was wrong: exit 2 with a one-line message.
export class UsageError extends VigilError {
  constructor(message: string) { super('VIGIL_EUSAGE', message); }
}

// Input (hex, pcap, numbers) could not be read at all: exit 2.
export class InputError extends VigilError {
  constructor(message: string, options?: { cause?: unknown }) { super('VIGIL_EINPUT', message, options); }
}

// The core refused a configuration call; `reason` is the core's code name.
export class CoreConfigError extends VigilError {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super('VIGIL_ECORE_CONFIG', message);
    this.reason = reason;
  }
}

// core.wasm is missing or not the module this host was written for.
export class CoreLoadError extends VigilError {
  constructor(message: string, options?: { cause?: unknown }) { super('VIGIL_ECORE_LOAD', message, options); }
}

// A load-balancer scheduler table was asked for with bad input (host/lb/tables.ts). Codes:
// VIGIL_ELB_SERVERS (count or lengths), VIGIL_ELB_SIZE (bucket count / Maglev size),
// VIGIL_ELB_WEIGHT, VIGIL_ELB_KEY (not a u32, or two servers with one key), VIGIL_ELB_ADDRESS.
export class LbTableError extends VigilError {
  constructor(code: 'VIGIL_ELB_SERVERS' | 'VIGIL_ELB_SIZE' | 'VIGIL_ELB_WEIGHT' | 'VIGIL_ELB_KEY' | 'VIGIL_ELB_ADDRESS',
    message: string) { super(code, message); }
}
