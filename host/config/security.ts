// Scripts vigil runs as root (notify hooks, quorum hooks, exec checks) must not be changeable by
// anyone else: a file is unsafe when it, or any directory above it, is writable by a user other
// than root (or the user it is configured to run as), symlinks resolved. keepalived's
// enable_script_security makes the same refusal. A script that does not exist yet is unsafe when
// someone else could create it.
import { lstatSync, readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import { spawnSync } from 'node:child_process';

export interface RunAs { name: string; uid: number; gid: number }

const S_IWGRP = 0o020, S_IWOTH = 0o002, S_ISVTX = 0o1000;
const mode = (st: Stats) => (st.mode & 0o7777).toString(8).padStart(4, '0');

/**
 * Why running `path` (as root, or as `runAs`) is unsafe, or undefined when it is safe. The text
 * names the file or directory at fault, who can write it, and the fixes.
 */
export function scriptProblem(path: string, runAs?: RunAs): string | undefined {
  if (!isAbsolute(path)) return `${path} is not an absolute path`;
  const why = unsafeBecause(path, runAs);
  if (!why) return undefined;
  const as = runAs ? `as ${runAs.name}` : 'as root';
  return `${path} is unsafe to run ${as}: ${why}, so that user could make vigil run anything ${as}. ` +
    `Make it and every directory above it root's and not group/world-writable (chown root:root, chmod go-w)` +
    `${runAs ? '' : ', or run it as an unprivileged user (user:)'}; or set "security: { allowUnsafeScripts: true }" to run it anyway, with a warning at every start`;
}

function unsafeBecause(path: string, runAs?: RunAs): string | undefined {
  const trustedUid = (uid: number) => uid === 0 || (runAs !== undefined && uid === runAs.uid);
  const trustedGid = (gid: number) => gid === 0 || (runAs !== undefined && gid === runAs.gid);
  // Who besides the trusted can write this (a file, or a directory holding `child`).
  const writer = (p: string, st: Stats, child: Stats | undefined): string | undefined => {
    if (!trustedUid(st.uid)) return `${p} is owned by uid ${st.uid}`;
    // A sticky directory (/tmp) lets no one else rename or remove an entry they do not own.
    const sticky = st.isDirectory() && (st.mode & S_ISVTX) !== 0 && child !== undefined && trustedUid(child.uid);
    if (st.mode & S_IWOTH && !sticky) return `${p} is writable by every user (mode ${mode(st)})`;
    if (st.mode & S_IWGRP && !trustedGid(st.gid) && !sticky) return `${p} is writable by group ${st.gid} (mode ${mode(st)})`;
    return undefined;
  };
  // The directories from `p` up to /, each judged with the entry below it.
  const chain = (p: string, below: Stats | undefined): string | undefined => {
    for (let cur = p, child = below; ; cur = dirname(cur)) {
      const st = statSync(cur);
      const w = writer(cur, st, child);
      if (w) return w;
      if (cur === '/') return undefined;
      child = st;
    }
  };
  // Every directory holding an entry of the path as written matters (whoever writes it can
  // replace or repoint the entry), and, where the entry is a symlink, those of its target.
  const parts = path.split('/').filter(Boolean);
  let prefix = '';
  for (const part of parts) {
    const parent = realpathSync(prefix || '/');
    prefix += '/' + part;
    let entry: Stats;
    try { entry = lstatSync(prefix); } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') return `${prefix} cannot be read (${code})`;
      // Missing: safe only if no one else could create it in the deepest directory there is.
      const w = chain(parent, undefined);
      return w ? `it does not exist and ${w}: anyone could create it` : undefined;
    }
    const w = chain(parent, entry);
    if (w) return w;
    if (entry.isSymbolicLink()) {
      let real: string;
      try { real = realpathSync(prefix); } catch { return `${prefix} is a symlink to nothing`; }
      const t = chain(dirname(real), statSync(real));
      if (t) return t;
    }
  }
  const real = realpathSync(path);
  const st = statSync(real);
  if (st.isDirectory()) return `${real} is a directory`;
  return writer(real, st, undefined);
}

/** The local user `name` (from /etc/passwd, else NSS through getent), or undefined. */
export function lookupUser(name: string): RunAs | undefined {
  const fromLine = (line: string): RunAs | undefined => {
    const f = line.split(':');
    if (f.length < 4 || f[0] !== name) return undefined;
    const uid = Number(f[2]), gid = Number(f[3]);
    return Number.isInteger(uid) && Number.isInteger(gid) ? { name, uid, gid } : undefined;
  };
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const u = fromLine(line);
      if (u) return u;
    }
  } catch { /* no /etc/passwd: NSS only */ }
  if (!/^[A-Za-z0-9._][A-Za-z0-9._-]{0,31}$/.test(name)) return undefined;
  const r = spawnSync('getent', ['passwd', name], { encoding: 'utf8', timeout: 2000 });
  return r.status === 0 ? fromLine(r.stdout.trim()) : undefined;
}
