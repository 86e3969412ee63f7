// The native shim (host/native/), loaded once and typed. Generic syscalls over integer fds
// (Deno ops model): every protocol detail and vigil's process layout (host/net/spawn.ts) live in
// TypeScript or the core, not in C.
// process.getBuiltinModule, not import: see host/core/addr.ts.
const { rmSync, writeFileSync } = process.getBuiltinModule('node:fs');
const { createRequire } = process.getBuiltinModule('node:module');
const { join } = process.getBuiltinModule('node:path');
const { getRawAsset, isSea } = process.getBuiltinModule('node:sea');
import { NetError, ShimMissingError } from './errors.ts';
import { inPrivateDir } from '../private-dir.ts';

export interface ShimConstants {
  readonly [name: string]: number;
}

export interface Shim {
  socket(domain: number, type: number, proto: number): number;
  setsockoptInt(fd: number, level: number, name: number, value: number): void;
  setsockoptBuf(fd: number, level: number, name: number, value: Uint8Array): void;
  bind(fd: number, sockaddr: Uint8Array): void;
  listen(fd: number, backlog: number): void;
  attachFilter(fd: number, insns: Uint8Array): void;
  getsockname(fd: number, out: Uint8Array): number;
  /** Bytes sent, or -1 when the socket would block. */
  sendTo(fd: number, buf: Uint8Array, off: number, len: number, sockaddr: Uint8Array | null): number;
  /**
   * Datagram length (may exceed len: see meta[3] & MSG_TRUNC), or -1 when nothing is queued.
   * meta: [0] src sockaddr length, [1] TTL/hop limit (-1 absent), [2] ifindex (-1 absent),
   * [3] msg_flags, [4..7] destination address bytes from pktinfo, and if meta has a 9th slot,
   * [8] microseconds since the kernel stamped the datagram (SO_TIMESTAMPNS; -1 absent), and
   * with 11 slots [9], [10] the stamp: seconds (low 32 bits) and nanoseconds (0, 0 absent).
   */
  recvMsg(fd: number, buf: Uint8Array, off: number, len: number, src: Uint8Array, meta: Int32Array): number;
  /** cb's nowUs: CLOCK_MONOTONIC in microseconds as the loop woke (clockMonotonic's clock). */
  pollStart(fd: number, events: number, cb: (status: number, events: number, nowUs: number) => void): void;
  /**
   * The same with a plain call (no async context, no microtask checkpoint): cb returns 0 when it
   * queued nothing, anything else and the microtasks and ticks run after it. No arguments: the
   * wake-up's time is in clockCell's array.
   */
  pollStartFast(fd: number, events: number, cb: () => number): void;
  /** cell[0] is set to CLOCK_MONOTONIC (us) as each poll callback starts; cell over an ArrayBuffer of its own. */
  clockCell(cell: Float64Array): void;
  pollStop(fd: number): void;
  close(fd: number): void;
  schedSetScheduler(policy: number, priority: number): void;
  schedGetScheduler(): number;
  mlockall(flags: number): void;
  /** mlock2(2) of [addr, addr + len); flags MLOCK_ONFAULT or 0. */
  mlock2(addr: number, len: number, flags: number): void;
  munlockall(): void;
  ifNameToIndex(name: string): number;
  /** A one-shot CLOCK_MONOTONIC timer fd (readiness via pollStart). */
  timerCreate(): number;
  /** Fire once after delayUs microseconds; Infinity disarms. Consumes a pending expiry. */
  timerSet(fd: number, delayUs: number): void;
  /** Fire once at deadlineUs, CLOCK_MONOTONIC microseconds (at once if past); Infinity disarms. */
  timerAt(fd: number, deadlineUs: number): void;
  /** CLOCK_MONOTONIC in microseconds. */
  clockMonotonic(): number;
  /** A pidfd (close-on-exec) for a child libuv did not spawn; readable once it has exited. */
  pidfdOpen(pid: number): number;
  /** [read end, write end], close-on-exec; flags bit 1: the read end non-blocking, bit 2: the write end. */
  pipe(flags: number): number[];
  /**
   * posix_spawnp(argv[0]) with `envp`, sharing this process's memory until the exec (no fork
   * of the engine's page tables), default signals and an empty mask. `actions`: records of four
   * int32s, [SPAWN_DUP2, fd, newfd, 0], [SPAWN_OPEN, fd, oflag, index into `paths`],
   * [SPAWN_CLOSEFROM, lowfd, 0, 0]; flags: POSIX_SPAWN_SETPGROUP or 0. The pid.
   */
  spawn(argv: string[], envp: string[], actions: Int32Array, paths: string[], flags: number): number;
  /** read(2): bytes read, 0 at EOF, -1 when nothing is there yet. */
  read(fd: number, buf: Uint8Array): number;
  /** null while it runs; once it has exited (and is reaped): its status, or -signal. */
  pidfdWait(fd: number): number | null;
  setCloexec(fd: number): void;
  /** 1 when fd is a terminal (isatty(3)), else 0. */
  isatty(fd: number): number;
  /** malloc_trim(0): the heap's free pages back to the kernel; 1 if any went. */
  mallocTrim(): number;
  /** madvise(2) of [addr, addr + len), whole pages (MADV_DONTNEED: host/net/memory.ts). */
  madvise(addr: number, len: number, advice: number): void;
  /** 1 when this build carries AddressSanitizer; asan(1) then overflows on purpose. */
  asan(mode?: number): number;
  readonly constants: ShimConstants;
}

// The single executable (`make dist`, packaging/) carries the addon as an asset.
const fromSea = isSea() && process.env.VIGIL_SHIM === undefined;

/**
 * Where the addon is: VIGIL_SHIM (e.g. the ASan build), the single executable or the node-gyp
 * Release build (from the root, two levels up: here, or in the bundle's build/host/).
 */
export const shimPath: string = process.env.VIGIL_SHIM ?? (fromSea ? `${process.execPath}:vigil_shim.node`
  : join(import.meta.dirname, '..', '..', 'host', 'native', 'build', 'Release', 'vigil_shim.node'));

let loaded: Shim | undefined;

export function shim(): Shim {
  if (loaded) return loaded;
  if (fromSea) return (loaded = dlopenAsset() as Shim);
  try {
    loaded = createRequire(import.meta.url)(shimPath) as Shim;
  } catch (cause) {
    throw new ShimMissingError(shimPath, cause);
  }
  return loaded;
}

// dlopen needs a file: the asset goes to a private directory (host/private-dir.ts), is loaded,
// and removed at once (the mapping outlives the file).
function dlopenAsset(): unknown {
  try {
    return inPrivateDir('shim-', (dir) => {
      try {
        const file = join(dir, 'vigil_shim.node');
        writeFileSync(file, new Uint8Array(getRawAsset('vigil_shim.node')), { mode: 0o500, flag: 'wx' });
        const m = { exports: {} };
        process.dlopen(m, file);
        return m.exports;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  } catch (e) {
    throw new NetError(`cannot unpack the native shim from ${process.execPath}: ${(e as Error).message}`, 'VIGIL_ENET_NOSHIM');
  }
}

/** An environment as spawn takes it: `NAME=value` strings, unset ones left out. */
export function envp(env: NodeJS.ProcessEnv): string[] {
  return Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
}

/** The kernel constant `name`; a missing one is a programming error, not a runtime state. */
export function K(name: string): number {
  const v = shim().constants[name];
  if (v === undefined) throw new NetError(`vigil_shim exports no constant ${name}: rebuild it (make native)`, 'VIGIL_ENET_NOSHIM');
  return v;
}

/**
 * Calls onExit once `pid`, a child of this process that libuv did not spawn (an engine bin/vigil
 * started, a notify hook), has exited, and reaps it: its exit code, or the signal that ended it.
 * Throws when pidfd_open does (a kernel before 5.3).
 */
export function watchExit(pid: number, onExit: (code: number | null, signal: NodeJS.Signals | null) => void): void {
  const s = shim();
  const pidfd = s.pidfdOpen(pid);
  s.pollStart(pidfd, K('UV_READABLE'), () => {
    const st = s.pidfdWait(pidfd);
    if (st === null) return;
    s.close(pidfd);
    if (st >= 0) onExit(st, null);
    else onExit(null, signalName(-st));
  });
}

function signalName(n: number): NodeJS.Signals {
  const names = process.getBuiltinModule('node:os').constants.signals as Record<NodeJS.Signals, number>;
  return (Object.keys(names) as NodeJS.Signals[]).find((k) => names[k] === n) ?? `SIG${n}` as NodeJS.Signals;
}
