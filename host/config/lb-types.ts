// The load balancer's part of the configuration (`virtualServers:`, `loadBalancer:`), after
// parsing: keepalived's virtual_server / real_server, normalized, every default filled in.
// Addresses canonical (RFC 5952 for IPv6), durations in microseconds like the rest.
import type { Family } from '../core/addr.ts';

// IPVS's schedulers that nftables can express (lc / wlc approximated: docs/lb.md).
export const SCHEDULERS = ['rr', 'wrr', 'sh', 'dh', 'mh', 'lc', 'wlc'] as const;
export type Scheduler = typeof SCHEDULERS[number];
export type Forwarding = 'nat' | 'dr';
export type L4Proto = 'tcp' | 'udp';

export interface RealServerSpec {
  address: string;
  port: number;               // nat: where DNAT sends it; dr: the virtual server's (DR cannot change it); fwmark: 0 = the packet's own
  weight: number;             // 0..65535 (IPVS's range); 0 = no new connections
  check: string | null;       // a top-level check; null = always up, as in keepalived
  inhibitOnFailure: boolean;  // down: weight 0 and its connections kept, instead of removed
  line: number;
  col: number;
}

export interface Persistence {
  timeoutUs: number;          // how long a client stays with its real server after its last new connection
  prefixLen: number;          // keepalived's persistence_granularity as a prefix: /32 (/128) = per address
}

export interface VirtualServerSpec {
  name: string;
  line: number;
  col: number;
  family: Family;
  address: string | null;     // null for a fwmark service
  port: number;               // 0 for a fwmark service
  fwmark: number | null;
  protocol: L4Proto;
  scheduler: Scheduler;
  forwarding: Forwarding;
  interface: string | null;   // dr: the interface client packets come in on (netdev ingress); default: the instance's holding the address
  persistence: Persistence | null;
  quorum: number;             // healthy real servers needed; fewer: quorum lost (sorry server, or reject)
  hysteresis: number;         // keepalived's: up again at quorum + hysteresis, down below quorum - hysteresis
  sorryServer: { address: string; port: number } | null;
  alpha: boolean;             // real servers start down until their check passes (keepalived's alpha)
  flushOnFailure: boolean;    // a real server that fails (not inhibited) loses its conntrack entries
  notify: { quorumUp: string | null; quorumDown: string | null };
  realServers: RealServerSpec[];
}

export interface LoadBalancerSpec {
  table: string;              // the nftables table vigil owns (inet, and netdev for DR)
  removeOnStop: boolean;      // a clean stop removes the table; a kill never does (forwarding goes on)
}
