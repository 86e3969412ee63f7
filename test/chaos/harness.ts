// The fault lab of test/chaos and bench/chaos: two routers (vigil or keepalived) and a client on
// one bridge, faults made with nftables in the bridge's namespace (there is no netem), and the
// views the invariants need: who holds the VIP, which MAC the client's neighbour entry names,
// and what went on the wire.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import { nsExec } from '../net/netns.ts';
import { holders, lab, type Proc } from '../helpers/agents.ts';

export const VIP = '192.0.2.100';
// RFC 5798 §6.1 at 10 ms adverts: 3 x 10 ms + (256 - priority) x 10 ms / 256.
export const mdiMs = (priority: number) => 30 + ((256 - priority) * 10) / 256;

export type Impl = 'vigil' | 'keepalived';

export function keepalivedConf(priority: number, vrid = 51, extra = ''): string {
  return `global_defs {
  router_id ka${priority}
  vrrp_version 3
  vrrp_garp_master_delay 0
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id ${vrid}
  priority ${priority}
  advert_int 0.01
${extra}  virtual_ipaddress {
    ${VIP}/24
  }
}
`;
}

/** Routers a (priority 150) and b (100), client c; `impl` per router. */
export async function pair(t: { teardown(fn: () => unknown): void }, prefix: string, impl: [Impl, Impl], o: { statusPorts?: [number, number]; extra?: string } = {}) {
  const l = lab(t, prefix, ['a', 'b', 'c']);
  const [a, b, c] = l.hosts;
  const start = (h: typeof a, prio: number, kind: Impl, port: number): Proc => kind === 'vigil'
    ? l.vigil(h, `${h.ns}.yaml`, { priority: prio, statusPort: port, extra: o.extra })
    : l.keepalived(h, `${h.ns}`, keepalivedConf(prio));
  const pa = start(a, 150, impl[0], o.statusPorts?.[0] ?? 9110);
  await waitHolder([a.ns, b.ns], a.ns, 10_000);
  const pb = start(b, 100, impl[1], o.statusPorts?.[1] ?? 9110);
  await new Promise((r) => setTimeout(r, impl[1] === 'keepalived' ? 1500 : 800));
  const lanFaults = new Faults(l.topo.br);
  t.teardown(() => lanFaults.clear());
  // The client learns the VIP's MAC (a gratuitous ARP only updates an entry that exists).
  nsExec(c.ns, 'ping', '-c', '1', '-W', '1', VIP);
  return { l, a, b, c, pa, pb, faults: lanFaults, routers: [a.ns, b.ns] };
}

export async function waitHolder(routers: string[], want: string, ms: number): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const h = holders(routers, VIP);
    if (h.length === 1 && h[0] === want) return performance.now() - t0;
    if (performance.now() - t0 > ms) throw new Error(`after ${ms} ms the VIP is held by [${h.join(', ')}], not by ${want} alone`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function macOf(ns: string): string {
  return JSON.parse(nsExec(ns, 'ip', '-j', 'link', 'show', 'eth0'))[0].address as string;
}

/** The MAC the client's neighbour entry for the VIP names (undefined: none, or FAILED). */
export function clientMac(clientNs: string): string | undefined {
  const j = JSON.parse(nsExec(clientNs, 'ip', '-j', 'neigh', 'show', VIP, 'dev', 'eth0'));
  return j[0]?.lladdr;
}

/** Milliseconds until the client's entry names `mac` (sampled every 5 ms), or Infinity. */
export async function clientOn(clientNs: string, mac: string, ms: number): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    if (clientMac(clientNs) === mac) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, 5));
  }
  return Infinity;
}

/**
 * nftables faults: table `bridge chaos` in the bridge's namespace for what crosses the LAN (by
 * ingress port p-NAME), table `ip chaos` in a router's namespace for what it sends (a drop
 * there is an EPERM on its sendto).
 */
export class Faults {
  private readonly br: string;
  private readonly outputIn = new Set<string>();
  // One `nft -i` kept open in the bridge's namespace: a rule then takes effect within a pipe
  // write, not after an exec (10-600 ms on a busy box), so a fault's moment is known.
  private readonly shell: ChildProcess;
  private errors = '';
  constructor(br: string) {
    this.br = br;
    nft(br, 'add table bridge chaos\nadd chain bridge chaos lan { type filter hook forward priority 0; policy accept; }\n');
    this.shell = spawn('ip', ['netns', 'exec', br, 'nft', '-i'], { stdio: ['pipe', 'ignore', 'pipe'] });
    this.shell.stderr!.on('data', (d) => { this.errors += d; });
  }
  /** Runs nft commands at once; returns Date.now() as they were handed over. */
  private now(cmds: string): number {
    if (this.errors) throw new Error(`nft: ${this.errors}`);
    const at = Date.now();
    this.shell.stdin!.write(cmds);
    return at;
  }
  /** VRRP from router `from` (its name: a, b) to `to` dropped; `percent` < 100: at random. */
  drop(from: string, to: string | '*', percent = 100): number {
    const out = to === '*' ? '' : `oifname "p-${to}" `;
    const rnd = percent < 100 ? `numgen random mod 100 < ${percent} ` : '';
    return this.now(`add rule bridge chaos lan iifname "p-${from}" ${out}ip protocol vrrp ${rnd}drop\n`);
  }
  /** Both directions between a and b at once. */
  partition(): number {
    return this.now('add rule bridge chaos lan iifname "p-a" oifname "p-b" ip protocol vrrp drop; ' +
      'add rule bridge chaos lan iifname "p-b" oifname "p-a" ip protocol vrrp drop\n');
  }
  /** Every LAN fault gone in one command (an atomic heal). */
  heal(): number { return this.now('flush chain bridge chaos lan\n'); }
  /** A share of `ns`'s own VRRP sends refused by the kernel (sendto fails with EPERM). */
  refuseOutput(ns: string, percent: number): void {
    nft(ns, `add table ip chaos\nadd chain ip chaos sends { type filter hook output priority 0; policy accept; }\n` +
      `add rule ip chaos sends ip protocol vrrp numgen random mod 100 < ${percent} drop\n`);
    this.outputIn.add(ns);
  }
  clearOutput(ns: string): void {
    if (this.outputIn.delete(ns)) nft(ns, 'delete table ip chaos\n');
  }
  clear(): void {
    this.shell.kill('SIGKILL');
    for (const ns of [...this.outputIn]) try { this.clearOutput(ns); } catch { /* namespace gone */ }
    try { nft(this.br, 'delete table bridge chaos\n'); } catch { /* namespace gone */ }
  }
}

function nft(ns: string, script: string): void {
  execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: script, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** The engine process of a `vigil run` supervisor (its child running `engine`). */
export function enginePid(supervisor: number): number {
  const kids = readFileSync(`/proc/${supervisor}/task/${supervisor}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  const e = kids.find((k) => { try { return readFileSync(`/proc/${k}/cmdline`, 'utf8').includes('engine'); } catch { return false; } });
  if (!e) throw new Error(`no engine under ${supervisor} (children: ${kids.join(', ')})`);
  return e;
}

/** keepalived's VRRP child: the process whose pid file it wrote in the lab's work dir. */
export function keepalivedVrrpPid(workDir: string, name: string): number {
  return Number(readFileSync(`${workDir}/${name}.vrrp.pid`, 'utf8').trim());
}

/**
 * The VIP's additions and deletions on eth0 in `ns`, stamped by the kernel's event as `ip -ts
 * monitor` reads it (at SCHED_FIFO 60, above the engines), wall clock in ms.
 */
export async function vipEvents(t: { teardown(fn: () => unknown): void }, ns: string) {
  const child = spawn('chrt', ['-f', '60', 'ip', '-n', ns, '-ts', 'monitor', 'address'], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.teardown(() => { child.kill('SIGKILL'); });
  const events: { at: number; deleted: boolean; addr: string }[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    const m = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{6})\] (Deleted )?\d+: (\S+)\s+inet ([\d.]+)\//.exec(l);
    if (m) events.push({ at: Date.parse(m[1]) + Number(m[2]) / 1000, deleted: !!m[3], addr: m[5] });
  });
  nsExec(ns, 'ip', 'addr', 'add', '198.51.100.254/32', 'dev', 'lo');
  nsExec(ns, 'ip', 'addr', 'del', '198.51.100.254/32', 'dev', 'lo');
  const t0 = performance.now();
  while (!events.some((e) => e.addr === '198.51.100.254' && e.deleted)) {
    if (performance.now() - t0 > 5000) throw new Error(`ip monitor in ${ns} did not start`);
    await new Promise((r) => setTimeout(r, 10));
  }
  // What holds now, as a first event: a window's state is known from its start.
  if (holders([ns], VIP).length) events.push({ at: Date.now(), deleted: false, addr: VIP });
  /** The first deletion (or addition) of the VIP at or after `sinceMs` (wall clock). */
  const first = (deleted: boolean, sinceMs: number) => events.find((e) => e.addr === VIP && e.deleted === deleted && e.at >= sinceMs)?.at;
  /** The same, waited for up to `ms` (the monitor's line may come a little after the event). */
  const next = async (deleted: boolean, sinceMs: number, ms: number): Promise<number> => {
    const t1 = performance.now();
    for (;;) {
      const at = first(deleted, sinceMs);
      if (at !== undefined) return at;
      if (performance.now() - t1 > ms) return Infinity;
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  return { events, first, next };
}
