// The config the supervisor last accepted, per config file, so that a restarted engine need not
// wait for the supervisor to parse the file again before it speaks. The supervisor parses the
// YAML (yaml, the config reader: ~150 ms of a ~260 ms start here) while the engine, started
// beside it, is ready in ~140 ms: with a record whose text is the file's text byte for byte,
// the engine starts on that record's config. The supervisor's own parse still follows on the
// pipe as ever, and wins: the engine applies it as a reload if it differs (an upgrade whose
// reader reads the same text differently), and stops cleanly if the supervisor refuses the file
// (a record is only written for a file it accepted). The first start with a new file has no
// record and waits, as before.
//
// Kept where only root goes: /var/lib/vigil/accepted (0700, our uid, not a symlink; each record
// 0600, our uid, opened without following links), surviving a reboot. A record holds the file's
// text (it may carry a VRRPv2 password, so no looser than the config itself), the program it was
// made by and the config as JSON.
// process.getBuiltinModule, not import: the engine loads this (see host/core/addr.ts).
const fs = process.getBuiltinModule('node:fs');
const { join, resolve } = process.getBuiltinModule('node:path');
import type { AgentConfig } from '../config/types.ts';
import { ownedPrivately } from '../private-dir.ts';

export const ACCEPTED_DIR = '/var/lib/vigil/accepted';
// Records kept: the newest (by write) survive, one per config path that still exists.
const KEEP = 16;

interface AcceptedRecord { v: 1; program: string; path: string; text: string; config: AgentConfig }

// The program reading or writing: a record made by another build is not trusted to read the
// same text the same way (it would be corrected, but after a start on a stale reading).
function program(): string {
  const main = process.argv[1] && !process.getBuiltinModule('node:sea').isSea() ? process.argv[1] : process.execPath;
  try {
    const st = fs.statSync(main);
    return `${process.version} ${main} ${st.size} ${st.mtimeMs}`;
  } catch {
    return '';
  }
}

// A record's file: named by the config's absolute path, hashed (FNV-1a, 64 bits: a name, not a
// secret; node:crypto would cost the engine's start more than the whole lookup).
export function recordPath(file: string, dir = ACCEPTED_DIR): string {
  return join(dir, `${configHash(file)}.json`);
}

// bin/vigil's record_of computes the same: keep the two in step.
export function configHash(file: string): string {
  let h = 0xcbf29ce484222325n;
  for (const c of Buffer.from(resolve(file))) h = BigInt.asUintN(64, (h ^ BigInt(c)) * 0x100000001b3n);
  return h.toString(16).padStart(16, '0');
}

// The config a supervisor accepted for exactly this file's current text, or undefined (none,
// another text, another program, or anything about the directory or the record not as it must
// be: a miss costs only the wait it would have saved).
export function acceptedConfig(file: string, dir = ACCEPTED_DIR): AgentConfig | undefined {
  const path = resolve(file);
  let fd = -1;
  try {
    const d = fs.lstatSync(dir);
    if (!d.isDirectory() || !ownedPrivately(d)) return undefined;
    fd = fs.openSync(recordPath(path, dir), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    if (!ownedPrivately(fs.fstatSync(fd))) return undefined;
    const r = JSON.parse(fs.readFileSync(fd, 'utf8')) as AcceptedRecord;
    if (r.v !== 1 || r.path !== path || r.program !== program()) return undefined;
    return fs.readFileSync(path, 'utf8') === r.text ? r.config : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

// Records that `text`, read from `file`, parsed to `config`. Best effort: a record that cannot
// be written only means the next start waits for the parse. Returns why not, for a debug line.
export function rememberAccepted(file: string, text: string, config: AgentConfig, dir = ACCEPTED_DIR): string | undefined {
  const path = resolve(file);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const d = fs.lstatSync(dir);
    if (!d.isDirectory() || !ownedPrivately(d)) return `${dir} is not a directory of uid ${process.getuid!()} with mode 0700`;
    const record: AcceptedRecord = { v: 1, program: program(), path, text, config };
    const name = recordPath(path, dir);
    const tmp = `${name}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(record), { mode: 0o600 });
    fs.renameSync(tmp, name);
    prune(dir);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

// Records of config files that are gone (a test's or a demo's temporary directory, a config
// moved away) go first; then all but the newest KEEP.
function prune(dir: string): void {
  const records: { n: string; t: number }[] = [];
  for (const n of fs.readdirSync(dir)) {
    if (!n.endsWith('.json')) continue;
    const p = join(dir, n);
    try {
      const r = JSON.parse(fs.readFileSync(p, 'utf8')) as AcceptedRecord;
      if (typeof r.path === 'string' && fs.existsSync(r.path)) { records.push({ n, t: fs.statSync(p).mtimeMs }); continue; }
    } catch { /* torn or not ours: removed */ }
    fs.rmSync(p, { force: true });
  }
  if (records.length <= KEEP) return;
  records.sort((a, b) => b.t - a.t);
  for (const { n } of records.slice(KEEP)) fs.rmSync(join(dir, n), { force: true });
}
