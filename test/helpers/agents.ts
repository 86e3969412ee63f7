// Real agents in real namespaces: `bin/vigil run` and Debian's keepalived, started with a
// config, watched through their logs, and stopped (and checked gone) at teardown.
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { nsExec, Topology, type Host } from '../net/netns.ts';
import { recordPath } from '../../host/agent/accepted.ts';
import { leftVipsPath } from '../../host/agent/left-vips.ts';

export const VIGIL = fileURLToPath(new URL('../../bin/vigil', import.meta.url));

export class Proc {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  private watchers = new Set<() => void>();
  exited: Promise<number | null>;
  constructor(child: ChildProcess) {
    this.child = child;
    for (const s of [child.stdout!, child.stderr!]) {
      createInterface({ input: s }).on('line', (l) => {
        this.lines.push(l);
        for (const w of [...this.watchers]) w();
      });
    }
    this.exited = new Promise((r) => child.on('exit', (code, sig) => r(code ?? (sig ? 128 : null))));
  }
  // Resolves with the first log line matching `re` (already seen or future).
  waitLine(re: RegExp, ms = 5000): Promise<string> {
    const hit = this.lines.find((l) => re.test(l));
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const check = () => {
        const l = this.lines.find((x) => re.test(x));
        if (l) { done(); resolve(l); }
      };
      const timer = setTimeout(() => { done(); reject(new Error(`no log line ${re} within ${ms} ms:\n${this.lines.slice(-30).join('\n')}`)); }, ms);
      const done = () => { clearTimeout(timer); this.watchers.delete(check); };
      this.watchers.add(check);
    });
  }
  signal(sig: NodeJS.Signals): void { if (this.child.exitCode === null) this.child.kill(sig); }
  async stop(ms = 5000): Promise<number | null> {
    this.signal('SIGTERM');
    const t = setTimeout(() => this.signal('SIGKILL'), ms);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }
}

export class Workdir {
  readonly dir = mkdtempSync(join(tmpdir(), 'vigil-test-'));
  private readonly files = new Set<string>();
  file(name: string, text: string): string {
    const p = join(this.dir, name);
    writeFileSync(p, text);
    this.files.add(p);
    return p;
  }
  // With the records a supervisor kept of these files as configs (host/agent/accepted.ts), and
  // the VIPs it wrote down for a restart (host/agent/left-vips.ts).
  remove(): void {
    for (const f of this.files) for (const p of [recordPath(f), leftVipsPath(f), `${leftVipsPath(f)}.err`]) rmSync(p, { force: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function startVigil(ns: string, configFile: string, env?: Record<string, string>): Proc {
  return new Proc(spawn('ip', ['netns', 'exec', ns, VIGIL, 'run', '-c', configFile, '--log-json'], { stdio: ['ignore', 'pipe', 'pipe'], env: env && { ...process.env, ...env } }));
}

export function startKeepalived(ns: string, work: Workdir, name: string, conf: string): Proc {
  const f = work.file(`${name}.conf`, conf);
  execFileSync('ip', ['netns', 'exec', ns, 'keepalived', '--config-test', '-f', f], { stdio: 'pipe' });
  const run = (x: string) => join(work.dir, `${name}.${x}.pid`);
  return new Proc(spawn('ip', ['netns', 'exec', ns, 'keepalived', '-n', '-l', '-D', '-G', '-P', '-f', f,
    '-p', run('main'), '-r', run('vrrp'), '-c', run('check')], { stdio: ['ignore', 'pipe', 'pipe'] }));
}

// Which of the namespaces hold `vip` on eth0 right now.
export function holders(namespaces: string[], vip: string): string[] {
  return namespaces.filter((ns) => {
    const j = JSON.parse(nsExec(ns, 'ip', '-j', 'addr', 'show', 'dev', 'eth0'));
    return (j[0]?.addr_info ?? []).some((a: { local: string }) => a.local === vip);
  });
}

// Polls until `fn` is true; returns the milliseconds it took.
export async function until(fn: () => boolean, ms: number, what: string, stepMs = 2): Promise<number> {
  const start = performance.now();
  while (!fn()) {
    if (performance.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return performance.now() - start;
}

export function vigilConfig(o: {
  name?: string; vrid?: number; priority: number; version?: 2 | 3; interval?: string; preempt?: boolean;
  vips?: string[]; peers?: string[]; auth?: string; family?: 4 | 6; statusPort?: number; extra?: string;
}): string {
  const lines = [
    'instances:',
    `  - name: ${o.name ?? 'VI_1'}`,
    '    interface: eth0',
    `    vrid: ${o.vrid ?? 51}`,
    `    priority: ${o.priority}`,
    `    version: ${o.version ?? 3}`,
    `    advertInterval: ${o.interval ?? '10ms'}`,
    `    preempt: ${o.preempt ?? true}`,
    `    virtualAddresses: [${(o.vips ?? ['192.0.2.100/24']).join(', ')}]`,
  ];
  if (o.peers) lines.push(`    unicastPeers: [${o.peers.join(', ')}]`);
  if (o.auth) lines.push(`    auth: { type: pass, password: ${o.auth} }`);
  if (o.extra) lines.push(o.extra);
  lines.push(`status: { listen: 127.0.0.1:${o.statusPort ?? 9110} }`, 'realtime: { priority: 50 }');
  return lines.join('\n') + '\n';
}

// A test's lab: namespaces on a bridge (prefix per test file), a work directory, and every
// process started through it stopped, and everything removed, at teardown, even on failure.
export function lab(t: { teardown(fn: () => unknown): void }, prefix: string, names = ['a', 'b']) {
  const topo = Topology.create(prefix, names);
  const work = new Workdir();
  const procs: Proc[] = [];
  t.teardown(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    topo.destroy();
    work.remove();
  });
  const keep = (p: Proc) => { procs.push(p); return p; };
  return {
    topo, work, procs, hosts: topo.hosts, ns: topo.hosts.map((h) => h.ns),
    // Starts vigil in `host` with a config made by vigilConfig (written to `file`).
    vigil: (host: Host, file: string, cfg: Parameters<typeof vigilConfig>[0]) =>
      keep(startVigil(host.ns, work.file(file, vigilConfig(cfg)))),
    vigilFile: (host: Host, file: string, env?: Record<string, string>) => keep(startVigil(host.ns, file, env)),
    keepalived: (host: Host, name: string, conf: string) => keep(startKeepalived(host.ns, work, name, conf)),
  };
}

// When `vip` is added to / deleted from eth0 in namespace `ns`, by the kernel's events:
// `ip -ts monitor address` stamps each (microseconds, wall clock) as it reads it; at SCHED_FIFO
// 60, above the engines (50), so a busy box does not make the stamp late. Ready once it has
// seen a marker address come and go on lo.
export async function addressMonitor(t: { teardown(fn: () => unknown): void }, ns: string, vip: string, marker: string) {
  const child = spawn('chrt', ['-f', '60', 'ip', '-n', ns, '-ts', 'monitor', 'address'], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.teardown(() => { child.kill('SIGKILL'); });
  const events: { at: number; deleted: boolean; addr: string; dev: string }[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    const m = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{6})\] (Deleted )?\d+: (\S+)\s+inet6? ([\d.a-f:]+)\//.exec(l);
    if (m) events.push({ at: Date.parse(m[1]) + Number(m[2]) / 1000, deleted: !!m[3], dev: m[4], addr: m[5] });
  });
  nsExec(ns, 'ip', 'addr', 'add', `${marker}/32`, 'dev', 'lo');
  nsExec(ns, 'ip', 'addr', 'del', `${marker}/32`, 'dev', 'lo');
  await until(() => events.some((e) => e.addr === marker && e.deleted), 5000, `ip monitor in ${ns}`);
  const from = events.length;
  const first = (deleted: boolean) => events.slice(from).find((e) => e.addr === vip && e.dev === 'eth0' && e.deleted === deleted)?.at;
  return { added: () => first(false), deleted: () => first(true) };
}

// The agent's /status in namespace `ns`, as `vigil status --json` prints it there.
export function agentStatus<T = any>(ns: string): T {
  const r = spawnSync('ip', ['netns', 'exec', ns, VIGIL, 'status', '--json'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`vigil status failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
