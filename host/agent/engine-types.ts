// The engine state's vocabulary (host/agent/engine-state.ts): the commands it gives its driver,
// the inputs it records for a replay, the checks' table and the events it is fed.
import type { StateName, ReasonName } from '../core/codes.ts';
import type { CheckReport } from '../checks/protocol.ts';
import type { CheckSpec, InstanceSpec } from './spec.ts';
import type { RouterEnv, VirtualRouter } from './virtual-router.ts';

/** A link as netlink reports it (host/net/netlink.ts), without the kernel's stamp. */
export interface LinkInput { index: number; name: string; up: boolean; lowerUp: boolean; deleted: boolean }
export interface AddressInput { op: 'add' | 'del'; index: number; address: string }

/** What the driver carries out. Called synchronously, in the order the state decided. */
export interface Commands<W = unknown> {
  /** An advert: to unicast peer `peer` of the router's list, or to the group (-1). `bytes` is a view into the core. */
  send(r: VirtualRouter<W>, bytes: Uint8Array, peer: number): void;
  /** Hold the router's VIPs (add every one) or not (remove every one). */
  vips(r: VirtualRouter<W>, add: boolean): void;
  /** A reload changed a holding router's VIPs: remove those of `old` no longer wanted, add the rest. */
  swapVips(r: VirtualRouter<W>, old: InstanceSpec): void;
  /** Gratuitous ARP / unsolicited NA for the VIPs, once they are in place. */
  announce(r: VirtualRouter<W>): void;
  /** The one timer, at the core's earliest deadline (µs, CLOCK_MONOTONIC), or Infinity; nowUs: the input's time. */
  armTimer(deadlineUs: number, nowUs?: number): void;
  notify(r: VirtualRouter<W>, hook: string, e: { state: StateName; previous: StateName; priority: number; reason: ReasonName }): void;
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void;
}

/** A health check as the engine knows it: from the checker process's reports (host/checks/). */
export interface CheckStatus {
  name: string;
  type: string;
  target: string;
  up: boolean;
  known: boolean;             // a settled report arrived
  error: string | null;
  code: string | null;        // error's stable code (host/checks/errors.ts)
  latencyMs: number | null;
  transitions: number;        // changes of `up` seen by this engine
  rounds: number;             // as the checker process counts them (since it started)
  failures: number;
  since: string | null;       // when `up` last changed here
  policy: object | null;      // type policy: the policy's state as the checker reports it
  run: CheckReport['run'] | null;   // rise/fall progress as the checker last reported it (the status page shows it)
  detail?: CheckReport['detail'];   // exec: its last exit code and first output line; process: the pids
  value?: number | null;      // file: the integer its file holds (host/checks/protocol.ts's trackEffect applies it)
}

/** One input, as recorded for a replay (JSON: a handover line carries it). */
export type Input =
  | ['checks', CheckSpec[]]
  | ['add', number, InstanceSpec, number, RouterEnv]          // now, spec, group, env
  | ['start', number, string]                                // now, router
  | ['configure', number, InstanceSpec, number, boolean[]]   // now, spec, group, tracked links failing
  | ['remove', number, string]
  | ['ip', number, number, string]                           // now, ifindex, the packet (base64)
  | ['vrrp', number, number, 4 | 6, number, string, string, string] // now, ifindex, family, ttl, source, destination, message (base64)
  | ['timeout', number]
  | ['link', number, LinkInput]
  | ['address', number, AddressInput]
  | ['check', number, CheckReport]
  | ['stop', number]
  // An input refused part way (a configure the core would not take whole): replayed the same.
  | ['threw', Input];
