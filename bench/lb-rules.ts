// The load-balancer benchmark's data plane, written by hand: one function from a virtual server
// to the nft transaction that installs it, so vigil's own renderer (host/lb/) can take its place
// without touching the harness. The transaction replaces the bench's tables whole (create, delete,
// define: idempotent in one `nft -f -`).
//   nat: DNAT in nat prerouting, `numgen inc` over the real servers (rr).
//   dr:  netdev ingress `fwd` on the clients' interface to a real server's address on the real
//        servers' interface (the request never enters the director's IP stack), `jhash` on the
//        client's address and port over the real servers. With `notrackReplies`, the replies
//        the real servers send back through the director (it is their router in this bench)
//        skip conntrack: the director sees only that half of each connection.

export interface BenchService {
  vip: string;
  port: number;
  forwarding: 'nat' | 'dr';
  realServers: { address: string; port: number }[];
  /** dr: the interface clients' packets arrive on, and the real servers' interface. */
  ingress: string;
  egress: string;
  notrackReplies?: boolean;
}

/** The transaction that installs all of `services` in `table`, replacing what was there. */
export type RulesFn = (table: string, services: BenchService[]) => string | Promise<string>;

// Deleting a table that may not exist: add it first (a no-op when it does) in the same transaction.
const drop = (family: string, table: string) => `add table ${family} ${table}\ndelete table ${family} ${table}\n`;

export const handWritten: RulesFn = (table, services) => {
  let out = drop('ip', table) + drop('netdev', table);
  services.forEach((s, i) => { out += one(table, s, i); });
  return out;
};

function one(table: string, s: BenchService, i: number): string {
  const rs = s.realServers;
  if (!rs.length) throw new Error('a virtual server needs a real server');
  let out = '';
  if (s.forwarding === 'nat') {
    const to = rs.length === 1 ? `${rs[0].address}:${rs[0].port}`
      : `numgen inc mod ${rs.length} map { ${rs.map((r, i) => `${i} : ${r.address} . ${r.port}`).join(', ')} }`;
    out += `table ip ${table} {
  chain nat-${i} {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr ${s.vip} meta l4proto tcp tcp dport ${s.port} dnat ip to ${to}
  }
  chain post-${i} {
    type nat hook postrouting priority srcnat; policy accept;
  }
}
`;
  } else {
    const to = rs.length === 1 ? rs[0].address
      : `jhash ip saddr . tcp sport mod ${rs.length} map { ${rs.map((r, i) => `${i} : ${r.address}`).join(', ')} }`;
    out += `table netdev ${table} {
  chain ingress-${i} {
    type filter hook ingress device "${s.ingress}" priority 0; policy accept;
    ip daddr ${s.vip} tcp dport ${s.port} fwd ip to ${to} device "${s.egress}"
  }
}
`;
    if (s.notrackReplies) {
      out += `table ip ${table} {
  chain raw-${i} {
    type filter hook prerouting priority raw; policy accept;
    iifname "${s.egress}" ip saddr ${s.vip} tcp sport ${s.port} notrack
  }
}
`;
    }
  }
  return out;
}

/** Removes what `handWritten` installed. */
export const removeRules = (table: string) => drop('ip', table) + drop('netdev', table);
