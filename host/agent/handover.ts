// A warm start: one engine hands its running instances to another without a word on the wire.
//
// The single executable cannot start its engine beside its supervisor as bin/vigil does (nothing
// runs before its Node does), so with a record of the config it last accepted
// (host/agent/accepted.ts) the supervisor runs an engine of its own first, one Node start to the
// first advert, starts the real engine, and hands over once that one is up (host/cli/run.ts).
// The core is deterministic, events in and actions out, so the handover is a replay: the first
// engine records every input it gave its core (the journal), the second feeds the same inputs to
// a core of its own and drops the actions (the first carried them out: the adverts are on the
// wire, the VIPs on the box), and goes on live from there. The times are CLOCK_MONOTONIC, the
// same in both processes. A datagram both engines' sockets got is told apart by the kernel's
// receive stamp: the first reads every one queued to it before it stops and says which it read
// last; the second handles only what came after.
import type { ActionHandler, Core, InstanceConfig } from '../core/core.ts';
import type { StateName, ReasonName } from '../core/codes.ts';

// CLOCK_MONOTONIC in microseconds (libuv's hrtime clock, which performance.now() counts from the
// process's start): the same clock in every process on the box, so one engine's deadlines mean
// the same to the next.
const origin = Number(process.hrtime.bigint()) / 1e3 - performance.now() * 1e3;
export const monotonicUs = (): number => performance.now() * 1e3 + origin;

export type JournalEntry =
  | ['add', InstanceConfig, number]                    // the config, the slot it got
  | ['configure', number, InstanceConfig]
  | ['start' | 'stop' | 'remove', number, number]      // slot, now
  | ['track', number, number, number, boolean, number] // slot, index, weight, failing, now
  | ['ip', number, number, string]                     // now, ifindex, the packet (base64)
  | ['vrrp', number, number, number, number, string, string, string]   // now, ifindex, family, ttl, source, destination, message
  | ['timeout', number]
  // An input the core refused part way (a configure whose addresses it would not take, after
  // the rest was applied): replayed the same, and refused the same.
  | ['threw', JournalEntry];

export interface TransitionRecord { at: string; atUs: number; from: StateName; to: StateName; reason: ReasonName; why: string }

export interface HandedInstance {
  slot: number;
  wantVips: boolean;
  // GARP / NA bursts still owed (the first engine's burst cut short), or 0: only the refresh.
  burstsLeft: number;
  transitions: TransitionRecord[];
}

export interface Handover {
  v: 1;
  // The config line (host/agent/spec.ts) the first engine ran: the second must run the same.
  config: string;
  journal: JournalEntry[];
  // Per socket (Engine.key): the receive stamp [seconds mod 2^32, nanoseconds] of the last
  // datagram the first engine read, absent when it read none.
  cutoff: Record<string, [number, number]>;
  instances: Record<string, HandedInstance>;
}

export const HANDOVER_LINE = '{"handover":';

export class HandoverError extends Error {
  readonly code = 'VIGIL_HANDOVER';
  constructor(message: string) {
    super(message);
    this.name = 'HandoverError';
  }
}

const b64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

/**
 * Records every input `core` is given from now on into `journal`, until the function returned
 * is called. The core's own methods are wrapped on the instance: the engine calls them as ever.
 */
export function recordInputs(core: Core, journal: JournalEntry[]): () => void {
  const c = core as unknown as Record<string, (...a: unknown[]) => unknown>;
  const names = ['addInstance', 'configure', 'start', 'stop', 'remove', 'track', 'handleIp', 'handleIpInPlace', 'handleVrrpInPlace', 'handleTimeout'];
  const orig = Object.fromEntries(names.map((n) => [n, c[n]!]));
  let inAdd = false;   // addInstance configures the slot itself: one entry, not two
  const wrap = (n: string, rec: (args: unknown[], result: unknown) => JournalEntry | undefined) => {
    c[n] = (...args: unknown[]) => {
      let result: unknown;
      try {
        result = orig[n]!.apply(core, args);
      } catch (err) {
        const e = rec(args, undefined);
        if (e) journal.push(['threw', e]);
        throw err;
      }
      const e = rec(args, result);
      if (e) journal.push(e);
      return result;
    };
  };
  c.addInstance = (cfg: unknown) => {
    inAdd = true;
    try {
      const slot = orig.addInstance!.call(core, cfg) as number;
      journal.push(['add', structuredClone(cfg) as InstanceConfig, slot]);
      return slot;
    } finally {
      inAdd = false;
    }
  };
  wrap('configure', (a) => inAdd ? undefined : ['configure', a[0] as number, structuredClone(a[1]) as InstanceConfig]);
  for (const n of ['start', 'stop', 'remove'] as const) wrap(n, (a) => [n, a[0] as number, a[1] as number]);
  wrap('track', (a) => ['track', a[0] as number, a[1] as number, a[2] as number, a[3] as boolean, a[4] as number]);
  // The packet is in inBuf still: the core reads it, it does not change it.
  wrap('handleIp', (a) => ['ip', a[0] as number, a[1] as number, b64(a[2] as Uint8Array)]);
  wrap('handleIpInPlace', (a) => ['ip', a[0] as number, a[1] as number, b64(core.inBuf.subarray(0, a[2] as number))]);
  wrap('handleVrrpInPlace', (a) => ['vrrp', a[0] as number, a[1] as number, a[2] as number, a[3] as number,
    b64(a[4] as Uint8Array), b64(a[5] as Uint8Array), b64(core.inBuf.subarray(0, a[6] as number))]);
  wrap('handleTimeout', (a) => ['timeout', a[0] as number]);
  return () => { for (const n of names) delete c[n]; };
}

// The first engine carried out every action: the replay drops them.
const dropActions: ActionHandler = { transition() {}, send() {}, vips() {}, announce() {} };

/** Feeds `journal` to `core` (a fresh one), dropping its actions. */
export function replay(core: Core, journal: JournalEntry[]): void {
  for (const e of journal) {
    if (e[0] === 'threw') {
      try { apply(core, e[1]); } catch { /* as the first engine's core did */ }
    } else {
      apply(core, e);
    }
    core.drain(dropActions);
  }
}

function apply(core: Core, e: JournalEntry): void {
  switch (e[0]) {
    case 'add': {
      const slot = core.addInstance(e[1]);
      if (slot !== e[2]) throw new HandoverError(`the replayed core put an instance in slot ${slot}, the first engine's in ${e[2]}`);
      break;
    }
    case 'configure': core.configure(e[1], e[2]); break;
    case 'start': core.start(e[1], e[2]); break;
    case 'stop': core.stop(e[1], e[2]); break;
    case 'remove': core.remove(e[1], e[2]); break;
    case 'track': core.track(e[1], e[2], e[3], e[4], e[5]); break;
    case 'ip': core.handleIp(e[1], e[2], bytes(e[3])); break;
    case 'vrrp': core.handleVrrp(e[1], e[2], e[3] as 4 | 6, e[4], bytes(e[5]), bytes(e[6]), bytes(e[7])); break;
    case 'timeout': core.handleTimeout(e[1], dropActions); break;
    default: throw new HandoverError(`unknown journal entry ${JSON.stringify((e as unknown[])[0])}`);
  }
}

/** The handover line's message, checked against the config line this engine starts on. */
export function parseHandover(line: string, config: string): Handover {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (err) {
    throw new HandoverError(`the handover line is not JSON: ${(err as Error).message}`);
  }
  const h = (isObject(parsed) ? parsed.handover : undefined) as Handover | undefined;
  if (!isObject(h) || h.v !== 1 || !Array.isArray(h.journal) || !isObject(h.cutoff) || !isObject(h.instances)) {
    throw new HandoverError('the handover line is not a handover this engine knows');
  }
  if (h.config !== config) throw new HandoverError('the supervisor\'s engine ran another config than the record this engine starts on');
  return h;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Whether a datagram stamped (sec, nsec) came after `cut` (or there is no cut). */
export function after(cut: [number, number] | undefined, sec: number, nsec: number): boolean {
  if (!cut) return true;
  // Seconds modulo 2^32: compared as a difference, which wraps.
  const d = (sec - cut[0]) | 0;
  return d > 0 || (d === 0 && nsec > cut[1]);
}
