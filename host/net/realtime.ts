// Real-time scheduling and locked memory for the VRRP engine's process (keepalived's
// vrrp_rt_priority / vrrp_no_swap): a 10 ms advert interval needs a loop that is neither
// preempted by ordinary work nor paged out. Refusals are warnings, not failures: VRRP still
// runs, with worse jitter, and the warning says how to grant the capability.
import { K, shim } from './shim.ts';

export interface RealtimeOptions {
  policy?: 'fifo' | 'rr';
  /** 1..99; keepalived's default vrrp_rt_priority is none, chrt -f 50 was measured here */
  priority?: number;
  /** mlockall(MCL_CURRENT | MCL_FUTURE) */
  lockMemory?: boolean;
}

export interface RealtimeResult {
  scheduled: boolean;
  locked: boolean;
  warnings: string[];
}

export function enableRealtime(o: RealtimeOptions = {}): RealtimeResult {
  const s = shim();
  const r: RealtimeResult = { scheduled: false, locked: false, warnings: [] };
  const policy = o.policy === 'rr' ? K('SCHED_RR') : K('SCHED_FIFO');
  const prio = o.priority ?? 50;
  if (!Number.isInteger(prio) || prio < 1 || prio > 99) throw new RangeError('real-time priority is 1..99');
  try {
    // SCHED_RESET_ON_FORK: what the engine starts (notify hooks) runs as ordinary work. A hook
    // at SCHED_FIFO 50 that spins would hold a CPU against the engine itself, which cannot
    // preempt a task of its own priority (keepalived resets its scripts' priority too).
    s.schedSetScheduler(policy | K('SCHED_RESET_ON_FORK'), prio);
    r.scheduled = true;
  } catch (e) {
    r.warnings.push(
      `real-time scheduling (SCHED_${o.policy === 'rr' ? 'RR' : 'FIFO'} ${prio}) refused (${(e as Error).message}): ` +
        'VRRP timing will suffer under load; grant CAP_SYS_NICE (`setcap cap_sys_nice+ep`, or ' +
        'systemd AmbientCapabilities=CAP_SYS_NICE) or raise RLIMIT_RTPRIO (LimitRTPRIO=99)',
    );
  }
  if (o.lockMemory !== false) {
    try {
      s.mlockall(K('MCL_CURRENT') | K('MCL_FUTURE'));
      r.locked = true;
    } catch (e) {
      r.warnings.push(
        `locking memory refused (${(e as Error).message}): the engine may be paged out; grant CAP_IPC_LOCK ` +
          'or raise RLIMIT_MEMLOCK (systemd LimitMEMLOCK=infinity)',
      );
    }
  }
  return r;
}

/** The current policy name, for status output. */
export function schedulerPolicy(): 'other' | 'fifo' | 'rr' | string {
  const p = shim().schedGetScheduler() & ~K('SCHED_RESET_ON_FORK');
  return p === K('SCHED_FIFO') ? 'fifo' : p === K('SCHED_RR') ? 'rr' : p === K('SCHED_OTHER') ? 'other' : String(p);
}
