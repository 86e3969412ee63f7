// A new directory only this process's user can enter, for files that must exist on disk for a
// moment (a native addon to dlopen, jco's modules for the policy compiler) when vigil runs as
// the single executable. Never a predictable /tmp path (keepalived's CVE history): mkdtemp under
// a parent we own with mode 0700 and that is not a symlink; /run is noexec on some systems, so
// /var/lib/vigil is the second choice. The caller removes it.
import { lstatSync, mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { VigilError } from './errors.ts';

export function privateDir(prefix: string): string {
  const uid = process.getuid!();
  const parents = (uid === 0 ? ['/run/vigil', '/var/lib/vigil'] : [process.env.XDG_RUNTIME_DIR ?? '']).filter(Boolean);
  const errors: string[] = [];
  for (const parent of parents) {
    try {
      try { mkdirSync(parent, { mode: 0o700 }); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; }
      const st = lstatSync(parent);
      if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) throw new Error(`not a directory of uid ${uid} with mode 0700`);
      return mkdtempSync(join(parent, prefix));
    } catch (e) {
      errors.push(`${parent}: ${(e as Error).message}`);
    }
  }
  throw new VigilError('VIGIL_EPRIVATE_DIR', `no private directory for ${prefix.replace(/-$/, '')} files: ${errors.join('; ') || 'not root and no XDG_RUNTIME_DIR'}`);
}
