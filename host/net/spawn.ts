// Which descriptors a child of vigil gets, as file actions for the shim's one generic spawn op
// (posix_spawnp: the child shares this process's memory until its exec, no fork of the engine's
// page tables; default signals and an empty mask). The layouts are vigil's, so they live here.
import { K, shim } from './shim.ts';

const READ_END_NONBLOCKING = 1;

/**
 * A notify hook: its own process group (the timeout kills all it started), stdin and stdout on
 * /dev/null, stderr on a pipe, no other descriptor. [pid, the read end of its stderr
 * (non-blocking, close-on-exec)]. Its exit: pidfdOpen(pid).
 */
export function spawnHook(argv: string[], envp: string[]): [number, number] {
  const s = shim();
  const [r, w] = s.pipe(READ_END_NONBLOCKING) as [number, number];
  try {
    const pid = s.spawn(argv, envp, Int32Array.of(
      K('SPAWN_OPEN'), 0, K('O_RDONLY'), 0,
      K('SPAWN_OPEN'), 1, K('O_WRONLY'), 0,
      K('SPAWN_DUP2'), w, 2, 0,
      // Nothing else of the engine's: bin/vigil's pipes, inherited without close-on-exec, would
      // otherwise reach every hook (and a hung one would hold them).
      K('SPAWN_CLOSEFROM'), 3, 0, 0,
    ), ['/dev/null'], K('POSIX_SPAWN_SETPGROUP'));
    return [pid, r];
  } catch (e) {
    s.close(r);
    throw e;
  } finally {
    s.close(w);
  }
}

/**
 * Another process of this program (the engine of a warm start): its stdin a pipe, its fd 3 a
 * pipe back (blocking on its side, as a pipe libuv hands a child), stdout and stderr ours,
 * nothing else; this process's group. [pid, the write end of its stdin, the read end of its
 * fd 3 (non-blocking)], both close-on-exec.
 */
export function spawnChild(argv: string[], envp: string[]): [number, number, number] {
  const s = shim();
  const [inR, inW] = s.pipe(0) as [number, number];
  let out: [number, number];
  try {
    out = s.pipe(READ_END_NONBLOCKING) as [number, number];
  } catch (e) {
    s.close(inR);
    s.close(inW);
    throw e;
  }
  const [outR, outW] = out;
  try {
    const pid = s.spawn(argv, envp, Int32Array.of(
      K('SPAWN_DUP2'), inR, 0, 0,
      K('SPAWN_DUP2'), outW, 3, 0,
      // dup2 onto itself clears close-on-exec (POSIX 2017, glibc 2.29), which Node may have set
      // on its stdout and stderr.
      K('SPAWN_DUP2'), 1, 1, 0,
      K('SPAWN_DUP2'), 2, 2, 0,
      K('SPAWN_CLOSEFROM'), 4, 0, 0,
    ), [], 0);
    return [pid, inW, outR];
  } catch (e) {
    s.close(inW);
    s.close(outR);
    throw e;
  } finally {
    s.close(inR);
    s.close(outW);
  }
}
