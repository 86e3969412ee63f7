// Namespace fixtures for the net tests: N namespaces on a bridge that lives in its own
// namespace, so nothing is added to the test host's own network. Each test file passes its
// own prefix; everything made is removed in t.teardown, and at process exit as a backstop.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { readdirSync, rmSync, statSync } from 'node:fs';

const ROOT = join(import.meta.dirname, '..', '..');
export const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const PEER = join(import.meta.dirname, 'peer.ts');

export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
// Deletes namespace `ns` with the status files a `vigil lb` in it may have left in /run/vigil
// (named after the namespace's inode: host/lb/status-file.ts), which only a clean stop removes.
export function delNetns(ns: string): void {
  let ino = 0;
  try { ino = statSync(`/run/netns/${ns}`).ino; } catch { /* none */ }
  if (ino) for (const f of readdirSafe('/run/vigil')) if (f.startsWith(`lb-${ino}-`)) rmSync(join('/run/vigil', f), { force: true });
  ip('netns', 'del', ns);
}
const readdirSafe = (d: string) => { try { return readdirSync(d); } catch { return []; } };

export function nsExec(ns: string, ...cmd: string[]): string {
  return execFileSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface Wired { name: string; ns: string; port: string; v4: string; v6?: string }

/**
 * The wiring the net tests' Topology and the benchmarks' Lan (bench/lab.ts) share: bridge br0
 * in namespace `${prefix}br`, and per name a namespace `${prefix}${name}` whose eth0 is one end
 * of a veth, the other end (`p-${name}`) on br0. Host i holds 192.0.2.(10+i)/24, and with `v6`
 * also 2001:db8::(10+i)/64 (nodad). `addNs` makes a namespace (and remembers it for clean-up).
 */
export function wireBridge(prefix: string, names: string[], addNs: (ns: string) => void, v6 = false): Wired[] {
  const br = `${prefix}br`;
  addNs(br);
  nsExec(br, 'ip', 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0');
  nsExec(br, 'ip', 'link', 'set', 'br0', 'up');
  return names.map((name, i) => {
    const ns = `${prefix}${name}`;
    const port = `p-${name}`;
    addNs(ns);
    ip('link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', port, 'netns', br);
    nsExec(br, 'ip', 'link', 'set', port, 'master', 'br0', 'up');
    const w: Wired = { name, ns, port, v4: `192.0.2.${10 + i}` };
    nsExec(ns, 'ip', 'addr', 'add', `${w.v4}/24`, 'dev', 'eth0');
    if (v6) {
      w.v6 = `2001:db8::${10 + i}`;
      nsExec(ns, 'ip', 'addr', 'add', `${w.v6}/64`, 'dev', 'eth0', 'nodad');
    }
    nsExec(ns, 'ip', 'link', 'set', 'eth0', 'up');
    return w;
  });
}

/** Why these tests cannot run here, or undefined when they can. */
export function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, raw sockets): run as root';
  try {
    ip('netns', 'list');
  } catch (e) {
    return `\`ip netns\` does not work here: ${(e as Error).message}`;
  }
  try {
    execFileSync(NODE, ['-e', `require(${JSON.stringify(join(ROOT, 'host/native/build/Release/vigil_shim.node'))})`], { stdio: 'ignore', env: { ...process.env } });
  } catch {
    if (!process.env.VIGIL_SHIM) return 'the native shim is not built: run `make native`';
  }
  return undefined;
}

const made = new Set<string>();
process.on('exit', () => {
  for (const ns of made) try { ip('netns', 'del', ns); } catch { /* gone */ }
});

export interface Host {
  ns: string;
  ifname: 'eth0';
  mac: string;
  v4: string;
  v6: string;
}

/**
 * `names.length` namespaces `${prefix}${name}`, each with eth0 on bridge br0 in
 * `${prefix}br`; host i gets 192.0.2.(10+i)/24 and 2001:db8::(10+i)/64.
 * DAD is off so addresses are usable at once.
 */
export class Topology {
  readonly prefix: string;
  readonly hosts: Host[] = [];
  readonly br: string;
  private readonly peers = new Set<Peer>();

  private constructor(prefix: string) {
    this.prefix = prefix;
    this.br = `${prefix}br`;
  }

  static create(prefix: string, names: string[]): Topology {
    const t = new Topology(prefix);
    // Leftovers of a run that was killed before its teardown.
    for (const line of ip('netns', 'list').split('\n')) {
      const ns = line.split(' ')[0];
      if (ns && ns.startsWith(prefix)) ip('netns', 'del', ns);
    }
    try {
      for (const w of wireBridge(prefix, names, (ns) => t.addNs(ns), true)) {
        const mac = JSON.parse(nsExec(w.ns, 'ip', '-j', 'link', 'show', 'eth0'))[0].address as string;
        t.hosts.push({ ns: w.ns, ifname: 'eth0', mac, v4: w.v4, v6: w.v6! });
      }
    } catch (e) {
      t.destroy();
      throw e;
    }
    return t;
  }

  private addNs(ns: string): void {
    ip('netns', 'add', ns);
    made.add(ns);
    nsExec(ns, 'sysctl', '-qw', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.accept_dad=0');
    nsExec(ns, 'ip', 'link', 'set', 'lo', 'up');
  }

  /** Wait until every host's IPv6 link-local is usable (no DAD, but addrconf is async). */
  async linkLocals(): Promise<string[]> {
    const out: string[] = [];
    for (const h of this.hosts) {
      for (let i = 0; ; i++) {
        const addrs = JSON.parse(nsExec(h.ns, 'ip', '-j', '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'link'))[0]?.addr_info ?? [];
        const ll = addrs.find((a: { local?: string; tentative?: boolean }) => a.local?.startsWith("fe80") && !a.tentative)?.local;
        if (ll) { out.push(ll); break; }
        if (i > 100) throw new Error(`${h.ns}: no link-local address`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    return out;
  }

  async peer(host: Host, env: Record<string, string> = {}): Promise<Peer> {
    return this.peerAs(host, [], env);
  }

  /** A peer started through `wrapper` (e.g. setpriv to drop privileges). */
  async peerAs(host: Host, wrapper: string[], env: Record<string, string> = {}): Promise<Peer> {
    const p = await Peer.spawn(host.ns, env, wrapper);
    this.peers.add(p);
    return p;
  }

  destroy(): void {
    for (const p of this.peers) p.kill();
    this.peers.clear();
    for (const ns of [...made].filter((n) => n.startsWith(this.prefix))) {
      try { delNetns(ns); } catch { /* gone */ }
      made.delete(ns);
    }
  }
}

type Json = any;

/** The test side of peer.ts. */
export class Peer {
  readonly proc: ChildProcess;
  readonly events: Json[] = [];
  stderr = '';
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (v: Json) => void; reject: (e: Error) => void }>();
  private readonly watchers = new Set<() => void>();

  private constructor(proc: ChildProcess) {
    this.proc = proc;
    proc.stderr!.on('data', (d) => (this.stderr += d));
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      let m: Json;
      try { m = JSON.parse(line); } catch { this.stderr += line + '\n'; return; }
      if (m.event) {
        this.events.push(m);
        for (const w of [...this.watchers]) w();
      } else {
        const w = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        if (!w) return;
        if (m.ok) w.resolve(m.result);
        else w.reject(Object.assign(new Error(m.error.message), m.error));
      }
    });
    proc.on('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`peer exited ${code}: ${this.stderr}`));
      this.waiting.clear();
    });
  }

  static async spawn(ns: string, env: Record<string, string> = {}, wrapper: string[] = []): Promise<Peer> {
    const proc = spawn('ip', ['netns', 'exec', ns, ...wrapper, NODE, PEER], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    const p = new Peer(proc);
    await p.waitEvent((e) => e.event === 'ready', 10_000);
    return p;
  }

  call(cmd: string, args: Json = {}): Promise<Json> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.proc.stdin!.write(JSON.stringify({ id, cmd, args }) + '\n');
    });
  }

  /** The first event (already seen or future) matching `pred`. */
  waitEvent(pred: (e: Json) => boolean, ms = 3000): Promise<Json> {
    const hit = this.events.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const check = () => {
        const e = this.events.find(pred);
        if (!e) return;
        cleanup();
        resolve(e);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching event within ${ms} ms; stderr: ${this.stderr.slice(-2000)}`));
      }, ms);
      const cleanup = () => {
        clearTimeout(timer);
        this.watchers.delete(check);
      };
      this.watchers.add(check);
    });
  }

  kill(): void {
    this.proc.stdin?.end();
    if (this.proc.exitCode === null) setTimeout(() => this.proc.kill('SIGKILL'), 2000).unref();
  }
}
