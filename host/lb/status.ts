// The load balancer's part of /status (JSON) and /metrics (Prometheus text), from the
// reconciler's state and the kernel's counters (host/lb/status-file.ts carries them over).
import type { Reconciler } from './reconciler.ts';

export type Counters = Map<string, { packets: number; bytes: number }>;

export function lbStatus(rec: Reconciler, counters: Counters, vsOrder: readonly { name: string }[]) {
  const weights = rec.weights();
  const iso = (ms: number) => new Date(ms).toISOString();
  return vsOrder.map(({ name }) => {
    const servers = [...rec.servers.values()].filter((s) => s.vs.name === name);
    const vs = servers[0]?.vs;
    const q = rec.quorum.get(name);
    const healthy = servers.filter((s) => s.up && s.spec.weight > 0).length;
    return {
      name, address: vs?.address ?? null, port: vs?.port ?? 0, fwmark: vs?.fwmark ?? null, protocol: vs?.protocol, scheduler: vs?.scheduler, forwarding: vs?.forwarding,
      quorum: { up: q?.up ?? true, needed: vs?.quorum ?? 1, healthy, since: q ? iso(q.since) : null, sorry: q ? !q.up && vs?.sorryServer != null : false },
      sorryServer: vs?.sorryServer ?? null,
      realServers: servers.map((s) => {
        const c = counters.get(`c-${s.id}`);
        return {
          address: s.spec.address, port: s.spec.port, weight: s.spec.weight, effectiveWeight: weights.get(s.id) ?? 0,
          up: s.up, since: iso(s.since), check: s.spec.check, inhibitOnFailure: s.spec.inhibitOnFailure,
          activeConnections: rec.connectionsOf(s), packets: c?.packets ?? 0, bytes: c?.bytes ?? 0,
        };
      }),
    };
  });
}

export type LbStatus = ReturnType<typeof lbStatus>;

export function lbMetrics(st: LbStatus, rec: Reconciler): string {
  const out: string[] = [];
  const esc = (v: string | number) => String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  const family = (name: string, type: string, help: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  const per = (name: string, type: string, help: string, value: (r: LbStatus[number]['realServers'][number]) => number | null) => {
    family(name, type, help);
    for (const vs of st) for (const r of vs.realServers) {
      const v = value(r);
      if (v !== null) out.push(`${name}{virtual_server="${esc(vs.name)}",address="${esc(r.address)}",port="${r.port}"} ${v}`);
    }
  };
  per('vigil_real_server_up', 'gauge', 'Real server in service: 1 while its check passes (or it has none).', (r) => (r.up ? 1 : 0));
  per('vigil_real_server_weight', 'gauge', 'Effective weight: the configured one while up (lc/wlc: from connection counts), 0 while down.', (r) => r.effectiveWeight);
  per('vigil_real_server_connections', 'gauge', 'Connections in conntrack to the real server (NAT services).', (r) => r.activeConnections);
  per('vigil_real_server_packets_total', 'counter', 'Packets forwarded to and from the real server (DR: to it).', (r) => r.packets);
  per('vigil_real_server_bytes_total', 'counter', 'Bytes forwarded to and from the real server (DR: to it).', (r) => r.bytes);
  family('vigil_virtual_server_quorum', 'gauge', 'Quorum: 1 while enough real servers are healthy, 0 while lost.');
  for (const vs of st) out.push(`vigil_virtual_server_quorum{virtual_server="${esc(vs.name)}"} ${vs.quorum.up ? 1 : 0}`);
  family('vigil_lb_transactions_total', 'counter', 'nftables transactions applied by the load balancer.');
  out.push(`vigil_lb_transactions_total ${rec.transactions}`);
  return out.join('\n') + '\n';
}
