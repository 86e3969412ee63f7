// The native shim, loaded once and typed. Generic syscalls over integer fds (Deno ops model):
// every protocol detail lives in TypeScript or the core, not in C.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ShimMissingError } from './errors.ts';

export interface ShimConstants {
  readonly [name: string]: number;
}

export interface Shim {
  socket(domain: number, type: number, proto: number): number;
  setsockoptInt(fd: number, level: number, name: number, value: number): void;
  setsockoptBuf(fd: number, level: number, name: number, value: Uint8Array): void;
  bind(fd: number, sockaddr: Uint8Array): void;
  attachFilter(fd: number, insns: Uint8Array): void;
  getsockname(fd: number, out: Uint8Array): number;
  /** Bytes sent, or -1 when the socket would block. */
  sendTo(fd: number, buf: Uint8Array, off: number, len: number, sockaddr: Uint8Array | null): number;
  /**
   * Datagram length (may exceed len: see meta[3] & MSG_TRUNC), or -1 when nothing is queued.
   * meta: [0] src sockaddr length, [1] TTL/hop limit (-1 absent), [2] ifindex (-1 absent),
   * [3] msg_flags, [4..7] destination address bytes from pktinfo.
   */
  recvMsg(fd: number, buf: Uint8Array, off: number, len: number, src: Uint8Array, meta: Int32Array): number;
  pollStart(fd: number, events: number, cb: (status: number, events: number) => void): void;
  pollStop(fd: number): void;
  close(fd: number): void;
  schedSetScheduler(policy: number, priority: number): void;
  schedGetScheduler(): number;
  mlockall(flags: number): void;
  ifNameToIndex(name: string): number;
  /** 1 when this build carries AddressSanitizer; asan(1) then overflows on purpose. */
  asan(mode?: number): number;
  readonly constants: ShimConstants;
}

/** Where the addon is: VIGIL_SHIM (e.g. the ASan build) or the node-gyp Release build. */
export const shimPath: string =
  process.env.VIGIL_SHIM ?? join(import.meta.dirname, '..', 'native', 'build', 'Release', 'vigil_shim.node');

let loaded: Shim | undefined;

export function shim(): Shim {
  if (loaded) return loaded;
  try {
    loaded = createRequire(import.meta.url)(shimPath) as Shim;
  } catch (cause) {
    throw new ShimMissingError(shimPath, cause);
  }
  return loaded;
}

/** The kernel constant `name`; a missing one is a programming error, not a runtime state. */
export function K(name: string): number {
  const v = shim().constants[name];
  if (v === undefined) throw new Error(`vigil_shim exports no constant ${name}`);
  return v;
}
