// `vigil lb`: the load balancer's process. The supervisor starts it beside the checker when the
// config has virtual servers and relays the checker's report lines to its stdin, as it does to
// the engine's. It never shares a process with the VRRP engine; it loads no undici and no jco.
//   SIGHUP      re-read the config; a broken one is refused whole and the running one kept
//   SIGTERM     clean stop: the table removed (loadBalancer.removeOnStop), the status files too
//   stdin EOF   the supervisor is gone (killed): exit, the table left in place, so forwarding
//               goes on until the next vigil adopts it
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadConfig } from '../config/load.ts';
import type { AgentConfig } from '../config/types.ts';
import type { Logger } from '../agent/log.ts';
import { parseReport } from '../checks/protocol.ts';
import { runHook } from '../agent/notify.ts';
import { applyTransaction, listTable, readCounters, readPersistence } from './nft.ts';
import { Reconciler, type LbIo } from './reconciler.ts';
import { lbMetrics, lbStatus, type Counters } from './status.ts';
import { lbStatusBase, removeLbStatus, writeLbStatus } from './status-file.ts';

const HOOK_TIMEOUT_US = 10e6;
const STATUS_MS = 1000;

export async function runLb(file: string, log: Logger): Promise<number> {
  let config = loadConfig(file);
  ensureForwarding(config, log);
  // The status files again once a change is in the kernel, not only at the next second's refresh.
  let statusNow = () => {};
  const io: LbIo = {
    apply: async (text) => {
      await applyTransaction(text);
      setImmediate(() => { try { statusNow(); } catch (err) { log.warn(`load balancer status: ${(err as Error).message}`); } });
    },
    flushConntrack,
    egress,
    runHook: (script, argv) => { void runHook('quorum hook', [script, ...argv], {}, HOOK_TIMEOUT_US, log, { virtualServer: argv[1] }); },
    now: () => performance.now(),
    log,
  };
  const rec = new Reconciler(config, io);
  // Before the first apply: a SIGHUP's default would end the process.
  process.on('SIGHUP', () => {
    try {
      config = loadConfig(file);
    } catch (err) {
      log.error(`load balancer: reload refused, the running config kept: ${(err as Error).message}`);
      return;
    }
    ensureForwarding(config, log);
    rec.reload(config);
    // Said once the kernel has it (or the apply failed, which is said too).
    void rec.syncNow().then((ok) => { if (ok) log.info(`load balancer: reloaded ${file}`); });
  });
  // A table left by an earlier run (a restart, a crash): its persistence is carried over.
  if (config.virtualServers.some((v) => v.persistence)) {
    rec.carry('inet', await readPersistence('inet', config.loadBalancer.table));
    rec.carry('netdev', await readPersistence('netdev', config.loadBalancer.table));
  }
  const t0 = performance.now();
  if (await rec.syncNow()) log.info(`load balancer: ${config.virtualServers.length} virtual server(s), ${rec.servers.size} real server(s) in table ${config.loadBalancer.table}, applied in ${(performance.now() - t0).toFixed(1)} ms`);

  const base = config.status.listen ? lbStatusBase(config.status.listen.port) : null;
  let counters: Counters = new Map();
  const refresh = async () => {
    const t = config.loadBalancer.table;
    counters = new Map([...await readCounters('inet', t), ...(config.virtualServers.some((v) => v.forwarding === 'dr') ? await readCounters('netdev', t) : [])]);
    // No counter at all: the table may be gone (`nft flush ruleset`, a restart of the nftables
    // service); nothing else would bring it back until the next change.
    if (counters.size === 0 && rec.servers.size > 0 && await listTable('inet', t) === null) {
      log.warn(`load balancer: table inet ${t} is gone (nft flush ruleset?): putting it back whole`);
      rec.resync();
    }
    if (config.virtualServers.some((v) => v.forwarding === 'nat')) rec.setConnections(await connectionCounts());
    statusNow();
  };
  statusNow = () => {
    if (!base) return;
    const st = lbStatus(rec, counters, config.virtualServers);
    writeLbStatus(base, JSON.stringify(st), lbMetrics(st, rec));
  };
  await refresh().catch((err) => log.warn(`load balancer status: ${(err as Error).message}`));
  // One refresh at a time: conntrack -L of 60,000 entries takes 0.3-0.4 s here, and more would
  // stack listings up once it takes longer than the interval.
  let refreshing = false;
  const ticker = setInterval(() => {
    if (refreshing) return;
    refreshing = true;
    refresh().catch((err) => log.warn(`load balancer status: ${(err as Error).message}`)).finally(() => { refreshing = false; });
  }, STATUS_MS);

  const reports = createInterface({ input: process.stdin }).on('line', (line) => {
    const r = parseReport(line);
    if (r) rec.report(r);
  });


  return new Promise<number>((resolve) => {
    let ending = false;
    const end = async (why: string, remove: boolean) => {
      if (ending) return;
      ending = true;
      clearInterval(ticker);
      rec.stop();
      log.info(`load balancer: ${why}: stopping${remove ? ', table removed' : ', table kept'}`);
      if (remove) await applyTransaction(rec.teardownText()).catch((err) => log.error(`load balancer: removing the table failed: ${(err as Error).message}`));
      statusNow = () => {};
      if (base) removeLbStatus(base);
      // The supervisor's pipe, left open, would keep this process alive after a stop: the
      // supervisor then waits for an exit that never comes (and a reload could not start anew).
      reports.close();
      process.stdin.destroy();
      resolve(0);
    };
    process.once('SIGTERM', () => void end('SIGTERM', config.loadBalancer.removeOnStop));
    process.once('SIGINT', () => void end('SIGINT', config.loadBalancer.removeOnStop));
    if (process.env.VIGIL_SUPERVISED === '1') process.stdin.once('end', () => void end('supervisor gone', false));
  });
}

// NAT forwards through this box: forwarding must be on (IPVS's NAT needs the same). And the
// director's memory of which connection 4-tuples are taken must last as long as the real
// servers' TIME_WAIT (docs/lb.md, New connections and TIME_WAIT): said, not set, as the sysctl
// is the whole namespace's.
function ensureForwarding(config: AgentConfig, log: Logger): void {
  if (config.virtualServers.some((v) => v.forwarding === 'nat' && v.protocol === 'tcp')) {
    try {
      const tw = Number(readFileSync('/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_time_wait', 'utf8'));
      if (tw < 60) log.warn(`load balancer: net.netfilter.nf_conntrack_tcp_timeout_time_wait is ${tw} s, below the real servers' TIME_WAIT (60 s on Linux): new connections may meet a 4-tuple the real server still holds (docs/lb.md)`);
    } catch { /* no conntrack sysctls yet: loaded with the table */ }
  }
  for (const fam of [4, 6] as const) {
    if (!config.virtualServers.some((v) => v.family === fam)) continue;
    const path = fam === 4 ? '/proc/sys/net/ipv4/ip_forward' : '/proc/sys/net/ipv6/conf/all/forwarding';
    try {
      if (readFileSync(path, 'utf8').trim() === '1') continue;
      writeFileSync(path, '1');
      log.warn(`load balancer: turned ${path.replace('/proc/sys/', '').replace(/\//g, '.')} on: the director forwards to its real servers`);
    } catch (err) {
      log.warn(`load balancer: cannot read or set ${path}: ${(err as Error).message}`);
    }
  }
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (b: Buffer) => { out += b; });
    p.stderr.on('data', (b: Buffer) => { err += b; });
    p.on('error', (e) => resolve({ code: null, out, err: e.message }));
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

async function flushConntrack(mark: number): Promise<number> {
  const r = await run('conntrack', ['-D', '-m', String(mark)]);
  return Number(/(\d+) flow entries/.exec(r.err)?.[1] ?? 0);
}

// Active connections per ct mark, from one conntrack listing: TCP only when ESTABLISHED (as
// IPVS's ActiveConn), since a closed one lingers in TIME_WAIT for 120 s and would weigh on lc.
async function connectionCounts(): Promise<Map<number, number>> {
  // Only vigil's NAT marks (0x40000000/0xc0000000), filtered by conntrack: the box's other
  // connections are not listed (60,000 of them: 36 ms instead of 320 ms).
  const r = await run('conntrack', ['-L', '-m', `${0x40000000}/${0xc0000000}`]);
  const out = new Map<number, number>();
  for (const m of r.out.matchAll(/^(\S+)\s+\d+\s+\d+\s+(\S+).* mark=(\d+)/gm)) {
    const k = Number(m[3]);
    if (k && (m[1] !== 'tcp' || m[2] === 'ESTABLISHED')) out.set(k, (out.get(k) ?? 0) + 1);
  }
  return out;
}

async function egress(address: string): Promise<string | undefined> {
  const r = await run('ip', ['-j', 'route', 'get', address]);
  try { return (JSON.parse(r.out) as Array<{ dev?: string }>)[0]?.dev; } catch { return undefined; }
}
