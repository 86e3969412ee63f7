// Probes for the outside tools some tests need, so a test skips with a reason instead of failing
// on a machine without them (CI installs them all in .ci/run).
import { spawnSync } from 'node:child_process';

export function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

export function skipUnless(cond: boolean, reason: string): { skip: string } | object {
  return cond ? {} : { skip: reason };
}
