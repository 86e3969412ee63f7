// The load balancer's control loop: check reports and reloads in, one nftables transaction out
// per batch of changes (debounced a few ms), computed as the difference between what was applied
// and what is wanted now (host/lb/model.ts, host/lb/diff.ts). Never a flush and rebuild after
// the first apply. Its I/O (nft, conntrack, hooks, routes) comes in through LbIo, so tests drive
// it on its own.
import type { AgentConfig } from '../config/types.ts';
import type { RealServerSpec, VirtualServerSpec } from '../config/lb-types.ts';
import type { CheckReport } from '../checks/protocol.ts';
import type { Logger } from '../agent/log.ts';
import { affSet, assignMarks, plan, rsId, type Plan, type TableState } from './model.ts';
import { diff } from './diff.ts';

export interface LbIo {
  apply(text: string): Promise<void>;
  flushConntrack(mark: number): Promise<number>;            // entries removed
  egress(address: string): Promise<string | undefined>;     // dr: the device toward a real server
  runHook(script: string, argv: string[]): void;
  now(): number;                                            // ms, monotonic
  log: Logger;
}

export interface RealServer {
  id: string;
  mark: number;
  vs: VirtualServerSpec;
  spec: RealServerSpec;
  up: boolean;
  since: number;             // wall ms of the last change
}

interface Quorum { up: boolean; since: number }

const DEBOUNCE_MS = 5;
const RETRY_MS = [200, 1000, 5000];

export class Reconciler {
  private config: AgentConfig;
  private readonly io: LbIo;
  readonly servers = new Map<string, RealServer>();
  readonly quorum = new Map<string, Quorum>();
  private lastReport = new Map<string, CheckReport>();   // by check name: a reload's new servers start from it
  private connections = new Map<number, number>();       // by ct mark: lc / wlc weights, and /status
  private applied: { inet: TableState | null; netdev: TableState | null } | null = null;
  private wantsFlush = new Set<string>();                // real servers that failed since the last apply
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private failures = 0;
  private pendingSince: number | null = null;
  readonly applyMs: number[] = [];                       // trigger to applied, the last 1,000
  transactions = 0;
  lastTransaction = '';
  lastError: string | null = null;

  constructor(config: AgentConfig, io: LbIo) {
    this.config = config;
    this.io = io;
    this.adopt(config);
  }

  // Real servers of a (new) config: those already known keep their state; a new one starts up,
  // or down with alpha, unless its check has already said.
  private adopt(config: AgentConfig): void {
    const keep = new Map(this.servers);
    this.servers.clear();
    const now = Date.now();
    for (const vs of config.virtualServers) {
      for (const spec of vs.realServers) {
        const id = rsId(vs, spec);
        const old = keep.get(id);
        const r = spec.check ? this.lastReport.get(spec.check) : undefined;
        const up = spec.check === null ? true : old && old.spec.check === spec.check ? old.up : r?.settled ? r.up : !vs.alpha;
        this.servers.set(id, { id, mark: 0, vs, spec, up, since: old?.up === up ? old.since : now });
      }
      if (!this.quorum.has(vs.name)) this.quorum.set(vs.name, { up: this.healthy(vs) >= vs.quorum, since: now });
    }
    for (const name of [...this.quorum.keys()]) if (!config.virtualServers.some((v) => v.name === name)) this.quorum.delete(name);
    this.marks = assignMarks([...this.servers.keys()], new Map([...keep].map(([id, s]) => [id, s.mark])));
    for (const s of this.servers.values()) s.mark = this.marks.get(s.id)!;
  }
  private marks = new Map<string, number>();
  private appliedFragments = new Map<string, import('./model.ts').Fragment>();

  /** A checker report (host/checks/protocol.ts): unsettled ones keep what was known. */
  report(r: CheckReport): void {
    const weightWas = this.lastReport.get(r.check)?.detail?.weight;
    this.lastReport.set(r.check, r);
    if (!r.settled) return;
    let changed = r.detail?.weight !== weightWas;   // a dynamic check's weight moved
    for (const s of this.servers.values()) {
      if (s.spec.check !== r.check || s.up === r.up) continue;
      s.up = r.up;
      s.since = Date.now();
      if (!r.up) this.wantsFlush.add(s.id);
      this.io.log.info(`real server ${s.spec.address}:${s.spec.port} of ${s.vs.name} is ${r.up ? 'up' : 'down'}: check ${r.check} ${r.up ? 'passes' : `fails (${r.error ?? 'no reason given'})`}`,
        { virtualServer: s.vs.name, realServer: s.spec.address, port: s.spec.port });
      changed = true;
    }
    if (changed) this.schedule();
  }

  reload(config: AgentConfig): void {
    // A new table name: the old table goes in the transaction that makes the new one whole.
    const was = this.config.loadBalancer.table;
    if (config.loadBalancer.table !== was) { this.retired.add(was); this.applied = null; }
    this.config = config;
    this.adopt(config);
    this.schedule();
  }
  private retired = new Set<string>();

  /** Connections per ct mark (from conntrack, about once a second): lc / wlc follow them. */
  setConnections(counts: Map<number, number>): void {
    const before = this.config.virtualServers.some((v) => v.scheduler === 'lc' || v.scheduler === 'wlc') ? this.weights() : null;
    this.connections = counts;
    if (before && [...this.weights()].some(([id, w]) => before.get(id) !== w)) this.schedule();
  }

  connectionsOf(s: RealServer): number | null {
    return s.vs.forwarding === 'nat' ? this.connections.get(s.mark) ?? 0 : null;
  }

  private healthy(vs: VirtualServerSpec): number {
    let n = 0;
    for (const rs of vs.realServers) { const s = this.servers.get(rsId(vs, rs)); if (s?.up && rs.weight > 0) n++; }
    return n;
  }

  // Effective weights. lc / wlc: nftables cannot pick a minimum, so the weights follow the
  // connection counts instead: weight / (1 + connections), scaled to 1..100 (docs/lb.md).
  weights(): Map<string, number> {
    const out = new Map<string, number>();
    for (const vs of this.config.virtualServers) {
      const ids = vs.realServers.map((rs) => rsId(vs, rs));
      const base = ids.map((id, i) => {
        const rs = vs.realServers[i];
        if (!this.servers.get(id)?.up) return 0;
        // keepalived's misc_dynamic (an exec check with dynamic: true): exit 2..255 sets the weight to exit - 2.
        return (rs.check !== null ? this.lastReport.get(rs.check)?.detail?.weight : undefined) ?? rs.weight;
      });
      if (vs.scheduler === 'lc' || vs.scheduler === 'wlc') {
        const score = base.map((w, i) => (w > 0 ? (vs.scheduler === 'lc' ? 1 : w) / (1 + (this.connections.get(this.marks.get(ids[i])!) ?? 0)) : 0));
        const max = Math.max(...score, 0);
        ids.forEach((id, i) => out.set(id, score[i] > 0 ? Math.max(1, Math.round((100 * score[i]) / max)) : 0));
      } else ids.forEach((id, i) => out.set(id, base[i]));
    }
    return out;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.pendingSince ??= this.io.now();
    if (this.timer || this.running) { this.again = true; return; }
    this.timer = setTimeout(() => { this.timer = undefined; this.running = this.sync().finally(() => { this.running = undefined; if (this.again) { this.again = false; this.schedule(); } }); }, DEBOUNCE_MS);
  }

  /** Applies now (start-up, tests); true once what was wanted is in the kernel. */
  async syncNow(): Promise<boolean> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    this.pendingSince ??= this.io.now();
    await (this.running = this.sync().finally(() => { this.running = undefined; }));
    return this.lastError === null;
  }

  /** Persistence the table held before this process (by family, then set): kept by the first apply. */
  carry(family: 'inet' | 'netdev', sets: Map<string, { val: string; expires: number }[]>): void {
    this.carried.set(family, sets);
  }
  private carried = new Map<string, Map<string, { val: string; expires: number }[]>>();

  /** The table is gone (host/lb/main.ts finds out): the next apply replaces it whole. */
  resync(): void {
    this.applied = null;
    this.schedule();
  }

  /** No more applies (a stop): pending work and retries are dropped. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
  private stopped = false;

  private async sync(): Promise<void> {
    const since = this.pendingSince ?? this.io.now();
    this.pendingSince = null;
    const quorumChanges = this.updateQuorum();
    const egress = new Map<string, string>();
    for (const vs of this.config.virtualServers) {
      if (vs.forwarding !== 'dr') continue;
      for (const a of [...vs.realServers.map((r) => r.address), ...(vs.sorryServer ? [vs.sorryServer.address] : [])]) {
        const dev = await this.io.egress(a);
        if (dev) egress.set(a, dev); else this.io.log.warn(`no route to real server ${a} of ${vs.name}: direct routing cannot reach it`, { virtualServer: vs.name });
      }
    }
    const quorumUp = new Map([...this.quorum].map(([n, q]) => [n, q.up]));
    const want: Plan = plan(this.config.virtualServers, this.config.loadBalancer.table, { weight: this.weights(), quorumUp, egress, marks: this.marks }, this.appliedFragments);
    const flush = [...this.wantsFlush];
    let text = diff(this.applied?.inet ?? null, want.inet);
    // Persistence of a failed server goes with it: its clients pick again.
    const affOf = (id: string) => { const s = this.servers.get(id); return s ? affSet(id, s.vs) : ''; };
    for (const id of flush) if (want.inet.sets.has(affOf(id)) && this.applied?.inet?.sets.has(affOf(id))) text += `flush set inet ${want.inet.name} ${affOf(id)}\n`;
    if (want.netdev) {
      text += diff(this.applied?.netdev ?? null, want.netdev);
      for (const id of flush) if (want.netdev.sets.has(affOf(id)) && this.applied?.netdev?.sets.has(affOf(id))) text += `flush set netdev ${want.netdev.name} ${affOf(id)}\n`;
    } else if (this.applied === null || this.applied.netdev) text += `add table netdev ${want.inet.name}\ndelete table netdev ${want.inet.name}\n`;
    // The first apply replaces the table: clients a run before this one pinned to a real server
    // (persistence) are put back, with what was left of their time.
    if (this.applied === null) {
      for (const t of [want.inet, want.netdev]) {
        for (const [set, elems] of t ? this.carried.get(t.family) ?? [] : []) {
          const decl = t!.sets.get(set);
          const timeout = Number(/timeout (\d+)s/.exec(decl ?? '')?.[1] ?? 0);
          if (!decl || !timeout) continue;
          text += `add element ${t!.family} ${t!.name} ${set} { ${elems.map((e) => `${e.val} timeout ${timeout}s expires ${Math.max(1, Math.min(e.expires, timeout))}s`).join(', ')} }\n`;
        }
      }
    }
    for (const old of this.retired) if (old !== want.inet.name) text = `add table inet ${old}\ndelete table inet ${old}\nadd table netdev ${old}\ndelete table netdev ${old}\n` + text;
    if (text === '') { this.wantsFlush.clear(); this.runQuorumHooks(quorumChanges); return; }
    try {
      await this.io.apply(text);
    } catch (err) {
      this.lastError = (err as Error).message;
      const wait = RETRY_MS[Math.min(this.failures++, RETRY_MS.length - 1)];
      this.io.log.error(`load balancer: the transaction was refused, nothing of it applied; the kernel keeps the last good state; retrying in ${wait} ms: ${this.lastError}`,
        { detail: (err as { detail?: string }).detail });
      this.pendingSince = since;
      // The kernel's table may not be the one this diff was made against (removed by hand, or by
      // `nft flush ruleset`): the retry replaces it whole, still in one transaction.
      this.applied = null;
      setTimeout(() => this.schedule(), wait).unref();
      return;
    }
    this.failures = 0;
    this.lastError = null;
    this.retired.clear();
    this.applied = { inet: want.inet, netdev: want.netdev };
    this.carried.clear();
    this.appliedFragments = want.fragments;
    this.transactions++;
    this.lastTransaction = text;
    this.applyMs.push(this.io.now() - since);
    this.io.log.debug(`load balancer: transaction applied, ${text.split('\n').length - 1} command(s), ${(this.io.now() - since).toFixed(1)} ms after the change`,
      { transaction: text.length <= 8192 ? text : `${text.slice(0, 8192)}... (${text.length} bytes)` });
    if (this.applyMs.length > 1000) this.applyMs.shift();
    // Connections of a failed server, once no new one can reach it: its clients reconnect elsewhere.
    for (const id of flush) {
      this.wantsFlush.delete(id);
      const s = this.servers.get(id);
      if (s && !s.up && !s.spec.inhibitOnFailure && s.vs.flushOnFailure && s.vs.forwarding === 'nat') {
        const n = await this.io.flushConntrack(s.mark);
        if (n > 0) this.io.log.info(`real server ${s.spec.address}:${s.spec.port} of ${s.vs.name}: ${n} connection(s) flushed`, { virtualServer: s.vs.name });
      }
    }
    this.runQuorumHooks(quorumChanges);
  }

  // keepalived's hysteresis: lost below quorum - hysteresis, back at quorum + hysteresis.
  private updateQuorum(): VirtualServerSpec[] {
    const changed: VirtualServerSpec[] = [];
    for (const vs of this.config.virtualServers) {
      const q = this.quorum.get(vs.name)!;
      const n = this.healthy(vs);
      const up = q.up ? n >= vs.quorum - vs.hysteresis : n >= vs.quorum + vs.hysteresis;
      if (up === q.up) continue;
      q.up = up;
      q.since = Date.now();
      changed.push(vs);
      this.io.log.warn(`virtual server ${vs.name}: quorum ${up ? 'regained' : 'lost'} (${n} healthy, quorum ${vs.quorum}, hysteresis ${vs.hysteresis})`
        + (up ? '' : vs.sorryServer ? `: the sorry server ${vs.sorryServer.address} answers` : ': new connections are refused'), { virtualServer: vs.name });
    }
    return changed;
  }

  private runQuorumHooks(changed: VirtualServerSpec[]): void {
    for (const vs of changed) {
      const up = this.quorum.get(vs.name)!.up;
      const script = up ? vs.notify.quorumUp : vs.notify.quorumDown;
      if (script) this.io.runHook(script, ['VIRTUAL_SERVER', vs.name, up ? 'UP' : 'DOWN', String(this.healthy(vs))]);
    }
  }

  /** What `vigil lb` removes at a clean stop. */
  teardownText(): string {
    const t = this.config.loadBalancer.table;
    return `add table inet ${t}\ndelete table inet ${t}\nadd table netdev ${t}\ndelete table netdev ${t}\n`;
  }
}
