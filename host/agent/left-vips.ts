// The VIPs a run may leave behind if it is killed whole (kill -9, an OOM kill), as an `ip -batch`
// file that bin/vigil carries out before Node starts: a restart removes them ~5 ms after exec,
// where Node's own boot alone is 35-40 ms here (keepalived, in C: ~22-40 ms). The supervisor
// writes the file when it accepts a config and again at each reload, and removes it at a clean
// stop. Its first line names the writer's pid: the launcher leaves the VIPs alone while that
// process lives (the same config started twice by mistake). Node's own removal
// (host/agent/stale-vips.ts) still follows, for the single executable, which has no launcher.
//
// In /run/vigil (root's, 0700, a tmpfs: gone at a reboot, with the VIPs), never where another
// user could write: ip runs the file as root.
// process.getBuiltinModule, not import: the supervisor's start path loads this.
const fs = process.getBuiltinModule('node:fs');
const { join, resolve } = process.getBuiltinModule('node:path');
import type { AgentConfig } from '../config/types.ts';
import type { Logger } from './log.ts';
import { configHash } from './accepted.ts';
import { leftVipsOf, type LeftVip } from './stale-vips.ts';
import { addressesNow, isBoxOwn } from './own-address.ts';
import type { AddrInfo } from '../net/netlink/addresses.ts';
import { shim } from '../net/shim.ts';
import { ownedPrivately } from '../private-dir.ts';

export const RUN_DIR = '/run/vigil';

export function leftVipsPath(file: string, dir = RUN_DIR): string {
  return join(dir, `${configHash(file)}.vips`);
}

/** Writes (atomically) the batch that removes `config`'s VIPs; says why not, for a debug line. */
export function writeLeftVips(file: string, config: AgentConfig, dir = RUN_DIR): string | undefined {
  // The box's own address, named as a VIP by mistake, is never written down (own-address.ts).
  let present: Map<number, AddrInfo[]> | undefined;
  const boxOwn = (ifname: string, address: string) => {
    try {
      present ??= addressesNow();
      return isBoxOwn(present.get(shim().ifNameToIndex(ifname)) ?? [], address);
    } catch { return false; }   // no such interface (yet): nothing of its own to keep
  };
  const lines = [`# ${process.pid} ${resolve(file)}`,
    '# vigil run: the VIPs bin/vigil (or `vigil cleanup`) removes when this run was killed',
    // The instance's name only in a comment (ip stops reading a line at "#"), for the log line.
    ...leftVipsOf(config).filter((v) => !boxOwn(v.ifname, v.address))
      .map((v) => `address del ${v.address}/${v.prefixLen} dev ${v.ifname} # ${v.instance.replace(/\s/g, '_')}`)];
  try {
    try { fs.mkdirSync(dir, { mode: 0o700 }); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; }
    const d = fs.lstatSync(dir);
    if (!d.isDirectory() || !ownedPrivately(d)) return `${dir} is not a directory of uid ${process.getuid!()} with mode 0700`;
    const name = leftVipsPath(file, dir), tmp = `${name}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${lines.join('\n')}\n`, { mode: 0o600 });
    fs.renameSync(tmp, name);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

const LINE = /^address del ([^/\s]+)\/(\d+) dev (\S+) # (\S+)$/;

/** The batch for `file`: who wrote it and the VIPs in it, or undefined (none, or not root's own). */
export function readLeftVips(file: string, dir = RUN_DIR): { pid: number; vips: LeftVip[] } | undefined {
  try {
    const d = fs.lstatSync(dir), name = leftVipsPath(file, dir), f = fs.lstatSync(name);
    if (!d.isDirectory() || !ownedPrivately(d) || !f.isFile() || !ownedPrivately(f)) return undefined;
    const lines = fs.readFileSync(name, 'utf8').split('\n');
    const pid = Number(/^# (\d+) /.exec(lines[0] ?? '')?.[1]);
    const vips = lines.flatMap((l) => {
      const m = LINE.exec(l);
      return m ? [{ address: m[1]!, prefixLen: Number(m[2]), ifname: m[3]!, instance: m[4]! }] : [];
    });
    return { pid, vips };
  } catch {
    return undefined;
  }
}

/** Whether `pid` is a live process (a zombie is not), as bin/vigil tells. */
export function alive(pid: number): boolean {
  if (!(pid > 0) || pid === process.pid) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

/** At a clean stop: the engine has removed the VIPs itself. Only a file this process wrote. */
export function forgetLeftVips(file: string, dir = RUN_DIR): void {
  const name = leftVipsPath(file, dir);
  try {
    if (fs.readFileSync(name, 'utf8').startsWith(`# ${process.pid} `)) fs.rmSync(name, { force: true });
  } catch { /* none */ }
}

/**
 * What bin/vigil removed before Node started (VIGIL_LEFT_VIPS: the batch it ran; _RC: ip's exit
 * status; _AT: when it was done, epoch seconds), one warning per VIP, as stale-vips.ts words it.
 * ip -force goes on past a failed line (a VIP not there) and names each on stderr, kept in
 * the batch's `.err` beside it.
 */
export function reportLeftVips(log: Logger): void {
  const batch = process.env.VIGIL_LEFT_VIPS, rc = Number(process.env.VIGIL_LEFT_VIPS_RC), at = Number(process.env.VIGIL_LEFT_VIPS_AT) * 1000;
  for (const k of ['VIGIL_LEFT_VIPS', 'VIGIL_LEFT_VIPS_RC', 'VIGIL_LEFT_VIPS_AT']) delete process.env[k];   // not for the children
  if (!batch) return;
  let text = '', err = '';
  try {
    text = fs.readFileSync(batch, 'utf8');
    err = fs.readFileSync(`${batch}.err`, 'utf8');
    fs.rmSync(`${batch}.err`, { force: true });
  } catch { /* no stderr kept: only an exit status of 0 says what was done */ }
  if (rc !== 0 && !/^Command failed /m.test(err)) {
    if (err.trim()) log.warn(`removing the VIPs left by an earlier run before the start failed: ${err.trim().split('\n')[0]}`);
    return;
  }
  const failed = new Set([...err.matchAll(/^Command failed .*:(\d+)$/gm)].map((m) => Number(m[1])));
  text.split('\n').forEach((line, i) => {
    const m = LINE.exec(line);
    if (!m || failed.has(i + 1)) return;
    // startMs: since this process's Node began, so below 0: before it, in the launcher.
    log.warn(`${m[4]}: removing stale VIP ${m[1]} from ${m[3]} (left by an earlier run)`,
      { instance: m[4], startMs: Number.isFinite(at) ? Math.round(at - performance.timeOrigin) : undefined, by: 'bin/vigil' });
  });
}
