// A small lab for the agent benchmarks (bench/failover.ts): namespaces on a bridge, real agents
// (`bin/vigil run` and Debian's keepalived) started in them, a capture on the bridge, netlink
// monitors, and per-process CPU and memory from /proc.
//
// Every namespace is named with the caller's prefix, and nothing is left behind: a run that
// ends (or throws) tears down in its finally; a process exit or SIGINT/SIGTERM does too; and a
// reaper (a detached shell holding a pipe from this process) sweeps the prefix when this
// process dies without a chance to clean up (SIGKILL: bench/run.ts's per-module timeout).
// Clocks: tcpdump and `ip -ts monitor` both stamp with CLOCK_REALTIME, and so do wall() here,
// so times from all three compare directly (milliseconds since the epoch, as doubles).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { recordPath } from '../host/agent/accepted.ts';
import { leftVipsPath } from '../host/agent/left-vips.ts';
import { ip, nsExec, wireBridge } from '../test/net/netns.ts';

export { ip, nsExec };

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const VIGIL = join(ROOT, 'bin', 'vigil');

/** CLOCK_REALTIME in milliseconds, with sub-millisecond resolution. */
export const wall = (): number => performance.timeOrigin + performance.now();
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function have(cmd: string): boolean {
  try { execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }); return true; } catch { return false; }
}

// ---- clean-up ----------------------------------------------------------------------------------

const SWEEP = (prefix: string) => `for ns in $(ip netns list | awk '{print $1}' | grep '^${prefix}'); do
  pids=$(ip netns pids "$ns"); [ -n "$pids" ] && kill -TERM $pids 2>/dev/null
done
sleep 0.5
for ns in $(ip netns list | awk '{print $1}' | grep '^${prefix}'); do
  pids=$(ip netns pids "$ns"); [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
  ip netns del "$ns" 2>/dev/null
done`;

/** Stops every process in the prefix's namespaces (they are ours) and deletes the namespaces. */
export function sweep(prefix: string): void {
  if (!/^[a-z0-9-]+$/.test(prefix)) throw new Error(`bad prefix ${prefix}`);
  const left = ip('netns', 'list').split('\n').map((l) => l.split(' ')[0]).filter((n) => n && n.startsWith(prefix));
  if (!left.length) return;
  execFileSync('sh', ['-c', SWEEP(prefix)], { stdio: 'ignore' });
}

/**
 * A detached shell that waits for this process to go away (its stdin pipe closes, whatever the
 * cause) and then sweeps `prefix` and removes `dir`. close() ends it quietly.
 */
export function reaper(prefix: string, dir: string): { close(): void } {
  const script = `read -r line; if [ "$line" = done ]; then exit 0; fi\n${SWEEP(prefix)}\nrm -rf '${dir}'`;
  const p = spawn('sh', ['-c', script], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  p.unref();
  (p.stdin as unknown as { unref?: () => void }).unref?.();
  p.stdin!.on('error', () => { /* gone */ });
  return { close: () => { try { p.stdin!.end('done\n'); } catch { /* gone */ } } };
}

// ---- namespaces --------------------------------------------------------------------------------

export interface Host { name: string; ns: string; v4: string; port: string }

/** `names.length` namespaces `${prefix}${name}`, eth0 on br0 in `${prefix}br`; host i is 192.0.2.(10+i)/24. */
export class Lan {
  readonly prefix: string;
  readonly br: string;
  readonly hosts: Host[] = [];
  constructor(prefix: string, names: string[]) {
    this.prefix = prefix;
    this.br = `${prefix}br`;
    sweep(prefix);
    try {
      for (const w of wireBridge(prefix, names, (ns) => this.addNs(ns))) this.hosts.push({ name: w.name, ns: w.ns, v4: w.v4, port: w.port });
    } catch (e) {
      this.destroy();
      throw e;
    }
  }
  private addNs(ns: string): void {
    ip('netns', 'add', ns);
    nsExec(ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1');
    nsExec(ns, 'ip', 'link', 'set', 'lo', 'up');
  }
  /** The switch port of `h` goes down: the box is off the LAN (its eth0 loses carrier). */
  cut(h: Host): void { nsExec(this.br, 'ip', 'link', 'set', h.port, 'down'); }
  restore(h: Host): void { nsExec(this.br, 'ip', 'link', 'set', h.port, 'up'); }
  holds(h: Host, address: string): boolean {
    const j = JSON.parse(nsExec(h.ns, 'ip', '-j', '-4', 'addr', 'show', 'dev', 'eth0'));
    return (j[0]?.addr_info ?? []).some((a: { local: string }) => a.local === address);
  }
  destroy(): void { sweep(this.prefix); }
}

// ---- long-running helpers: line readers ----------------------------------------------------------

class Lines {
  readonly proc: ChildProcess;
  readonly stderr: string[] = [];
  private watchers = new Set<() => void>();
  exited: Promise<void>;
  constructor(proc: ChildProcess, onLine: (l: string) => void) {
    this.proc = proc;
    createInterface({ input: proc.stdout! }).on('line', (l) => { onLine(l); this.poke(); });
    createInterface({ input: proc.stderr! }).on('line', (l) => { if (this.stderr.length < 200) this.stderr.push(l); this.poke(); });
    this.exited = new Promise((r) => proc.on('exit', () => r()));
  }
  poke(): void { for (const w of [...this.watchers]) w(); }
  /** Resolves when `pred()` holds (checked after every line), or rejects after `ms`. */
  until<T>(pred: () => T | undefined | false, ms: number, what: string): Promise<T> {
    const v = pred();
    if (v) return Promise.resolve(v);
    return new Promise((resolve, reject) => {
      const check = () => { const x = pred(); if (x) { done(); resolve(x); } };
      const timer = setTimeout(() => { done(); reject(new Error(`timed out after ${ms} ms waiting for ${what}`)); }, ms);
      const done = () => { clearTimeout(timer); this.watchers.delete(check); };
      this.watchers.add(check);
    });
  }
  async stop(sig: NodeJS.Signals = 'SIGINT'): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(sig);
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 2000);
    await this.exited;
    clearTimeout(t);
  }
}

export interface Advert { t: number; src: string; vrid: number; prio: number; version: number }

/** tcpdump on br0 in the bridge namespace: every VRRP advert, host-stamped (CLOCK_REALTIME, ns). */
export class Wire extends Lines {
  readonly adverts: Advert[] = [];
  dropped = -1;
  static async start(brNs: string, ifname = 'br0'): Promise<Wire> {
    const p = spawn('ip', ['netns', 'exec', brNs, 'tcpdump', '-i', ifname, '-n', '-tt', '-l', '--immediate-mode',
      '--time-stamp-precision=nano', '-B', '8192', 'ip proto 112'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const w = new Wire(p);
    await w.until(() => w.stderr.some((l) => /listening on/.test(l)), 5000, 'tcpdump to listen');
    return w;
  }
  private constructor(p: ChildProcess) {
    super(p, (l) => {
      // 1795720336.525645855 IP 192.0.2.10 > 224.0.0.18: VRRPv3, Advertisement, vrid 51, prio 150, intvl 1cs, length 12
      const m = /^(\d+)\.(\d+) IP (\S+) > \S+: VRRPv(\d), Advertisement, vrid (\d+), prio (\d+)/.exec(l);
      if (!m) return;
      const t = Number(m[1]) * 1000 + Number(m[2].padEnd(9, '0')) / 1e6;
      this.adverts.push({ t, src: m[3], version: Number(m[4]), vrid: Number(m[5]), prio: Number(m[6]) });
    });
  }
  /** The first advert after `after` matching `pred` (searching back from the newest). */
  firstAfter(after: number, pred: (a: Advert) => boolean): Advert | undefined {
    let hit: Advert | undefined;
    for (let i = this.adverts.length - 1; i >= 0 && this.adverts[i].t > after; i--) if (pred(this.adverts[i])) hit = this.adverts[i];
    return hit;
  }
  from(src: string, after = -Infinity, before = Infinity): Advert[] {
    return this.adverts.filter((a) => a.src === src && a.t > after && a.t < before);
  }
  /** tcpdump's own count of packets the kernel dropped before it read them (after stop()). */
  override async stop(): Promise<void> {
    await super.stop('SIGINT');
    const m = this.stderr.map((l) => /(\d+) packets? dropped by kernel/.exec(l)).find(Boolean);
    this.dropped = m ? Number(m[1]) : -1;
  }
}

export interface NlEvent { t: number; text: string }

/** `ip -ts monitor WHAT` in a namespace; each event with its timestamp (CLOCK_REALTIME). */
export class Monitor extends Lines {
  readonly events: NlEvent[] = [];
  static start(ns: string, what: 'address' | 'link'): Monitor {
    const p = spawn('ip', ['-ts', '-n', ns, 'monitor', what], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TZ: 'UTC' } });
    return new Monitor(p);
  }
  private constructor(p: ChildProcess) {
    super(p, (l) => {
      // [2026-11-26T19:12:07.355642] 2: eth0    inet 192.0.2.100/24 scope global secondary eth0
      const m = /^\[(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)\.(\d+)\]\s*(.*)$/.exec(l);
      if (!m) return;
      const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
      const t = Date.UTC(y, mo - 1, d, h, mi, s) + Number(m[7].padEnd(6, '0')) / 1000;
      this.events.push({ t, text: m[8] });
    });
  }
  first(re: RegExp, after: number): NlEvent | undefined {
    return this.events.find((e) => e.t >= after && re.test(e.text));
  }
}

// ---- agents ------------------------------------------------------------------------------------

export type Kind = 'vigil' | 'keepalived';

export interface AgentOptions {
  kind: Kind; host: Host; priority: number; intervalMs: number; vrid?: number; vip?: string;
  env?: Record<string, string>;
  /** keepalived only: vrrp_rt_priority 50 and vrrp_no_swap (vigil's config always asks for SCHED_FIFO 50). */
  rt?: boolean;
  /** vigil only: the program, when not bin/vigil (dist/vigil, the single executable). */
  program?: string;
  /** vigil only: as a first start with this config, without the record of it a restart uses (host/agent/accepted.ts). */
  fresh?: boolean;
}

export class Agent extends Lines {
  readonly kind: Kind;
  readonly host: Host;
  readonly spawnedAt: number;
  private readonly pidFile: string | undefined;
  readonly lines: string[];
  private constructor(kind: Kind, host: Host, p: ChildProcess, spawnedAt: number, pidFile?: string, lines: string[] = []) {
    super(p, (l) => { if (lines.length < 5000) lines.push(l); });
    this.lines = lines;
    this.kind = kind; this.host = host; this.spawnedAt = spawnedAt; this.pidFile = pidFile;
  }

  static start(o: AgentOptions, dir: string): Agent {
    const vrid = o.vrid ?? 51;
    const vip = o.vip ?? '192.0.2.100/24';
    // A config file per program too: each keeps its own record of the config it last accepted
    // (host/agent/accepted.ts), which a record made by another program would not be.
    const name = `${o.kind}${o.rt ? '-rt' : ''}${o.program ? '-' + basename(o.program) : ''}-${o.host.name}-${o.priority}-${o.intervalMs}`;
    const env = { ...process.env, ...o.env };
    if (o.kind === 'vigil') {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(file, [
        'instances:',
        '  - name: VI_1',
        '    interface: eth0',
        `    vrid: ${vrid}`,
        `    priority: ${o.priority}`,
        '    version: 3',
        `    advertInterval: ${o.intervalMs}ms`,
        '    preempt: true',
        `    virtualAddresses: [${vip}]`,
        'status: { listen: 127.0.0.1:9110 }',
        'realtime: { priority: 50 }',
        '',
      ].join('\n'));
      if (o.fresh) rmSync(recordPath(file), { force: true });
      const t = wall();
      const p = spawn('ip', ['netns', 'exec', o.host.ns, o.program ?? VIGIL, 'run', '-c', file, '--log-json'], { stdio: ['ignore', 'pipe', 'pipe'], env });
      return new Agent('vigil', o.host, p, t);
    }
    const file = join(dir, `${name}.conf`);
    writeFileSync(file, `global_defs {
  router_id ${o.host.name}
  vrrp_version 3
  vrrp_garp_master_delay 0
${o.rt ? '  vrrp_rt_priority 50\n  vrrp_no_swap\n' : ''}}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id ${vrid}
  priority ${o.priority}
  advert_int ${(o.intervalMs / 1000).toString()}
  virtual_ipaddress {
    ${vip}
  }
}
`);
    const pid = (x: string) => join(dir, `${name}.${x}.pid`);
    const t = wall();
    const p = spawn('ip', ['netns', 'exec', o.host.ns, 'keepalived', '-n', '-l', '-D', '-G', '-P', '-f', file,
      '-p', pid('main'), '-r', pid('vrrp'), '-c', pid('check')], { stdio: ['ignore', 'pipe', 'pipe'], env });
    return new Agent('keepalived', o.host, p, t, pid('vrrp'));
  }

  /** Log lines and stderr together (vigil logs JSON on stderr; keepalived -l on stdout). */
  all(): string[] { return [...this.lines, ...this.stderr]; }

  waitLog(re: RegExp, ms: number): Promise<string> {
    return this.until(() => this.all().find((l) => re.test(l)), ms, `${this.kind} in ${this.host.ns} to log ${re}`);
  }

  /**
   * The processes doing the work. vigil: the node (or dist/vigil) spawned (ip netns exec and
   * bin/vigil both exec, so it is the PID spawn() returned) and, when `vigil run` supervises, its `engine`
   * child, which runs VRRP (else vrrp = main). keepalived: the parent and its VRRP child.
   */
  pids(): { main: number; vrrp: number } {
    const main = this.proc.pid!;
    if (this.kind === 'vigil') {
      const exe = readlinkSync(`/proc/${main}/exe`);
      if (!/node|\/vigil$/.test(exe)) throw new Error(`vigil pid ${main} is ${exe}, not node or the single executable`);
      const engine = children(main).find((c) => {
        try { return readFileSync(`/proc/${c}/cmdline`, 'utf8').split('\0').includes('engine'); } catch { return false; }
      });
      return { main, vrrp: engine ?? main };
    }
    let vrrp = NaN;
    try { vrrp = Number(readFileSync(this.pidFile!, 'utf8').trim()); } catch { /* not yet */ }
    if (!(vrrp > 0)) vrrp = children(main)[0] ?? NaN;
    return { main, vrrp };
  }

  async stop(): Promise<void> { await super.stop('SIGTERM'); }
}

export function children(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(d));
    } catch { /* gone */ }
  }
  return out;
}

// ---- /proc -------------------------------------------------------------------------------------

/** CPU time of every thread of `pid`, in ms: schedstat's on-CPU nanoseconds (precise), and utime+stime ticks. */
export function cpuMs(pid: number): { sched: number; ticks: number; wakeups: number } {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try { ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]); } catch { /* exited */ }
  }
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(rest[11]) + Number(rest[12]);   // utime, stime (fields 14, 15)
  return { sched: ns / 1e6, ticks: ticks * 10, wakeups: switches(pid).voluntary };       // CLK_TCK 100
}

/** The whole machine's CPU counters (/proc/stat, in ticks): busy and steal, for a window's load. */
export function systemCpu(): { busy: number; steal: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  return { busy: user + nice + system + irq + softirq, steal, total };
}

/** Context switches of the main thread (the event loop): voluntary ones are wakeups from sleep. */
export function switches(pid: number): { voluntary: number; involuntary: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const n = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN);
  return { voluntary: n('voluntary_ctxt_switches'), involuntary: n('nonvoluntary_ctxt_switches') };
}

/** VmRSS and VmHWM in MB, PSS in MB (smaps_rollup), and the scheduling policy. */
export function memory(pid: number): { rssMB: number; hwmMB: number; pssMB: number; threads: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN);
  let pss = NaN;
  try { pss = Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? NaN) / 1024; } catch { /* old kernel */ }
  return { rssMB: kb('VmRSS') / 1024, hwmMB: kb('VmHWM') / 1024, pssMB: pss, threads: kb('Threads') };
}

export function policy(pid: number): string {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  const rtprio = Number(rest[37]);       // field 40
  const pol = Number(rest[38]);          // field 41
  return ['OTHER', 'FIFO', 'RR', 'BATCH', '', 'IDLE', 'DEADLINE'][pol] + (rtprio ? ` ${rtprio}` : '');
}

// ---- small stats -------------------------------------------------------------------------------

// The newest host source's mtime (host/**/*.ts): an executable older than it runs older code.
export function newestHostSource(dir = join(ROOT, 'host')): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newestHostSource(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

export function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i];
}
export const median = (xs: number[]) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const max = (xs: number[]) => (xs.length ? Math.max(...xs) : NaN);
export const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

// Removed with the records vigil's supervisors kept of its configs (host/agent/accepted.ts).
export function workdir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
  return {
    dir,
    remove: () => {
      for (const f of readdirSync(dir)) {
        if (!f.endsWith('.yaml')) continue;
        for (const p of [recordPath(join(dir, f)), leftVipsPath(join(dir, f)), `${leftVipsPath(join(dir, f))}.err`]) rmSync(p, { force: true });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
