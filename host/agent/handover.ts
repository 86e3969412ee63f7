// A warm start: one engine hands its running instances to another without a word on the wire.
//
// The single executable cannot start its engine beside its supervisor as bin/vigil does (nothing
// runs before its Node does), so with a record of the config it last accepted
// (host/agent/accepted.ts) the supervisor runs an engine of its own first, one Node start to the
// first advert, starts the real engine, and hands over once that one is up
// (host/agent/warm-start.ts). The engine's state is a state machine, inputs in and commands out
// (host/agent/engine-state.ts), so the handover is a replay: the first engine records every input
// its driver gave the state (the journal), the second feeds the same inputs to a state of its own
// and drops the commands (the first carried them out: the adverts are on the wire, the VIPs on the
// box), and goes on live from there. The times are CLOCK_MONOTONIC, the same in both processes. A
// datagram both engines' sockets got is told apart by the kernel's receive stamp: the first reads
// every one queued to it before it stops and says which it read last; the second handles only
// what came after.
import { DROP, type EngineState, type Input } from './engine-state.ts';
import { VigilError } from '../errors.ts';
import { shim } from '../net/shim.ts';

// CLOCK_MONOTONIC in microseconds, read by the shim: the same clock in every process on the box,
// so one engine's deadlines mean the same to the next, and exactly the clock the engine's timerfd
// is armed on (timerAt) and its wake-ups are stamped with (pollStart's nowUs). performance.now()
// plus an offset was off by a few us (two reads) and cost a getter and a validation per call.
export const monotonicUs = (): number => shim().clockMonotonic();

export type JournalEntry = Input;

export interface HandedInstance {
  // GARP / NA bursts still owed (the first engine's burst cut short), or 0: only the refresh.
  burstsLeft: number;
}

export interface Handover {
  v: 2;
  // The config line (host/agent/spec.ts) the first engine ran: the second must run the same.
  config: string;
  // The first engine's Date.now() - CLOCK_MONOTONIC (ms): its records' wall-clock times.
  wallOffsetMs: number;
  journal: JournalEntry[];
  // Per socket (its key, host/agent/engine.ts): the receive stamp [seconds mod 2^32, nanoseconds]
  // of the last datagram the first engine read, absent when it read none.
  cutoff: Record<string, [number, number]>;
  instances: Record<string, HandedInstance>;
}

export const HANDOVER_LINE = '{"handover":';

export class HandoverError extends VigilError {
  constructor(message: string) {
    super('VIGIL_EHANDOVER', message);
    this.name = 'HandoverError';
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
  if (!isObject(h) || h.v !== 2 || !Array.isArray(h.journal) || !isObject(h.cutoff) || !isObject(h.instances)) {
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

/**
 * Feeds recorded inputs to `state` (a fresh one), dropping its commands: the first engine
 * carried them out. An input refused part way is refused the same way.
 */
export function replay<W>(state: EngineState<W>, journal: JournalEntry[]): void {
  const live = state.commands;
  state.setCommands(DROP as typeof live);
  try {
    for (const e of journal) {
      if (e[0] === 'threw') {
        try { apply(state, e[1]); } catch { /* as the first engine's did */ }
      } else {
        apply(state, e);
      }
    }
  } finally {
    state.setCommands(live);
  }
}

function apply<W>(s: EngineState<W>, e: JournalEntry): void {
  switch (e[0]) {
    case 'checks': s.setChecks(e[1]); break;
    case 'add': s.add(e[1], e[2], e[3], e[4]); break;
    case 'start': s.start(e[1], e[2]); break;
    case 'configure': s.configure(e[1], e[2], e[3], e[4]); break;
    case 'remove': s.remove(e[1], e[2]); break;
    case 'ip': { const b = bytes(e[3]); s.core.inBuf.set(b); s.packetIp(e[1], e[2], b.length); break; }
    case 'vrrp': { const b = bytes(e[7]); s.core.inBuf.set(b); s.packetVrrp(e[1], e[2], e[3], e[4], bytes(e[5]), bytes(e[6]), b.length); break; }
    case 'timeout': s.timeout(e[1]); break;
    case 'link': s.link(e[1], e[2]); break;
    case 'address': s.address(e[1], e[2]); break;
    case 'check': s.checkReport(e[1], e[2]); break;
    case 'stop': s.stop(e[1]); break;
    default: throw new HandoverError(`unknown journal entry ${JSON.stringify((e as unknown[])[0])}`);
  }
}

const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
