// The agent's configuration after parsing: normalized and typed, every default filled in.
// Durations are microseconds (the core's clock unit) and named ...Us; addresses are in their
// canonical text form (IPv6 compressed, RFC 5952), so two configs compare by value.
// The runtime maps each InstanceSpec to the core's InstanceConfig (host/core/core.ts) itself.
import type { Family } from '../core/addr.ts';
import type { LoadBalancerSpec, VirtualServerSpec } from './lb-types.ts';
export type * from './lb-types.ts';

export interface Address {
  address: string;
  prefixLen: number;          // default /32 (IPv4), /128 (IPv6)
}

export type Auth = { type: 'none' } | { type: 'pass'; password: string };

export interface Garp {
  count: number;              // gratuitous ARPs / unsolicited NAs per burst
  intervalUs: number;         // between the packets of a burst (switches throttle bursts)
  refreshUs: number;          // repeat the burst this often while master; 0 = off
}

export interface TrackInterface {
  name: string;
  weight: number;             // -254..254; 0 = the instance goes to FAULT while it is down
}

export interface TrackCheck {
  name: string;               // a check of the top-level checks: list
  weight: number;             // -254..254; 0 = the instance goes to FAULT while it fails
}

export type CheckType = 'icmp' | 'tcp' | 'http' | 'dns' | 'policy' | 'exec' | 'process' | 'file';
import type { ExecSpec, FileSpec, ProcessSpec } from './local-checks.ts';
export type { ExecSpec, FileSpec, ProcessSpec } from './local-checks.ts';

// One health check (top-level `checks:`). `target` is as written; the parsed parts follow.
export interface CheckSpec {
  name: string;
  line: number;
  col: number;
  type: CheckType;
  target: string;
  host: string;               // icmp, tcp, dns: an IP address (canonical, IPv6 bare); http: the URL's host
  port: number;               // tcp, dns (default 53), http (the URL's, or 80 / 443); icmp: 0
  url: string | null;         // http: the whole URL
  intervalUs: number;
  timeoutUs: number;          // < intervalUs
  rise: number;               // consecutive successes that make a failing check pass
  fall: number;               // consecutive failures that make a passing check fail
  method: string;             // http
  hostHeader: string | null;  // http: Host header (and TLS SNI for https)
  ca: string | null;          // https: a PEM file of CAs to verify the server with, instead of Node's bundled ones
  query: string | null;       // dns: the name asked
  qtype: 'A' | 'AAAA';        // dns
  policy: string | null;      // policy: the name of one of the top-level policies
  args: [string, string][];   // policy: the check's args, in order, as strings
  expect: {
    status: number[];         // http
    body: string | null;      // http: a regular expression the body must match
    banner: string | null;    // tcp: a regular expression the first bytes must match
    address: string[];        // dns: the answer must hold one of these (empty: any answer)
    // http: the whole body's digest (hex, lower case). The parser always sets it (null: none);
    // optional for the CheckSpecs that tests and benches write out by hand.
    digest?: BodyDigest | null;
  };
  // exec, process, file (host/config/local-checks.ts); null for the other types. Optional as
  // digest is, for the CheckSpecs tests write out by hand.
  exec?: ExecSpec | null;
  process?: ProcessSpec | null;
  file?: FileSpec | null;
}

export interface BodyDigest {
  algorithm: 'md5' | 'sha256';
  hex: string;                // lower case
}

// A WebAssembly check policy (top-level `policies:`), run sandboxed by the checker
// (host/policy/). `file` is absolute, or builtin:NAME for one shipped with vigil.
export interface PolicySpec {
  name: string;
  line: number;
  col: number;
  file: string;
  memoryPages: number;        // linear memory cap, 64 KiB pages
  cpuUs: number;              // compute time per round
}

export interface Notify {
  master: string | null;      // absolute paths of executables, run without a shell
  backup: string | null;
  fault: string | null;
  stop: string | null;
  timeoutUs: number;
  user?: string;              // run the hooks as this local user (setpriv); absent: as root
}

export interface InstanceSpec {
  name: string;
  line: number;               // where the instance starts in the file, for later messages
  col: number;
  interface: string;
  vrid: number;
  version: 2 | 3;
  family: Family;             // of the virtual addresses; one family per instance
  priority: number;
  advertIntervalUs: number;
  advertIntervalCs: number;   // what the core takes (v2: whole seconds x 100)
  preempt: boolean;
  preemptDelayUs: number;
  acceptMode: boolean;
  virtualAddresses: Address[];
  unicastPeers: string[] | null;   // null = multicast (an empty list is refused, never this)
  unicastSource: string | null;
  auth: Auth;                 // always { type: 'none' } for v3
  vmac: boolean;
  garp: Garp;
  track: { interfaces: TrackInterface[]; checks: TrackCheck[] };
  notify: Notify;
  syncGroup: string | null;   // the name of the sync group holding this instance
}

export interface SyncGroupSpec {
  name: string;
  line: number;
  col: number;
  instances: string[];
}

export interface StatusSpec {
  listen: { host: string; port: number } | null;   // host bare (IPv6 without brackets); null: `status: false`
  exposed: boolean;           // listens beyond loopback: allowed, but the CLI says so
  target?: number;            // status.target: availability in percent (99.99) the status page budgets downtime for
}

export interface RealtimeSpec {
  enabled: boolean;           // SCHED_FIFO and locked memory for the VRRP process
  priority: number;           // 1..99
}

export interface AgentConfig {
  file: string;
  instances: InstanceSpec[];
  syncGroups: SyncGroupSpec[];
  checks: CheckSpec[];
  policies: PolicySpec[];
  status: StatusSpec;
  realtime: RealtimeSpec;
  virtualServers: VirtualServerSpec[];
  loadBalancer: LoadBalancerSpec;
  // Present when the file says security: { allowUnsafeScripts: true }: the unsafe scripts it
  // then runs anyway, each as file:line:col: why, for a warning at every start.
  security?: { allowUnsafeScripts: boolean; warnings: string[] };
}

// Defaults, as a user would write them. schema/vigil.schema.json states the same; a test
// checks that a file spelling every default out parses to the same config as one omitting them.
export const DEFAULTS = {
  priority: 100,
  version: 3 as const,
  advertInterval: '1s',
  preempt: true,
  preemptDelay: '0s',
  acceptMode: false,
  vmac: false,
  garp: { count: 5, interval: '10ms', refresh: '0s' },
  trackWeight: 0,
  notifyTimeout: '10s',
  statusListen: '127.0.0.1:9110',
  realtimePriority: 50,
  policy: { memory: '16MiB', cpu: '50ms' },
  lb: { protocol: 'tcp' as const, scheduler: 'wlc' as const, forwarding: 'nat' as const, weight: 1, quorum: 1, hysteresis: 0, table: 'vigil', persistenceTimeout: '300s' },
  check: { interval: '1s', timeout: '500ms', rise: 2, fall: 3, status: [200], method: 'GET', qtype: 'A' as const, dnsPort: 53 },
};

// Bounds. The per-instance counts are the core's table sizes (core-wasm/assembly/layout.ts).
export const LIMITS = {
  fileBytes: 1 << 20,
  instances: 256,
  syncGroups: 64,
  virtualAddresses: 20,
  unicastPeers: 16,
  trackInterfaces: 32,
  tracks: 31,                                   // interfaces + checks: the core's 32 track slots, less the own link's
  checks: 1024,                                 // 1,000 HTTP checks at 100 ms: 10,000 rounds/s (bench/checks.ts)
  policies: 32,
  policyMemoryMiB: [1, 256] as const,
  policyCpuUs: [1e3, 10e6] as const,
  policyArgs: 32,
  checkIntervalUs: [10e3, 3600e6] as const,
  checkTimeoutUs: [1e3, 3600e6] as const,
  checkRiseFall: [1, 100] as const,
  poolWeight: [0, 65535] as const,              // IPVS's real server weight
  virtualServers: 1024,
  realServers: 10000,                           // per virtual server
  persistenceUs: [1e6, 31 * 86400e6] as const,
  garpCount: [1, 100] as const,
  garpIntervalUs: [0, 10e6] as const,
  garpRefreshUs: [1e6, 86400e6] as const,       // or 0 = off
  preemptDelayUs: [0, 1000e6] as const,
  notifyTimeoutUs: [100e3, 3600e6] as const,
  v3IntervalUs: [10e3, 40.95e6] as const,       // 12 bits of centiseconds
  v2IntervalUs: [1e6, 255e6] as const,          // 8 bits of seconds
};
