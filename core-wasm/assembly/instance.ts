// One virtual router's configuration and protocol state. Slots are allocated once and reused,
// so reconfiguring never allocates (the stub runtime never frees).
import { MAX_VIPS, MAX_PEERS, MAX_TRACKS } from "./layout";
import { STATE_INIT, CTR_COUNT, DROP_COUNT } from "./codes";

export const NEVER: f64 = Infinity;
export const ANSWER_ADVERT: u8 = 1;    // an advert, and the advert timer restarted from it (RFC 5798 §6.4.3, priority 0)
export const ANSWER_ANNOUNCE: u8 = 2;  // and announce the VIPs again (a second master was seen)

export class Instance {
  used: bool = false;
  started: bool = false;
  // Configuration
  ifindex: u32 = 0;
  vrid: u32 = 0;
  version: u32 = 3;
  family: u8 = 4;
  priority: u32 = 100;          // configured; 255 = address owner
  adverIntervalCs: u32 = 100;   // Advertisement_Interval, centiseconds (v2: whole seconds x 100)
  preempt: bool = true;
  preemptDelayUs: f64 = 0;
  acceptMode: bool = false;
  authType: u32 = 0;
  auth: StaticArray<u8> = new StaticArray<u8>(8);
  primary: StaticArray<u8> = new StaticArray<u8>(16);  // our source: IPv4 primary, IPv6 link-local
  vips: StaticArray<u8> = new StaticArray<u8>(MAX_VIPS * 16);
  vipCount: i32 = 0;
  peers: StaticArray<u8> = new StaticArray<u8>(MAX_PEERS * 16);
  peerCount: i32 = 0;           // 0 = multicast
  group: i32 = -1;              // sync group
  // Tracking: weight per slot and whether it is failing.
  trackWeight: StaticArray<i32> = new StaticArray<i32>(MAX_TRACKS);
  trackFailing: StaticArray<bool> = new StaticArray<bool>(MAX_TRACKS);
  failingTracks: i32 = 0;       // how many trackFailing entries are true
  // Protocol state (RFC 5798 §6.1 names)
  state: u8 = STATE_INIT;
  masterAdverIntervalCs: u32 = 100;
  adverTimer: f64 = NEVER;
  masterDownTimer: f64 = NEVER;
  preemptAfter: f64 = NEVER;    // when a lower-priority master may be overridden (preempt delay)
  masterAddr: StaticArray<u8> = new StaticArray<u8>(16);
  masterPriority: u32 = 0;
  // A Master's answer to a lower-priority (or priority 0) advert, owed and sent by the advert
  // timer, never by the packet path: queued packets carry their arrival times, so a backlog
  // read at once (after SIGCONT) would otherwise pass any limit. ANSWER_* bits.
  answerDue: u8 = 0;
  answerTimer: f64 = NEVER;      // when the owed answer may go: beside the advert cadence
  lastAnswerUs: f64 = -Infinity; // when the last answer went out (one per advert interval)
  // Counters
  counters: StaticArray<f64> = new StaticArray<f64>(CTR_COUNT);
  drops: StaticArray<u32> = new StaticArray<u32>(DROP_COUNT);
  // Availability history: up = Backup or Master, down = Fault; Init (stopped) counts as neither.
  upUs: f64 = 0;
  downUs: f64 = 0;
  failures: u32 = 0;
  repairs: u32 = 0;
  sinceUs: f64 = 0;
  faultUs: f64 = 0;         // length of the current Fault period
  repairedDownUs: f64 = 0;  // Fault time of periods that ended in a repair (for MTTR)
  lastTransitionUs: f64 = 0;
  lastReason: u8 = 0;

  reset(): void {
    this.used = false; this.started = false;
    this.ifindex = 0; this.vrid = 0; this.version = 3; this.family = 4;
    this.priority = 100; this.adverIntervalCs = 100; this.preempt = true; this.preemptDelayUs = 0;
    this.acceptMode = false; this.authType = 0; this.vipCount = 0; this.peerCount = 0; this.group = -1;
    for (let i = 0; i < MAX_TRACKS; i++) { this.trackWeight[i] = 0; this.trackFailing[i] = false; }
    this.failingTracks = 0;
    this.state = STATE_INIT; this.masterAdverIntervalCs = 100;
    this.adverTimer = NEVER; this.masterDownTimer = NEVER; this.preemptAfter = NEVER;
    this.masterPriority = 0;
    this.answerDue = 0; this.answerTimer = NEVER; this.lastAnswerUs = -Infinity;
    for (let i = 0; i < CTR_COUNT; i++) this.counters[i] = 0;
    for (let i = 0; i < DROP_COUNT; i++) this.drops[i] = 0;
    this.upUs = 0; this.downUs = 0; this.failures = 0; this.repairs = 0; this.sinceUs = 0;
    this.faultUs = 0; this.repairedDownUs = 0;
    this.lastTransitionUs = 0; this.lastReason = 0;
    memory.fill(changetype<usize>(this.auth), 0, 8);
    memory.fill(changetype<usize>(this.primary), 0, 16);
    memory.fill(changetype<usize>(this.masterAddr), 0, 16);
  }

  @inline addrLen(): i32 { return this.family == 6 ? 16 : 4; }
  @inline primaryPtr(): usize { return changetype<usize>(this.primary); }
  @inline vipsPtr(): usize { return changetype<usize>(this.vips); }
  @inline peersPtr(): usize { return changetype<usize>(this.peers); }
  @inline authPtr(): usize { return changetype<usize>(this.auth); }
  @inline masterAddrPtr(): usize { return changetype<usize>(this.masterAddr); }

  // Effective priority: the owner keeps 255; otherwise the configured priority plus the weights
  // of failing tracks, kept within 1..254 so tracking never makes an owner or a resignation.
  effectivePriority(): u32 {
    if (this.priority == 255) return 255;
    let p: i32 = <i32>this.priority;
    // The per-advert path: most of the time nothing is failing.
    if (this.failingTracks == 0) return p > 254 ? 254 : <u32>p;
    for (let i = 0; i < MAX_TRACKS; i++) {
      if (this.trackFailing[i]) p += this.trackWeight[i];
    }
    if (p < 1) p = 1;
    if (p > 254) p = 254;
    return <u32>p;
  }

  // A failing track of weight 0 puts the instance in Fault.
  ownFault(): bool {
    if (this.failingTracks == 0) return false;
    for (let i = 0; i < MAX_TRACKS; i++) {
      if (this.trackFailing[i] && this.trackWeight[i] == 0) return true;
    }
    return false;
  }

  // RFC 5798 §6.1. v3: Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256.
  // RFC 3768 §6.1 (v2): Skew_Time = (256 - Priority) / 256 seconds — the same formula with
  // Master_Adver_Interval fixed at one second's worth of the configured interval unit.
  skewTimeUs(): f64 {
    const p = <f64>this.effectivePriority();
    if (this.version == 2) return ((256.0 - p) * 1e6) / 256.0;
    return ((256.0 - p) * <f64>this.masterAdverIntervalCs * 1e4) / 256.0;
  }

  // Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time
  masterDownIntervalUs(): f64 {
    return 3.0 * <f64>this.masterAdverIntervalCs * 1e4 + this.skewTimeUs();
  }

  @inline adverIntervalUs(): f64 { return <f64>this.adverIntervalCs * 1e4; }
}
