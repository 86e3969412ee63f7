// GET /status (JSON) and GET /metrics (Prometheus text format 0.0.4), on 127.0.0.1 by default.
// node:http, not undici: the engine's process stays lean.
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
// require, not import: an ES import of node:http reads every export, including the lazy
// getters that load undici, http2 and tls (about 15 MB and 70 ms measured here).
const { createServer } = createRequire(import.meta.url)('node:http') as typeof import('node:http');
import type { Engine } from './engine.ts';
import { STATES, DROP_REASONS } from '../core/codes.ts';
import { K, shim } from '../net/shim.ts';
import { sockaddrIp } from '../net/sockaddr.ts';
import { familyOf, formatHostPort } from '../core/addr.ts';
import { NetSysError, type OsError } from '../net/errors.ts';
import { lbStatusBase, readLbStatus } from '../lb/status-file.ts';

export type Status = ReturnType<Engine['status']>;

export function metrics(s: Status): string {
  const out: string[] = [];
  const family = (name: string, type: string, help: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  const esc = (v: string | number) => String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  const lbl = (o: Record<string, string | number>) => '{' + Object.entries(o).map(([k, v]) => `${k}="${esc(v)}"`).join(',') + '}';
  const per = (name: string, type: string, help: string, value: (i: Status['instances'][number]) => number | null) => {
    family(name, type, help);
    for (const i of s.instances) {
      const v = value(i);
      if (v !== null) out.push(`${name}${lbl({ instance: i.name, interface: i.interface, vrid: i.vrid })} ${v}`);
    }
  };
  family('vigil_instance_state', 'gauge', 'Current VRRP state (1 for the state the instance is in).');
  for (const i of s.instances) {
    for (const st of STATES) out.push(`vigil_instance_state${lbl({ instance: i.name, interface: i.interface, vrid: i.vrid, state: st })} ${i.state === st ? 1 : 0}`);
  }
  per('vigil_instance_priority', 'gauge', 'Effective priority (configured plus tracking weights).', (i) => i.effectivePriority);
  per('vigil_adverts_sent_total', 'counter', 'Advertisements sent.', (i) => i.counters.advertsSent);
  per('vigil_adverts_received_total', 'counter', 'Advertisements received and accepted.', (i) => i.counters.advertsReceived);
  per('vigil_transitions_total', 'counter', 'State transitions.', (i) => i.counters.transitions);
  per('vigil_became_master_total', 'counter', 'Transitions to master.', (i) => i.counters.becameMaster);
  per('vigil_instance_up_seconds', 'counter', 'Time in backup or master.', (i) => i.availability.upSeconds);
  per('vigil_instance_down_seconds', 'counter', 'Time in fault.', (i) => i.availability.downSeconds);
  per('vigil_instance_availability_ratio', 'gauge', 'Observed availability: up / (up + down).', (i) => i.availability.availability);
  per('vigil_instance_mttf_seconds', 'gauge', 'Observed mean time to failure.', (i) => i.availability.mttfSeconds);
  per('vigil_instance_mttr_seconds', 'gauge', 'Observed mean time to repair.', (i) => i.availability.mttrSeconds);
  family('vigil_instance_drops_total', 'counter', 'Received packets dropped, by reason.');
  for (const i of s.instances) {
    for (const [reason, n] of Object.entries(i.drops)) out.push(`vigil_instance_drops_total${lbl({ instance: i.name, interface: i.interface, vrid: i.vrid, reason })} ${n}`);
  }
  const check = (name: string, type: string, help: string, value: (c: Status['checks'][number]) => number | null) => {
    family(name, type, help);
    for (const c of s.checks) {
      const v = value(c);
      if (v !== null) out.push(`${name}${lbl({ check: c.name, type: c.type })} ${v}`);
    }
  };
  check('vigil_check_up', 'gauge', 'Health check state: 1 up, 0 down or not yet known (counted as failing).', (c) => (c.up ? 1 : 0));
  check('vigil_check_transitions_total', 'counter', 'Health check state changes seen by the engine.', (c) => c.transitions);
  check('vigil_check_latency_seconds', 'gauge', 'Duration of the last round of the check.', (c) => (c.latencyMs === null ? null : c.latencyMs / 1000));
  check('vigil_check_rounds_total', 'counter', 'Rounds run by the current checker process.', (c) => c.rounds);
  check('vigil_check_failures_total', 'counter', 'Failed rounds in the current checker process.', (c) => c.failures);
  // Policies: one series per policy, from the first check that reports it.
  const policies = new Map<string, PolicyLike>();
  for (const c of s.checks) { const p = c.policy as PolicyLike | null; if (p?.name && !policies.has(p.name)) policies.set(p.name, p); }
  const pol = (name: string, type: string, help: string, value: (p: PolicyLike) => number | null) => {
    family(name, type, help);
    for (const p of policies.values()) { const v = value(p); if (v !== null) out.push(`${name}${lbl({ policy: p.name })} ${v}`); }
  };
  pol('vigil_policy_loads_total', 'counter', 'Policy versions loaded by the current checker process (the first included).', (p) => p.loads);
  pol('vigil_policy_refused_total', 'counter', 'Policy files refused; the running version was kept.', (p) => p.refused);
  pol('vigil_policy_swap_seconds', 'gauge', 'Last hot swap: file change seen to the new version answering.', (p) => (p.lastSwapMs === null ? null : p.lastSwapMs / 1000));
  pol('vigil_policy_evaluations_total', 'counter', 'Policy rounds run.', (p) => p.evaluations);
  family('vigil_policy_kills_total', 'counter', 'Policy rounds stopped by the sandbox, by reason (cpu, memory, trap, crash).');
  for (const p of policies.values()) for (const [reason, n] of Object.entries(p.kills)) out.push(`vigil_policy_kills_total${lbl({ policy: p.name, reason })} ${n}`);
  family('vigil_packet_drops_total', 'counter', 'Received packets dropped before an instance was known, by reason.');
  for (const r of DROP_REASONS.slice(1)) out.push(`vigil_packet_drops_total${lbl({ reason: r })} ${(s.drops as Record<string, number>)[r] ?? 0}`);
  return out.join('\n') + '\n';
}

interface PolicyLike { name: string; loads: number; refused: number; lastSwapMs: number | null; evaluations: number; kills: Record<string, number> }

/** The status server's socket, bound and listening; Node's http server comes later (serveStatus). */
export interface StatusSocket { fd: number; where: string }

// Bound and listening through the shim, handed to Node as { fd }: Node's listen(port, host)
// checks the host with its IPv6 regular expression, whose first use costs ~13 ms here
// (compiling it). A taken port fails here, before the engine starts and any VIP moves;
// connections wait in the backlog until serveStatus.
export function bindStatus(host: string, port: number): StatusSocket {
  const where = formatHostPort(host, port);
  return { fd: listeningSocket(host, port, where), where };
}

/** Serves /status, /metrics and the status page (/) on a bound socket (bindStatus), which it then owns. */
export async function serveStatus(engine: Engine, sock: StatusSocket, opts: { target?: () => number | null } = {}): Promise<Server> {
  const lbBase = lbStatusBase(Number(/(\d+)$/.exec(sock.where)?.[1] ?? 0));
  const server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405, { allow: 'GET' }).end(); return; }
    if (url === '/status') {
      // availabilityTarget: status.target, the percent the page's downtime budget is for.
      // virtualServers: `vigil lb`'s JSON as it wrote it (host/lb/status-file.ts), unparsed here.
      const body = JSON.stringify({ ...engine.status(), availabilityTarget: opts.target?.() ?? null });
      const lb = readLbStatus(lbBase, 'json');
      res.writeHead(200, { 'content-type': 'application/json' }).end((lb ? `${body.slice(0, -1)},"virtualServers":${lb.trim()}}` : body) + '\n');
    } else if (url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metrics(engine.status()) + (readLbStatus(lbBase, 'prom') ?? ''));
    } else if (url === '/' || url === '/index.html') {
      const page = statusPage();
      if (page) res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY' }).end(page);
      else res.writeHead(503, { 'content-type': 'text/plain' }).end('the status page is not built (make): /status and /metrics are\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('try /, /status or /metrics\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err) => { server.close(); closeStatus(sock); reject(err); });
    server.listen({ fd: sock.fd }, () => { server.removeAllListeners('error'); resolve(server); });
  });
}

// The status page (host/ui/, one HTML file built by host/ui/build.ts; dist/vigil's asset
// ui/index.html), read on its first request and kept: an engine nobody looks at never reads it.
let page: Buffer | undefined;
function statusPage(): Buffer | undefined {
  if (page) return page;
  try {
    const sea = process.getBuiltinModule('node:sea');
    page = sea.isSea() ? Buffer.from(sea.getRawAsset('ui/index.html'))
      : process.getBuiltinModule('node:fs').readFileSync(new URL('../../build/ui/index.html', import.meta.url));
  } catch { /* not built: a 503 says so, and a later request tries again */ }
  return page;
}

/** For a socket never served. */
export function closeStatus(sock: StatusSocket): void {
  try { shim().close(sock.fd); } catch { /* closed */ }
}

function listeningSocket(host: string, port: number, where: string): number {
  const s = shim();
  const fd = s.socket(familyOf(host) === 4 ? K('AF_INET') : K('AF_INET6'), K('SOCK_STREAM'), 0);
  try {
    s.setsockoptInt(fd, K('SOL_SOCKET'), K('SO_REUSEADDR'), 1);
    s.bind(fd, sockaddrIp(host, 0, port));
    s.listen(fd, K('SOMAXCONN'));
  } catch (err) {
    s.close(fd);
    throw new NetSysError(`status server on ${where}`, err as OsError);
  }
  return fd;
}
