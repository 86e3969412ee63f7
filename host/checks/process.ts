// process checks (keepalived's track_process): how many processes match a name (/proc/PID/comm),
// a command line (/proc/PID/cmdline) or a pid file, against min..max. Event-driven, not a /proc
// poll each interval:
//  - each matching process is watched by a pidfd (readable when it exits): a death is seen at
//    once, on any kernel since 5.3;
//  - new processes come from the kernel's proc connector (fork / exec / comm events), which
//    only speaks in the initial network namespace and to CAP_NET_ADMIN; where it stays silent
//    (a namespace, no privilege) /proc is scanned once per interval to find new ones, and
//    exits are still seen at once by their pidfds.
// The count must stay out of min..max for `delay` before the check fails, and back within for
// `forkDelay` before it passes (keepalived's terminate_delay and fork_delay).
import { readdirSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { CheckSpec } from '../config/types.ts';
import type { CheckReport } from './protocol.ts';
import { CHECK_CODES as E } from './errors.ts';
import { K, shim, type Shim } from '../net/shim.ts';
import { sockaddrNl } from '../net/sockaddr.ts';

const NETLINK_CONNECTOR = 11;
const CN_IDX_PROC = 1, CN_VAL_PROC = 1;
const PROC_CN_MCAST_LISTEN = 1;
const EV_FORK = 0x1, EV_EXEC = 0x2, EV_COMM = 0x200;
const COMM_LEN = 15;
const BATCH_MS = 20;

function readProc(pid: number, what: 'comm' | 'cmdline'): string | undefined {
  try { return readFileSync(`/proc/${pid}/${what}`, 'latin1'); } catch { return undefined; }
}

// `read` is readProc, or a cache of it when one pid is tested against many checks.
export function matches(c: CheckSpec, pid: number, read: (pid: number, what: 'comm' | 'cmdline') => string | undefined = readProc): boolean {
  const p = c.process!;
  if (p.process !== null) {
    const comm = read(pid, 'comm');
    return comm !== undefined && comm.replace(/\n$/, '') === p.process.slice(0, COMM_LEN);
  }
  if (p.cmdline !== null) {
    const raw = read(pid, 'cmdline');
    if (!raw) return false;
    const words = raw.split('\0');
    if (words[words.length - 1] === '') words.pop();
    const want = p.cmdline;
    if (p.paramMatch === 'exact') return words.length === want.length && want.every((w, i) => words[i] === w);
    if (words.length < want.length) return false;
    const last = want.length - 1;
    return want.every((w, i) => (i === last && p.paramMatch === 'initial' ? words[i].startsWith(w) : words[i] === w));
  }
  return false;
}

function cached(): (pid: number, what: 'comm' | 'cmdline') => string | undefined {
  const got: Partial<Record<'comm' | 'cmdline', string | undefined>> = {};
  return (pid, what) => (what in got ? got[what] : (got[what] = readProc(pid, what)));
}

interface Tracked { spec: CheckSpec; pids: Set<number>; up: boolean; settled: boolean; timer: NodeJS.Timeout | undefined; transitions: number; rounds: number; failures: number; pidfileWatch?: FSWatcher }

export class ProcessWatch {
  private readonly checks: Tracked[];
  private readonly report: (r: CheckReport) => void;
  private s: Shim | undefined;
  private readonly fds = new Map<number, number>();   // pid -> pidfd
  private nl = -1;
  private connector = false;                          // the proc connector answered
  private scanTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  mode = 'starting';
  private readonly names: Set<string>;                // the names checks match on (comm: 15 characters)
  private readonly anyCmdline: boolean;

  constructor(specs: CheckSpec[], report: (r: CheckReport) => void) {
    this.report = report;
    this.checks = specs.map((spec) => ({ spec, pids: new Set(), up: false, settled: false, timer: undefined, transitions: 0, rounds: 0, failures: 0 }));
    this.names = new Set(specs.flatMap((c) => (c.process!.process !== null ? [c.process!.process.slice(0, COMM_LEN)] : [])));
    this.anyCmdline = specs.some((c) => c.process!.cmdline !== null);
  }

  start(): void {
    try { this.s = shim(); } catch { this.s = undefined; }
    this.openConnector();
    for (const t of this.checks) if (t.spec.process!.pidfile) this.watchPidfile(t);
    this.scan();
    for (const t of this.checks) this.decide(t, true);
    // No word from the connector: find new processes by a scan each interval instead.
    setTimeout(() => {
      if (this.stopped) return;
      this.mode = this.connector ? 'events: proc connector and pidfds' : `pidfds; /proc scanned every ${this.minInterval() / 1000}ms for new processes (no proc connector here)`;
      if (!this.connector) this.scheduleScan();
    }, 250).unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.scanTimer);
    for (const t of this.checks) { clearTimeout(t.timer); t.pidfileWatch?.close(); }
    for (const fd of this.fds.values()) this.closeFd(fd);
    this.fds.clear();
    if (this.nl >= 0 && this.s) { this.s.pollStop(this.nl); this.s.close(this.nl); }
    this.nl = -1;
  }

  private minInterval(): number { return Math.min(...this.checks.map((t) => t.spec.intervalUs / 1000)); }

  private scheduleScan(): void {
    this.scanTimer = setTimeout(() => {
      // A new process can change a verdict only below min or with a max: otherwise no scan
      // (exits come by pidfd), so a healthy check costs nothing.
      if (this.checks.some((t) => !t.spec.process!.pidfile && (t.pids.size < t.spec.process!.min || t.spec.process!.max !== null))) {
        this.scan();
        for (const t of this.checks) this.decide(t, false);
      }
      this.scheduleScan();
    }, this.minInterval());
    this.scanTimer.unref();
  }

  // Every process, once: at start, and each interval where no connector tells of new ones.
  private scan(): void {
    const pids = readdirSync('/proc').filter((n) => n.charCodeAt(0) <= 57).map(Number).filter((n) => n > 0);
    for (const t of this.checks) if (t.spec.process!.pidfile) this.readPidfile(t);
    const named = this.checks.filter((t) => !t.spec.process!.pidfile);
    // Each process's comm (and cmdline) read once, whatever the number of checks.
    for (const pid of pids) {
      const read = cached();
      for (const t of named) if (!t.pids.has(pid) && matches(t.spec, pid, read)) this.add(t, pid);
    }
  }

  private add(t: Tracked, pid: number): void {
    t.pids.add(pid);
    if (this.fds.has(pid) || !this.s) return;
    let fd: number;
    try { fd = this.s.pidfdOpen(pid); } catch { t.pids.delete(pid); return; }   // gone already
    this.fds.set(pid, fd);
    this.s.pollStart(fd, K('UV_READABLE'), () => this.gone(pid));
  }

  private gone(pid: number): void {
    const fd = this.fds.get(pid);
    if (fd !== undefined) { this.closeFd(fd); this.fds.delete(pid); }
    for (const t of this.checks) if (t.pids.delete(pid)) this.decide(t, false);
  }

  private closeFd(fd: number): void { try { this.s!.pollStop(fd); this.s!.close(fd); } catch { /* closed */ } }

  private watchPidfile(t: Tracked): void {
    const path = t.spec.process!.pidfile!;
    try {
      t.pidfileWatch = watch(dirname(path), { persistent: false }, (_e, name) => {
        if (name === null || name === basename(path)) { this.readPidfile(t); this.decide(t, false); }
      });
      t.pidfileWatch.on('error', () => { /* the scan each interval reads it */ });
    } catch { /* no directory yet: the scan each interval reads it */ }
  }

  private readPidfile(t: Tracked): void {
    let pid: number | undefined;
    try { pid = Number.parseInt(readFileSync(t.spec.process!.pidfile!, 'latin1').trim(), 10); } catch { pid = undefined; }
    for (const old of t.pids) if (old !== pid) t.pids.delete(old);
    if (pid && pid > 0 && !t.pids.has(pid) && readProc(pid, 'comm') !== undefined) this.add(t, pid);
  }

  // The count against min..max, through the delays.
  private decide(t: Tracked, first: boolean): void {
    const p = t.spec.process!;
    const n = t.pids.size;
    const ok = n >= p.min && (p.max === null || n <= p.max);
    t.rounds++;
    if (!ok) t.failures++;
    if (first) { t.up = ok; t.settled = true; this.emit(t, n); return; }
    if (ok === t.up) { clearTimeout(t.timer); t.timer = undefined; return; }
    if (t.timer) return;
    const wait = (ok ? p.forkDelayUs : p.delayUs) / 1000;
    const flip = () => {
      t.timer = undefined;
      const m = t.pids.size, now = m >= p.min && (p.max === null || m <= p.max);
      if (now === t.up) return;
      t.up = now; t.transitions++;
      this.emit(t, m);
    };
    if (wait <= 0) flip(); else { t.timer = setTimeout(flip, wait); t.timer.unref(); }
  }

  private emit(t: Tracked, n: number): void {
    const p = t.spec.process!;
    const range = p.max === null ? `at least ${p.min}` : p.min === p.max ? `${p.min}` : `${p.min}..${p.max}`;
    const error = t.up ? null : `${n} matching process${n === 1 ? '' : 'es'}, ${range} wanted`;
    this.report({
      check: t.spec.name, up: t.up, settled: t.settled, error, code: error ? E.PROCESS : null, latencyMs: null,
      transitions: t.transitions, rounds: t.rounds, failures: t.failures,
      detail: { exitCode: null, output: `${n} running: ${[...t.pids].slice(0, 8).join(' ')}`.trim() },
    });
  }

  // ---- the proc connector ----------------------------------------------------------------

  private openConnector(): void {
    const s = this.s;
    if (!s) return;
    try {
      this.nl = s.socket(K('AF_NETLINK'), K('SOCK_DGRAM'), NETLINK_CONNECTOR);
      s.bind(this.nl, sockaddrNl(0, CN_IDX_PROC));
      const msg = new Uint8Array(40);
      const v = new DataView(msg.buffer);
      v.setUint32(0, 40, true); v.setUint16(4, 3 /* NLMSG_DONE */, true); v.setUint32(12, process.pid, true);
      v.setUint32(16, CN_IDX_PROC, true); v.setUint32(20, CN_VAL_PROC, true); v.setUint16(32, 4, true);
      v.setUint32(36, PROC_CN_MCAST_LISTEN, true);
      s.sendTo(this.nl, msg, 0, 40, sockaddrNl(0, 0));
    } catch {
      if (this.nl >= 0) s.close(this.nl);
      this.nl = -1;
      return;
    }
    const buf = new Uint8Array(4096), src = new Uint8Array(12), meta = new Int32Array(8);
    const v = new DataView(buf.buffer);
    // The box's forks and execs come one datagram at a time: read them in batches, BATCH_MS
    // after the first of a batch, not a wake-up each (exits are the pidfds', at once).
    const drain = () => {
      if (this.nl < 0) return;
      for (;;) {
        let n: number;
        try { n = s.recvMsg(this.nl, buf, 0, buf.length, src, meta); } catch { break; }
        if (n < 0) break;
        this.connector = true;
        // nlmsghdr (16), cn_msg (20), proc_event: what, cpu, timestamp (8), then the event.
        if (n < 16 + 20 + 16 + 8) continue;
        const what = v.getUint32(36, true);
        const at = 52;
        let pid = 0, parent = 0;
        if (what === EV_FORK) { parent = v.getUint32(at + 4, true); pid = v.getUint32(at + 12, true); }
        else if (what === EV_EXEC || what === EV_COMM) pid = v.getUint32(at + 4, true);   // the thread group
        else continue;
        this.event(what, pid, parent);
      }
      if (!this.stopped) s.pollStart(this.nl, K('UV_READABLE'), wake);
    };
    const wake = () => { s.pollStop(this.nl); setTimeout(drain, BATCH_MS).unref(); };
    s.pollStart(this.nl, K('UV_READABLE'), wake);
  }

  // Every fork and exec on the box comes here: most are dropped after one lookup (a fork of an
  // untracked parent) or one read of comm (an exec no check's name matches).
  private event(what: number, pid: number, parent: number): void {
    const read = cached();
    if (what === EV_FORK) { if (!this.fds.has(parent)) return; }
    else if (!this.fds.has(pid) && !this.anyCmdline && !this.names.has((read(pid, 'comm') ?? '').replace(/\n$/, ''))) return;
    for (const t of this.checks) {
      if (t.spec.process!.pidfile) continue;
      const had = t.pids.has(pid);
      // A fork's child runs its parent's program until it execs: counted when its parent is.
      // (Its comm and cmdline are its parent's until then: nothing to read for an untracked one.)
      const now = what === EV_FORK ? t.pids.has(parent) || had : matches(t.spec, pid, read);
      if (now && !had) { this.add(t, pid); this.decide(t, false); }
      else if (!now && had) { t.pids.delete(pid); this.decide(t, false); }
    }
  }
}
