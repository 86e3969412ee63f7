// How the load balancer's state reaches /status and /metrics without the VRRP engine doing any
// of the work: `vigil lb` writes its part as a JSON array and as Prometheus text into two files
// (replaced whole by rename), and the status server reads them on a request and splices them in
// as they are, unparsed. Both sides find the files on their own: they are named after the
// network namespace and the status port, which the engine and `vigil lb` of one agent share
// and two agents on one box (in two namespaces, or on two ports) do not.
const { mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync } = process.getBuiltinModule('node:fs');
const { join } = process.getBuiltinModule('node:path');

/** The files' common path (without suffix), or null where there is no place for them. */
export function lbStatusBase(port: number): string | null {
  const uid = process.getuid?.() ?? 0;
  const dir = uid === 0 ? '/run/vigil' : process.env.XDG_RUNTIME_DIR ? join(process.env.XDG_RUNTIME_DIR, 'vigil') : null;
  if (dir === null) return null;
  let ns = '0';
  try { ns = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/net'))?.[1] ?? '0'; } catch { /* no /proc: one namespace */ }
  return join(dir, `lb-${ns}-${port}`);
}

/** Written by `vigil lb`, about once a second and after every change. */
export function writeLbStatus(base: string, json: string, metrics: string): void {
  mkdirSync(join(base, '..'), { recursive: true, mode: 0o700 });
  for (const [suffix, text] of [['.json', json], ['.prom', metrics]] as const) {
    const tmp = `${base}${suffix}.${process.pid}`;
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, base + suffix);
  }
}

export function removeLbStatus(base: string): void {
  for (const s of ['.json', '.prom']) rmSync(base + s, { force: true });
}

// `vigil lb` rewrites its files about once a second; one this old was left by a vigil lb that
// was killed (SIGKILL: no clean stop), and would show its virtual servers for ever, even to an
// agent started since with none.
const STALE_MS = 30_000;

/** The raw texts, or null when no load balancer runs here. */
export function readLbStatus(base: string | null, which: 'json' | 'prom'): string | null {
  if (base === null) return null;
  try {
    if (Date.now() - statSync(`${base}.${which}`).mtimeMs > STALE_MS) return null;
    return readFileSync(`${base}.${which}`, 'utf8');
  } catch { return null; }
}
