// The supervisor: `vigil run` is a small parent that runs the VRRP engine as a child of the
// same binary, restarts it when it dies (within a second, backing off if it keeps dying), and
// stops it in order on SIGTERM. When the engine dies without cleaning up (SIGKILL, a crash),
// the parent removes its VIPs at once: the backup on the LAN takes over after
// Master_Down_Interval, and this box must not answer for the VIP meanwhile.
//
// With checks in the config it also runs the checker (`vigil checker`, host/checks/), restarted
// the same way, and relays its stdout lines (check reports) to the engine's stdin: the checks
// never share a process with the engine (docs/ARCHITECTURE.md "Processes").
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from './log.ts';
import type { AgentConfig } from '../config/types.ts';
import { configLine } from './spec.ts';
import { spawnEngine } from './spawn.ts';
import { ChildSlot } from './child-slot.ts';
import { checkerSilence } from './checker-watchdog.ts';
import { isBoxOwn } from './own-address.ts';

const LB_STOP_MS = 3000;
import { Netlink } from '../net/netlink.ts';
import { ifIndex } from '../net/vrrp-socket.ts';
import { K, shim } from '../net/shim.ts';

export type { EngineProcess } from './engine-process-handle.ts';
export { adoptEngine } from './engine-process-handle.ts';
import type { EngineProcess } from './engine-process-handle.ts';

export interface SupervisorOptions {
  log: Logger;
  // How to start the engine: argv for the same binary (engineArgv, host/agent/boot.ts).
  command: string;
  args: string[];
  // How to start the checker (the same binary's `checker` command); absent: no checks run.
  checkerArgs?: string[];
  // How to start the load balancer (`lb run`), when the config has virtual servers.
  lbArgs?: string[];
  config: AgentConfig;
  // The first engine, spawned (with spawnEngine) before the config was read: its Node starts
  // while this process parses the YAML, instead of after (exec-to-first-advert).
  first?: EngineProcess;
}


/**
 * The supervisor's main thread at real-time priority, one below the engine's: when the engine
 * dies it must remove the VIPs before the backup's Master_Down_Interval (~36 ms at 10 ms
 * adverts) has run out, and as an ordinary process on a busy box its wake-up alone was measured
 * at up to ~60 ms (test/agent/supervisor.test.ts). It sleeps otherwise. Returns why not, or
 * undefined.
 */
export function supervisorRealtime(enginePriority: number): string | undefined {
  try {
    // SCHED_RESET_ON_FORK: what this process starts (engines, the checker) begins as an
    // ordinary process; an engine then sets its own policy from its config.
    shim().schedSetScheduler(K('SCHED_FIFO') | K('SCHED_RESET_ON_FORK'), Math.max(1, enginePriority - 1));
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

// A crashed child is restarted within a second (issue #6), however often it has crashed: the
// backoff doubles from 100 ms and stops at 1 s. A VRRP engine down is a VIP down; an engine
// that dies at once every second costs one start (~0.15 s of CPU) a second.
const FIRST_RESTART_MS = 100;
const MAX_RESTART_MS = 1000;
const STABLE_MS = 30_000;       // an engine up this long resets the backoff
const STOP_TIMEOUT_MS = 10_000;

export class Supervisor {
  private child: EngineProcess | undefined;
  private startedAt = 0;
  private backoff = FIRST_RESTART_MS;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private config: AgentConfig;
  private readonly o: SupervisorOptions;
  restarts = 0;
  private done: (code: number) => void = () => {};
  readonly finished: Promise<number>;

  constructor(o: SupervisorOptions) {
    this.o = o;
    this.config = o.config;
    // Unsafe scripts the file runs anyway (security.allowUnsafeScripts): said at every start.
    for (const w of o.config.security?.warnings ?? []) o.log.warn(w);
    this.finished = new Promise((r) => { this.done = r; }).then((code) => { this.close(); return code as number; });
  }

  // ---- the checker ----------------------------------------------------------------------------
  private checker: ChildProcess | undefined;
  private checkerStartedAt = 0;
  private checkerBackoff = FIRST_RESTART_MS;
  private checkerTimer: NodeJS.Timeout | undefined;
  private checkerWatch: NodeJS.Timeout | undefined;
  checkerRestarts = 0;

  private startChecker(): void {
    clearTimeout(this.checkerTimer);
    if (this.stopping || !this.o.checkerArgs || this.config.checks.length === 0 || this.checker) return;
    this.checkerStartedAt = Date.now();
    const child = spawn(this.o.command, this.o.checkerArgs, {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, VIGIL_SUPERVISED: '1' },
    });
    this.checker = child;
    this.o.log.debug('checker started', { pid: child.pid });
    // Silent too long: hung (host/agent/checker-watchdog.ts), killed and restarted below.
    let lastLine = performance.now(), seenLine = false;
    clearInterval(this.checkerWatch);
    this.checkerWatch = setInterval(() => {
      const why = checkerSilence(this.config.checks, performance.now(), lastLine, seenLine);
      if (!why || child !== this.checker) return;
      clearInterval(this.checkerWatch);
      this.o.log.error(`${why}: killing it to start it again (the engine keeps the last check states meanwhile)`, { pid: child.pid });
      child.kill('SIGKILL');
    }, 1000).unref();
    // Whole lines only, so a report is never split between two engine writes.
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lastLine = performance.now(); seenLine = true;
      if (line.length >= 65536) return;
      const name = /^\{"check":("(?:[^"\\]|\\.)*")/.exec(line)?.[1];
      if (name) this.lastReport.set(name, line);
      const engine = this.child?.stdin;
      if (engine && engine.writable) engine.write(line + '\n');
      this.lb.write(line);
    });
    child.stdin!.on('error', () => {});
    child.on('exit', (code, signal) => {
      if (child !== this.checker) return;
      this.checker = undefined;
      clearInterval(this.checkerWatch);
      if (this.stopping) return;
      if (this.restartingChecker) { this.restartingChecker = false; this.startChecker(); return; }
      if (Date.now() - this.checkerStartedAt > STABLE_MS) this.checkerBackoff = FIRST_RESTART_MS;
      const wait = this.checkerBackoff;
      this.checkerBackoff = Math.min(MAX_RESTART_MS, this.checkerBackoff * 2);
      this.checkerRestarts++;
      this.o.log.error(`checker ${signal ? `killed by ${signal}` : `exited with status ${code}`}: restarting in ${wait} ms (the engine keeps the last check states)`, { restarts: this.checkerRestarts });
      this.checkerTimer = setTimeout(() => this.startChecker(), wait);
    });
  }

  private restartingChecker = false;
  // Each check's last report, replayed to an engine that (re)starts, so it does not count the
  // checks as failing until the checker's next report.
  private readonly lastReport = new Map<string, string>();

  // After a reload: the checker runs the new config's checks (or stops when it has none).
  private reloadChecker(): void {
    if (!this.checker) { this.startChecker(); return; }
    this.restartingChecker = this.config.checks.length > 0;
    this.checker.kill('SIGTERM');
  }

  checkerPid(): number | undefined { return this.checker?.pid; }

  // ---- the load balancer (host/lb/main.ts) ------------------------------------------------------
  // Restarted like the checker; given every check's last report when it (re)starts. A reload
  // reaches it as a SIGHUP: it re-reads the file and applies the difference.
  readonly lb = new ChildSlot('load balancer', () => {
    if (this.stopping || !this.o.lbArgs || this.config.virtualServers.length === 0) return undefined;
    const child = spawn(this.o.command, this.o.lbArgs, { stdio: ['pipe', 'inherit', 'inherit'], env: { ...process.env, VIGIL_SUPERVISED: '1' } });
    child.stdin!.on('error', () => {});
    for (const line of this.lastReport.values()) child.stdin!.write(line + '\n');
    return child;
  }, (msg) => this.o.log.error(msg));

  lbPid(): number | undefined { return this.lb.pid(); }

  start(): void {
    this.startedAt = Date.now();
    // stdin is a pipe the engine watches: if this parent dies (even by SIGKILL) the pipe closes
    // and the engine stops cleanly instead of running on as an orphan.
    const child: EngineProcess = this.o.first ?? spawnEngine(this.o.command, this.o.args, true);
    this.o.first = undefined;
    this.child = child;
    this.o.log.debug(`engine started`, { pid: child.pid });
    child.stdin!.on('error', () => {});   // an engine that dies mid-write: its exit is handled
    child.stdin!.write(configLine(this.config));
    for (const line of this.lastReport.values()) child.stdin!.write(line + '\n');
    child.on('exit', (code, signal) => { void this.onExit(child, code, signal); });
    // Once the engine has its config, which it may be waiting for: the checker's spawn is a
    // few ms of this thread.
    this.startChecker();
    this.lb.start();
    this.netlink();
  }

  // The config a SIGHUP made current: the engine applies it (keeping what did not change), and
  // a later cleanup removes the right VIPs.
  updateConfig(c: AgentConfig): void {
    this.config = c;
    this.lastReport.clear();
    const engine = this.child?.stdin;
    if (engine && engine.writable) engine.write(configLine(c));
    this.reloadChecker();
    if (c.virtualServers.length === 0) void this.lb.stop();
    else if (!this.lb.signal('SIGHUP')) this.lb.start();
  }

  signal(sig: NodeJS.Signals): void { this.child?.kill(sig); }

  async stop(sig: NodeJS.Signals = 'SIGTERM'): Promise<number> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    clearTimeout(this.checkerTimer);
    clearInterval(this.checkerWatch);
    this.checker?.kill('SIGTERM');
    // The load balancer removes its table on the way: waited for (a little), so `vigil run`
    // ends with it gone, before a service manager kills what is left of the agent.
    const lbGone = this.lb.stop(LB_STOP_MS);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) { this.done(0); await lbGone; return this.finished; }
    child.kill(sig);
    const killer = setTimeout(() => {
      this.o.log.error(`engine did not stop within ${STOP_TIMEOUT_MS / 1000}s: killing it`);
      child.kill('SIGKILL');
    }, STOP_TIMEOUT_MS);
    const code = await this.finished;
    clearTimeout(killer);
    await lbGone;
    return code;
  }

  private async onExit(child: EngineProcess, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    if (child !== this.child) return;
    this.child = undefined;
    if (this.stopping) {
      // An engine that was killed on the way down left its VIPs: remove them. One that our
      // SIGTERM reached before its handlers were in place (still starting) did what we asked.
      if (code !== 0) await this.removeVips();
      this.done(code === 0 || signal === 'SIGTERM' ? 0 : 1);
      return;
    }
    const how = signal ? `killed by ${signal}` : `exited with status ${code}`;
    await this.removeVips();
    if (code === 2 && Date.now() - this.startedAt < 2000) {
      // Refused its config or its interfaces at start: restarting cannot help.
      this.o.log.error(`engine ${how} at start: not restarting`);
      this.done(2);
      return;
    }
    if (Date.now() - this.startedAt > STABLE_MS) this.backoff = FIRST_RESTART_MS;
    const wait = this.backoff;
    this.backoff = Math.min(MAX_RESTART_MS, this.backoff * 2);
    this.restarts++;
    this.o.log.error(`engine ${how}: VIPs removed, restarting in ${wait} ms`, { restarts: this.restarts });
    this.restartTimer = setTimeout(() => this.start(), wait);
  }

  // Every VIP of every instance, wherever it may be (the interface or its VMAC).
  // Opened before it is needed: when the engine dies, the backup takes over within one
  // Master_Down_Interval, and the VIPs here must be gone before that.
  private nl: Netlink | undefined;

  private netlink(): Netlink | undefined {
    try {
      this.nl ??= new Netlink();
    } catch (err) {
      this.o.log.error(`cannot open rtnetlink to remove VIPs a dead engine leaves: ${(err as Error).message}`);
    }
    return this.nl;
  }

  close(): void {
    // However the supervisor ends (a refused config included), the checker goes with it.
    this.stopping = true;
    clearTimeout(this.checkerTimer);
    clearInterval(this.checkerWatch);
    this.checker?.kill('SIGTERM');
    void this.lb.stop();
    this.nl?.close(); this.nl = undefined;
  }

  private async removeVips(): Promise<void> {
    const nl = this.netlink();
    if (!nl) return;
    const deletes: Promise<boolean>[] = [];
    // One dump for every interface: never the box's own address, which a VIP may name by
    // mistake (own-address.ts).
    const all = await nl.listAddresses().catch(() => []);
    for (const s of this.config.instances) {
      const ifname = s.vmac ? `${s.family === 4 ? 'vrrp' : 'vrrp6'}.${s.vrid}` : s.interface;
      let index: number;
      try { index = ifIndex(ifname); } catch { continue; }
      const present = all.filter((a) => a.index === index);
      for (const v of s.virtualAddresses) {
        if (isBoxOwn(present, v.address)) continue;
        // All at once: one round trip to the kernel, not one per address.
        deletes.push(nl.deleteAddress({ index, address: v.address, prefixlen: v.prefixLen, ifname }).then(() => true, () => false));
      }
    }
    const removed = (await Promise.all(deletes)).filter(Boolean).length;
    if (removed) this.o.log.warn(`removed ${removed} VIP(s) the engine left behind`);
  }
}
