// The election state machine of RFC 5798 §6.4 (and RFC 3768 §6.4 for v2), plus Fault for
// tracked failures and sync groups. Events come in through the handle* functions; everything
// the host must do leaves through the action queue. Every state change goes through
// changeState, which runs the exit and entry actions, keeps the counters and reports why.
import { Instance, NEVER, ANSWER_ADVERT, ANSWER_ANNOUNCE } from "./instance";
import { MAX_INSTANCES, MAX_PEERS, infoBuf, INFO_VRID, INFO_PRIORITY, INFO_COUNT, INFO_AUTH_TYPE,
  INFO_ADVER_INT, INFO_VERSION, INFO_FAMILY, INFO_TTL, INFO_SRC, INFO_ADDR_OFF, INFO_AUTH_OFF } from "./layout";
import {
  STATE_INIT, STATE_BACKUP, STATE_MASTER, STATE_FAULT,
  DROP_NONE, DROP_VRID_UNKNOWN, DROP_VERSION_MISMATCH, DROP_AUTH_MISMATCH, DROP_AUTH_FAIL,
  DROP_INTERVAL_MISMATCH, DROP_OWN, DROP_TTL, DROP_COUNT,
  WHY_STARTUP_OWNER, WHY_STARTUP, WHY_MASTER_DOWN, WHY_HIGHER_PRIORITY, WHY_SHUTDOWN, WHY_FAULT,
  WHY_FAULT_CLEARED, WHY_SYNC_GROUP,
  ACTION_VIPS_ADD, ACTION_VIPS_DEL, ACTION_ANNOUNCE,
  CTR_ADVERTS_SENT, CTR_ADVERTS_RECEIVED, CTR_TRANSITIONS, CTR_BECAME_MASTER, CTR_PRIO0_SENT,
  CTR_PRIO0_RECEIVED, CTR_ADDR_MISMATCH, CTR_DROPS,
} from "./codes";
import { encodeVrrp, V2_AUTH_LEN } from "./codec";
import { pushSimple, pushTransition, pushSend, reserveOut, roomFor } from "./actions";
import { compare, rd8 } from "./bytes";

export const instances = new StaticArray<Instance>(MAX_INSTANCES);
for (let i = 0; i < MAX_INSTANCES; i++) instances[i] = new Instance();

export const dropTotals = new StaticArray<f64>(DROP_COUNT);

// The started slots, ascending: the timer paths and the group scans walk these rather than all
// MAX_INSTANCES slots (the 256-slot scan per wake-up was 6.7 % of an engine's CPU at 100 adverts/s).
const active = new StaticArray<i32>(MAX_INSTANCES);
let activeCount: i32 = 0;

function activate(slot: i32): void {
  let i = activeCount;
  while (i > 0 && active[i - 1] > slot) { active[i] = active[i - 1]; i--; }
  active[i] = slot;
  activeCount++;
}

function deactivate(slot: i32): void {
  let j = 0;
  for (let i = 0; i < activeCount; i++) if (active[i] != slot) active[j++] = active[i];
  activeCount = j;
}

// (family, VRID) -> first slot; slots sharing a VRID on other interfaces chain through next.
const vridHead = new StaticArray<i32>(512);
const vridNext = new StaticArray<i32>(MAX_INSTANCES);

const MCAST4 = memory.data<u8>([224, 0, 0, 18]);
const MCAST6 = memory.data<u8>([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12]);

export function rebuildIndex(): void {
  for (let i = 0; i < 512; i++) vridHead[i] = -1;
  for (let s = MAX_INSTANCES - 1; s >= 0; s--) {
    const inst = instances[s];
    vridNext[s] = -1;
    if (!inst.used) continue;
    const k = (inst.family == 6 ? 256 : 0) + <i32>inst.vrid;
    vridNext[s] = vridHead[k];
    vridHead[k] = s;
  }
}
rebuildIndex();

function find(ifindex: u32, vrid: u32, family: u8): i32 {
  let s = vridHead[(family == 6 ? 256 : 0) + <i32>vrid];
  while (s >= 0) {
    const inst = instances[s];
    if (inst.ifindex == ifindex || ifindex == 0) return s;
    s = vridNext[s];
  }
  return -1;
}

export function countDrop(inst: Instance | null, reason: u8): u8 {
  dropTotals[reason] += 1;
  if (inst) {
    inst.drops[reason]++;
    inst.counters[CTR_DROPS] += 1;
  }
  return reason;
}

// ---- state changes -------------------------------------------------------------------------

function accountTime(inst: Instance, now: f64): void {
  const dt = now - inst.sinceUs;
  if (dt > 0) {
    if (inst.state == STATE_BACKUP || inst.state == STATE_MASTER) inst.upUs += dt;
    else if (inst.state == STATE_FAULT) { inst.downUs += dt; inst.faultUs += dt; }
  }
  inst.sinceUs = now;
}

export function changeState(inst: Instance, slot: i32, to: u8, why: u8, now: f64, propagate: bool): void {
  const from = inst.state;
  if (from == to) return;
  accountTime(inst, now);
  // Exit actions
  if (from == STATE_MASTER) pushSimple(ACTION_VIPS_DEL, slot);
  if (from == STATE_FAULT && (to == STATE_BACKUP || to == STATE_MASTER)) {
    inst.repairs++;
    inst.repairedDownUs += inst.faultUs;
  }
  if (to == STATE_FAULT && (from == STATE_BACKUP || from == STATE_MASTER)) inst.failures++;
  if (to == STATE_FAULT) inst.faultUs = 0;
  inst.state = to;
  inst.counters[CTR_TRANSITIONS] += 1;
  inst.lastTransitionUs = now;
  inst.lastReason = why;
  pushTransition(slot, from, to, why);
  // Entry actions
  inst.adverTimer = NEVER;
  inst.masterDownTimer = NEVER;
  inst.preemptAfter = NEVER;
  inst.answerDue = 0; inst.answerTimer = NEVER;
  if (to == STATE_MASTER) {
    // RFC 5798 §6.4.1: send an ADVERTISEMENT, announce, set Adver_Timer.
    inst.counters[CTR_BECAME_MASTER] += 1;
    memory.copy(inst.masterAddrPtr(), inst.primaryPtr(), 16);
    inst.masterPriority = inst.effectivePriority();
    pushSimple(ACTION_VIPS_ADD, slot);
    sendAdvert(inst, slot, inst.effectivePriority());
    pushSimple(ACTION_ANNOUNCE, slot);
    inst.adverTimer = now + inst.adverIntervalUs();
  } else if (to == STATE_BACKUP) {
    inst.masterDownTimer = now + inst.masterDownIntervalUs();
  }
  if (propagate && inst.group >= 0) syncGroup(inst, slot, now);
}

// Sync groups move as one (keepalived's vrrp_sync_group): a member that becomes Master takes
// its Backup peers along, one that falls to Backup takes its Master peers, a fault faults all.
function syncGroup(inst: Instance, slot: i32, now: f64): void {
  const to = inst.state;
  for (let k = 0; k < activeCount; k++) {
    const s = active[k];
    const m = instances[s];
    if (s == slot || m.group != inst.group) continue;
    if (to == STATE_MASTER && m.state == STATE_BACKUP) changeState(m, s, STATE_MASTER, WHY_SYNC_GROUP, now, false);
    else if (to == STATE_BACKUP && m.state == STATE_MASTER) {
      m.masterAdverIntervalCs = m.adverIntervalCs;
      changeState(m, s, STATE_BACKUP, WHY_SYNC_GROUP, now, false);
    } else if (to == STATE_FAULT && m.state != STATE_FAULT) {
      if (m.state == STATE_MASTER) resign(m, s);
      changeState(m, s, STATE_FAULT, WHY_SYNC_GROUP, now, false);
    }
  }
}

function groupHasFault(g: i32): bool {
  if (g < 0) return false;
  for (let k = 0; k < activeCount; k++) {
    const m = instances[active[k]];
    if (m.group == g && m.ownFault()) return true;
  }
  return false;
}

// Leaving Fault (or starting) is RFC 5798 §6.4.1's Startup event.
function startup(inst: Instance, slot: i32, why: u8, now: f64, propagate: bool): void {
  if (inst.effectivePriority() == 255) {
    changeState(inst, slot, STATE_MASTER, why == WHY_STARTUP ? WHY_STARTUP_OWNER : why, now, propagate);
  } else {
    // Entering Backup at startup says nothing about the other members: a member added by a
    // reload must not drop a Master group to Backup (only protocol events propagate).
    inst.masterAdverIntervalCs = inst.adverIntervalCs;
    changeState(inst, slot, STATE_BACKUP, why, now, false);
  }
}

// A master that stops or faults says so with priority 0, so a backup takes over after
// Skew_Time instead of Master_Down_Interval (RFC 5798 §6.4.3).
function resign(inst: Instance, slot: i32): void {
  sendAdvert(inst, slot, 0);
}

// ---- adverts -------------------------------------------------------------------------------

export function advertLength(inst: Instance): i32 {
  return 8 + inst.vipCount * inst.addrLen() + (inst.version == 2 ? V2_AUTH_LEN : 0);
}

function sendAdvert(inst: Instance, slot: i32, priority: u32): void {
  const len = advertLength(inst);
  const n = inst.peerCount == 0 ? 1 : inst.peerCount;
  const adverField = inst.version == 2 ? inst.adverIntervalCs / 100 : inst.adverIntervalCs;
  for (let i = 0; i < n; i++) {
    const dst = inst.peerCount == 0
      ? (inst.family == 6 ? MCAST6 : MCAST4)
      : inst.peersPtr() + <usize>(i * 16);
    const p = reserveOut(len);
    if (p == 0) return;
    encodeVrrp(p, inst.version, inst.family, inst.vrid, priority, inst.vipCount, inst.vipsPtr(),
      adverField, inst.authType, inst.authPtr(), inst.primaryPtr(), dst);
    pushSend(slot, inst.family, priority, p, len, dst);
  }
  inst.counters[CTR_ADVERTS_SENT] += 1;
  if (priority == 0) inst.counters[CTR_PRIO0_SENT] += 1;
}

// Worst case of one instance's step: transition, VIP del/add, adverts to every peer, announce.
@inline function roomForStep(): bool {
  return roomFor(5 + MAX_PEERS, (MAX_PEERS + 1) * 8 + (MAX_PEERS + 1) * (8 + 20 * 16 + 8));
}

// ---- events --------------------------------------------------------------------------------

export function start(slot: i32, now: f64): void {
  const inst = instances[slot];
  if (!inst.used || inst.started) return;
  inst.started = true;
  activate(slot);
  inst.sinceUs = now;
  if (inst.ownFault()) changeState(inst, slot, STATE_FAULT, WHY_FAULT, now, true);
  else if (groupHasFault(inst.group)) changeState(inst, slot, STATE_FAULT, WHY_SYNC_GROUP, now, false);
  else startup(inst, slot, WHY_STARTUP, now, true);
}

export function stop(slot: i32, now: f64): void {
  const inst = instances[slot];
  if (!inst.started) return;
  if (inst.state == STATE_MASTER) resign(inst, slot);
  changeState(inst, slot, STATE_INIT, WHY_SHUTDOWN, now, false);
  inst.started = false;
  deactivate(slot);
  // A stopped member no longer holds its group in Fault (found by fuzz_events).
  if (inst.group >= 0) groupRecover(inst.group, -1, now);
}

// Re-evaluates Fault after a track changed.
export function setTrack(slot: i32, index: i32, weight: i32, failing: bool, now: f64): void {
  const inst = instances[slot];
  inst.trackWeight[index] = weight;
  if (inst.trackFailing[index] != failing) inst.failingTracks += failing ? 1 : -1;
  inst.trackFailing[index] = failing;
  if (!inst.started) return;
  if (inst.ownFault()) {
    if (inst.state != STATE_FAULT) {
      if (inst.state == STATE_MASTER) resign(inst, slot);
      changeState(inst, slot, STATE_FAULT, WHY_FAULT, now, true);
    }
    return;
  }
  if (inst.state != STATE_FAULT) return;
  if (inst.group < 0) { startup(inst, slot, WHY_FAULT_CLEARED, now, true); return; }
  groupRecover(inst.group, slot, now);
}

// The whole group leaves Fault together once no member has a fault of its own; only then does
// a new Master pull the others along. `cause` is the member whose change made it possible.
function groupRecover(group: i32, cause: i32, now: f64): void {
  if (groupHasFault(group)) return;
  let master = -1;
  for (let k = 0; k < activeCount; k++) {
    const s = active[k];
    const m = instances[s];
    if (m.group != group || m.state != STATE_FAULT) continue;
    startup(m, s, s == cause ? WHY_FAULT_CLEARED : WHY_SYNC_GROUP, now, false);
    if (m.state == STATE_MASTER) master = s;
  }
  if (master >= 0) syncGroup(instances[master], master, now);
}

// RFC 5798 §7.1: the TTL / hop limit must be 255, proof that the advert was sent on this
// link. A unicast instance also takes less from one of its configured peers, as keepalived
// does (its IPv6 unicast adverts leave with the default hop limit, 64, unless told
// `unicast_ttl 255`): unicast peers may sit behind a router, and the peer list stands in for
// the proof.
function ttlAccepted(inst: Instance, alen: i32): bool {
  if (load<u8>(infoBuf + INFO_TTL) == 255) return true;
  for (let i = 0; i < inst.peerCount; i++) {
    if (compare(infoBuf + INFO_SRC, inst.peersPtr() + <usize>(i * 16), alen) == 0) return true;
  }
  return false;
}

// A decoded, form-valid advertisement is in infoBuf (addresses and auth data in `pkt`).
export function handleAdvert(now: f64, ifindex: u32, pkt: usize): u8 {
  const family = load<u8>(infoBuf + INFO_FAMILY);
  const vrid = <u32>load<u8>(infoBuf + INFO_VRID);
  const slot = find(ifindex, vrid, family);
  if (slot < 0) return countDrop(null, DROP_VRID_UNKNOWN);
  const inst = instances[slot];
  const alen = inst.addrLen();
  if (!ttlAccepted(inst, alen)) return countDrop(inst, DROP_TTL);
  const version = <u32>load<u8>(infoBuf + INFO_VERSION);
  if (version != inst.version) return countDrop(inst, DROP_VERSION_MISMATCH);
  if (compare(infoBuf + INFO_SRC, inst.primaryPtr(), alen) == 0) return countDrop(inst, DROP_OWN);
  const adverInt = <u32>load<u16>(infoBuf + INFO_ADVER_INT);
  if (version == 2) {
    // RFC 3768 §7.1: auth type and password must match, and so must the interval.
    if (<u32>load<u8>(infoBuf + INFO_AUTH_TYPE) != inst.authType) return countDrop(inst, DROP_AUTH_MISMATCH);
    if (inst.authType == 1 &&
        compare(pkt + <usize>load<u16>(infoBuf + INFO_AUTH_OFF), inst.authPtr(), 8) != 0) {
      return countDrop(inst, DROP_AUTH_FAIL);
    }
    if (adverInt * 100 != inst.adverIntervalCs) return countDrop(inst, DROP_INTERVAL_MISMATCH);
  }
  inst.counters[CTR_ADVERTS_RECEIVED] += 1;
  const count = <i32>load<u8>(infoBuf + INFO_COUNT);
  if (count != inst.vipCount ||
      compare(pkt + <usize>load<u16>(infoBuf + INFO_ADDR_OFF), inst.vipsPtr(), count * alen) != 0) {
    inst.counters[CTR_ADDR_MISMATCH] += 1;
  }
  const priority = <u32>load<u8>(infoBuf + INFO_PRIORITY);
  if (priority == 0) inst.counters[CTR_PRIO0_RECEIVED] += 1;
  if (!inst.started) return DROP_NONE;
  if (inst.state == STATE_BACKUP) backupReceives(inst, slot, priority, adverInt, now);
  else if (inst.state == STATE_MASTER) masterReceives(inst, slot, priority, adverInt, now);
  return DROP_NONE;
}

function learnMaster(inst: Instance, priority: u32, adverInt: u32): void {
  // v3 backups adopt the master's interval (RFC 5798 §6.4.2); v2 intervals must already match.
  if (inst.version == 3 && adverInt > 0) inst.masterAdverIntervalCs = adverInt;
  memory.copy(inst.masterAddrPtr(), infoBuf + INFO_SRC, 16);
  inst.masterPriority = priority;
}

// RFC 5798 §6.4.2
function backupReceives(inst: Instance, slot: i32, priority: u32, adverInt: u32, now: f64): void {
  const local = inst.effectivePriority();
  if (priority == 0) {
    inst.masterDownTimer = now + inst.skewTimeUs();
    return;
  }
  let accept = !inst.preempt || priority >= local;
  if (!accept && inst.preemptDelayUs > 0) {
    // Preempt delay: a lower-priority master is tolerated for preemptDelay after we first see it.
    if (inst.preemptAfter == NEVER) inst.preemptAfter = now + inst.preemptDelayUs;
    accept = now < inst.preemptAfter;
  } else if (priority >= local) {
    inst.preemptAfter = NEVER;
  }
  if (!accept) return;  // discard: Master_Down_Timer runs out and we preempt
  learnMaster(inst, priority, adverInt);
  inst.masterDownTimer = now + inst.masterDownIntervalUs();
}

// RFC 5798 §6.4.3
function masterReceives(inst: Instance, slot: i32, priority: u32, adverInt: u32, now: f64): void {
  const local = inst.effectivePriority();
  if (priority == 0) {
    oweAnswer(inst, ANSWER_ADVERT, now);
    return;
  }
  const cmp = compare(infoBuf + INFO_SRC, inst.primaryPtr(), inst.addrLen());
  if (priority > local || (priority == local && cmp > 0)) {
    learnMaster(inst, priority, adverInt);
    changeState(inst, slot, STATE_BACKUP, WHY_HIGHER_PRIORITY, now, true);
    // Deposed: one advert at our own priority. After a partition heals, the winner's advert may
    // reach us before ours reached it; it then never hears of a second master and never
    // announces again, and neighbours stay on our MAC. Our lower-priority advert makes the
    // winner (vigil, or keepalived: it answers a lower-priority advert too) re-announce.
    sendAdvert(inst, slot, local);
  } else {
    // RFC 5798 says discard. But a lower-priority master (or an equal one with the lower
    // address) means a backup that stepped up for a moment (late timers, a lost advert, a
    // partition) and announced the VIP: its gratuitous ARP / NA moved the neighbours to it.
    // Answer and announce again so they come back (keepalived: an advert on a lower-priority
    // advert, and garp_lower_prio_repeat).
    oweAnswer(inst, ANSWER_ANNOUNCE, now);
  }
}

// An answer is owed: an advert (and an announcement) as soon as the host's next timer call,
// or one advert interval after the last answer. However many adverts are queued (a master
// resumed by SIGCONT reads seconds of them at once, each stamped with its old arrival time), at
// most one answer per interval. Beside the advert cadence, not in its place: when a one-way
// partition heals, the other master hears of us after its own next advert (keepalived too).
function oweAnswer(inst: Instance, what: u8, now: f64): void {
  inst.answerDue |= what;
  let due = inst.lastAnswerUs + inst.adverIntervalUs();
  if (due < now) due = now;
  if (due < inst.answerTimer) inst.answerTimer = due;
}

// Fires every timer due at `now`. Returns 1 when the action queue filled up first: the host
// drains it and calls again with the same `now`.
export function handleTimeout(now: f64): i32 {
  for (let k = 0; k < activeCount; k++) {
    const s = active[k];
    const inst = instances[s];
    const answer = inst.answerDue != 0 && now >= inst.answerTimer;
    if (inst.state == STATE_MASTER && (now >= inst.adverTimer || answer)) {
      if (!roomForStep()) return 1;
      sendAdvert(inst, s, inst.effectivePriority());
      if (answer) {
        if (inst.answerDue & ANSWER_ANNOUNCE) pushSimple(ACTION_ANNOUNCE, s);
        if (inst.answerDue & ANSWER_ADVERT) inst.adverTimer = now;   // restarted from this advert
        inst.lastAnswerUs = now;
        inst.answerDue = 0;
        inst.answerTimer = NEVER;
      }
      // Keep the cadence: the next advert is one interval after the last deadline, unless the
      // host was so late that we would send a burst to catch up.
      if (now >= inst.adverTimer) {
        let next = inst.adverTimer + inst.adverIntervalUs();
        if (next <= now) next = now + inst.adverIntervalUs();
        inst.adverTimer = next;
      }
    } else if (inst.state == STATE_BACKUP && now >= inst.masterDownTimer) {
      if (!roomForStep()) return 1;
      changeState(inst, s, STATE_MASTER, WHY_MASTER_DOWN, now, true);
    }
  }
  return 0;
}

export function pollTimeout(): f64 {
  let t = NEVER;
  for (let k = 0; k < activeCount; k++) {
    const inst = instances[active[k]];
    if (inst.adverTimer < t) t = inst.adverTimer;
    if (inst.answerTimer < t) t = inst.answerTimer;
    if (inst.masterDownTimer < t) t = inst.masterDownTimer;
  }
  return t;
}

export function accountNow(inst: Instance, now: f64): void { accountTime(inst, now); }
