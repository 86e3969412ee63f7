// A new directory only this process's user can enter, for files that must exist on disk for a
// moment when vigil runs as the single executable (the native addon to dlopen, jco's modules
// for the policy compiler). Never a predictable /tmp path (keepalived's CVE history): mkdtemp
// under a parent we own with mode 0700 and that is not a symlink; /run is noexec on some
// systems, so /var/lib/vigil is the second choice.
// process.getBuiltinModule, not import: the engine loads this (see host/core/addr.ts).
const { lstatSync, mkdirSync, mkdtempSync, rmSync } = process.getBuiltinModule('node:fs');
const { join } = process.getBuiltinModule('node:path');
import { VigilError } from './errors.ts';

// No candidate parent would do; the message names each and why.
export class PrivateDirError extends VigilError {
  constructor(reasons: string) { super('VIGIL_EPRIVATE_DIR', reasons); }
}

// Owned by this process's user and closed to everyone else (no group or other bits): a
// directory, or a file in one, that vigil may trust.
export function ownedPrivately(st: { uid: number; mode: number }): boolean {
  return st.uid === process.getuid!() && (st.mode & 0o077) === 0;
}

// Makes a new private directory under the first parent that is ours and hands it to `use`. A
// parent that is not ours, or where `use` throws (a noexec /run refuses dlopen), is passed over
// and the directory made there removed. What `use` returns is returned; the directory is then
// the caller's to remove.
export function inPrivateDir<T>(prefix: string, use: (dir: string) => T): T {
  const uid = process.getuid!();
  const parents = (uid === 0 ? ['/run/vigil', '/var/lib/vigil'] : [process.env.XDG_RUNTIME_DIR ?? '']).filter(Boolean);
  const errors: string[] = [];
  for (const parent of parents) {
    let dir: string | undefined;
    try {
      try { mkdirSync(parent, { mode: 0o700 }); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; }
      const st = lstatSync(parent);
      if (!st.isDirectory() || !ownedPrivately(st)) throw new PrivateDirError(`not a directory of uid ${uid} with mode 0700`);
      dir = mkdtempSync(join(parent, prefix));
      return use(dir);
    } catch (e) {
      errors.push(`${parent}: ${(e as Error).message}`);
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  }
  throw new PrivateDirError(errors.join('; ') || 'not root and no XDG_RUNTIME_DIR');
}
