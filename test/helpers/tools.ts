// The outside tools some tests need. A test that needs one asks `needTools`, which gives a skip
// reason naming the Debian package (from packaging/debian-packages.txt, the list `make test`
// installs from) on a box without it. In CI (CI=true) a missing tool is a failure instead: CI
// installs every package, so a skip there would silently lose the interop or wire tests.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v "$1"`, 'sh', cmd], { stdio: 'ignore' }).status === 0;
}

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

export function skipUnless(cond: boolean, reason: string): { skip: string } | object {
  return cond ? {} : { skip: reason };
}

// command -> the Debian package that brings it, from the list's COMMANDS column.
let packages: Map<string, string> | undefined;
export function packageOf(cmd: string): string | undefined {
  if (!packages) {
    packages = new Map();
    const list = readFileSync(join(import.meta.dirname, '..', '..', 'packaging', 'debian-packages.txt'), 'utf8');
    for (const line of list.split('\n')) {
      const [pkg, , ...cmds] = line.replace(/#.*/, '').trim().split(/\s+/);
      if (pkg) for (const c of cmds) packages.set(c, pkg);
    }
  }
  return packages.get(cmd);
}

const inCI = process.env.CI === 'true';

/**
 * undefined when every tool is on PATH; otherwise the reason to skip, e.g. "tcpdump, tshark not
 * installed (apt-get install tcpdump tshark)". In CI the missing tools also fail this test file.
 */
export function needTools(...tools: string[]): string | undefined {
  const missing = tools.filter((c) => !have(c));
  if (missing.length === 0) return undefined;
  const pkgs = [...new Set(missing.map((c) => packageOf(c) ?? c))];
  const why = `${missing.join(', ')} not installed (apt-get install ${pkgs.join(' ')})`;
  if (inCI) t.fail(`CI must not skip for a missing tool: ${why}; packaging/debian-packages.txt lists it for .ci/run`);
  return why;
}
