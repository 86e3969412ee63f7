// The raw exports of core.wasm: the contract in ../core.wit, in memory-buffer form.
// Only host/core/core.ts calls these.
import {
  inBuf, cfgBuf, frameBuf, outBuf, actionBuf, infoBuf, countBuf, MAX_INSTANCES, MAX_VIPS, MAX_PEERS,
  MAX_TRACKS, MAX_GROUPS, INFO_FAMILY, INFO_TTL, INFO_SRC, INFO_DST, CFG_SIZE,
} from "./layout";
import { DROP_NONE, DROP_COUNT, CTR_COUNT } from "./codes";
import { decodeIpPacket, decodeVrrp, encodeVrrp, writeIpHeader } from "./codec";
import { buildGarp, buildNa } from "./frames";
import { instances, dropTotals, rebuildIndex, countDrop, handleAdvert, start, stop, setTrack,
  handleTimeout as fsmTimeout, pollTimeout as fsmPollTimeout, accountNow } from "./fsm";
import { NEVER } from "./instance";
import * as A from "./avail";

export {
  IN_SIZE, CFG_SIZE, FRAME_SIZE, OUT_SIZE, ACTION_SIZE, ACTION_CAP, INFO_SIZE,
  INFO_VERSION, INFO_TYPE, INFO_VRID, INFO_PRIORITY, INFO_COUNT, INFO_AUTH_TYPE, INFO_FAMILY,
  INFO_TTL, INFO_ADVER_INT, INFO_CHECKSUM, INFO_CHECKSUM_OK, INFO_DROP, INFO_IP_PROTO,
  INFO_VRRP_OFF, INFO_VRRP_LEN, INFO_ADDR_OFF, INFO_AUTH_OFF, INFO_SRC, INFO_DST,
  ACT_KIND, ACT_REASON, ACT_FROM, ACT_TO, ACT_INSTANCE, ACT_FAMILY, ACT_PRIORITY, ACT_OFF,
  ACT_LEN, ACT_DST, MAX_INSTANCES, MAX_VIPS, MAX_PEERS, MAX_TRACKS, MAX_GROUPS,
} from "./layout";
export { actionCount, actionsClear, actionOverflows } from "./actions";

// ---- buffers -------------------------------------------------------------------------------
export function bufIn(): usize { return inBuf; }
export function bufCfg(): usize { return cfgBuf; }
export function bufFrame(): usize { return frameBuf; }
export function bufOut(): usize { return outBuf; }
export function bufActions(): usize { return actionBuf; }
export function bufInfo(): usize { return infoBuf; }
export function bufActionCount(): usize { return countBuf; }
export function dropReasons(): i32 { return DROP_COUNT; }
export function counterCount(): i32 { return CTR_COUNT; }

// ---- codec (no configuration needed) --------------------------------------------------------
// A whole IP packet in inBuf[0, len). Returns the drop reason; fields in infoBuf.
export function decodeIp(len: i32): u8 { return decodeIpIn(len, true); }

// A bare VRRP message in inBuf[0, len); family, TTL, source and destination come as arguments
// (source and destination are written into infoBuf's SRC / DST by the host beforehand).
export function decodeBare(len: i32, family: u8, ttl: u8): u8 { return decodeBareIn(len, family, ttl, true); }

// Both, for the decoders above and the events below (which leave the TTL to the FSM).
function decodeIpIn(len: i32, checkTtl: bool): u8 {
  if (len < 0 || len > 4096) len = 0;
  return decodeIpPacket(inBuf, len, checkTtl);
}

function decodeBareIn(len: i32, family: u8, ttl: u8, checkTtl: bool): u8 {
  if (len < 0 || len > 4096) len = 0;
  store<u8>(infoBuf + INFO_FAMILY, family == 6 ? 6 : 4);
  store<u8>(infoBuf + INFO_TTL, ttl);
  return decodeVrrp(inBuf, len, 0, checkTtl);
}

// Encodes an advert into outBuf: cfgBuf holds src (16 bytes at 0), dst (16 at 16), auth data
// (8 at 32) and count addresses from 48. With ipHeader, an IPv4/IPv6 header comes first.
// Returns the total length written, or -1 when the arguments are out of range.
export function encode(version: u32, family: u8, vrid: u32, priority: u32, count: i32,
  adverInt: u32, authType: u32, ipHeader: bool, ttl: u32): i32 {
  if ((version != 2 && version != 3) || (family != 4 && family != 6) || count < 0 || count > 255) return -1;
  if (version == 2 && family == 6) return -1;
  if (48 + count * (family == 6 ? 16 : 4) > CFG_SIZE) return -1;  // addresses must fit in cfgBuf
  const hdr = ipHeader ? (family == 6 ? 40 : 20) : 0;
  const len = encodeVrrp(outBuf + <usize>hdr, version, family, vrid & 0xff, priority & 0xff, count,
    cfgBuf + 48, adverInt, authType & 0xff, cfgBuf + 32, cfgBuf, cfgBuf + 16);
  if (ipHeader) writeIpHeader(outBuf, family, ttl & 0xff, cfgBuf, cfgBuf + 16, len);
  return hdr + len;
}

// Gratuitous ARP: cfgBuf has the MAC at 0 and the IPv4 address at 16. Frame in frameBuf.
export function garp(): i32 { return buildGarp(frameBuf, cfgBuf, cfgBuf + 16); }
// Unsolicited NA: MAC at 0, link-local source at 16, target (the VIP) at 32.
export function na(router: bool): i32 { return buildNa(frameBuf, cfgBuf, cfgBuf + 16, cfgBuf + 32, router); }

// ---- instances -----------------------------------------------------------------------------
export const CFG_OK: i32 = 0;
export const CFG_NO_SLOT: i32 = 1;
export const CFG_VRID: i32 = 2;
export const CFG_VERSION: i32 = 3;
export const CFG_FAMILY: i32 = 4;
export const CFG_PRIORITY: i32 = 5;
export const CFG_INTERVAL: i32 = 6;
export const CFG_AUTH: i32 = 7;
export const CFG_COUNT: i32 = 8;
export const CFG_RUNNING: i32 = 9;
export const CFG_TRACK: i32 = 10;
export const CFG_GROUP: i32 = 11;

@inline function valid(slot: i32): bool { return slot >= 0 && slot < MAX_INSTANCES && instances[slot].used; }

export function instanceAlloc(): i32 {
  for (let s = 0; s < MAX_INSTANCES; s++) {
    if (!instances[s].used) { instances[s].reset(); instances[s].used = true; return s; }
  }
  return -1;
}

export function instanceFree(slot: i32, now: f64): void {
  if (!valid(slot)) return;
  stop(slot, now);
  instances[slot].reset();
  rebuildIndex();
}

// Identity (ifindex, VRID, version, family) can change only while stopped; priority, interval,
// preemption and auth may change at any time (a reload) and apply from the next event.
export function instanceConfigure(slot: i32, ifindex: u32, vrid: u32, version: u32, family: u8,
  priority: u32, adverIntervalCs: u32, preempt: bool, preemptDelayCs: u32, acceptMode: bool,
  authType: u32): i32 {
  if (!valid(slot)) return CFG_NO_SLOT;
  if (vrid < 1 || vrid > 255) return CFG_VRID;
  if (version != 2 && version != 3) return CFG_VERSION;
  if ((family != 4 && family != 6) || (version == 2 && family == 6)) return CFG_FAMILY;
  if (priority < 1 || priority > 255) return CFG_PRIORITY;
  // v3: 12 bits of centiseconds; v2: whole seconds in 8 bits.
  if (version == 3 && (adverIntervalCs < 1 || adverIntervalCs > 4095)) return CFG_INTERVAL;
  if (version == 2 && (adverIntervalCs < 100 || adverIntervalCs > 25500 || adverIntervalCs % 100 != 0)) return CFG_INTERVAL;
  if (authType > 1 || (authType != 0 && version != 2)) return CFG_AUTH;
  const inst = instances[slot];
  if (inst.started && (inst.ifindex != ifindex || inst.vrid != vrid || inst.version != version || inst.family != family)) {
    return CFG_RUNNING;
  }
  inst.ifindex = ifindex; inst.vrid = vrid; inst.version = version; inst.family = family;
  inst.priority = priority; inst.adverIntervalCs = adverIntervalCs; inst.preempt = preempt;
  inst.preemptDelayUs = <f64>preemptDelayCs * 1e4; inst.acceptMode = acceptMode; inst.authType = authType;
  if (!inst.started) inst.masterAdverIntervalCs = adverIntervalCs;
  rebuildIndex();
  return CFG_OK;
}

export const ADDR_PRIMARY: i32 = 0;
export const ADDR_VIPS: i32 = 1;
export const ADDR_PEERS: i32 = 2;
export const ADDR_AUTH: i32 = 3;

// Addresses (16-byte slots; IPv4 in the first 4) or the 8-byte password, from cfgBuf.
export function instanceSetAddresses(slot: i32, kind: i32, count: i32): i32 {
  if (!valid(slot)) return CFG_NO_SLOT;
  const inst = instances[slot];
  const alen = inst.addrLen();
  if (kind == ADDR_PRIMARY) {
    memory.fill(inst.primaryPtr(), 0, 16);
    memory.copy(inst.primaryPtr(), cfgBuf, <usize>alen);
  } else if (kind == ADDR_VIPS) {
    if (count < 1 || count > MAX_VIPS) return CFG_COUNT;
    // Packed at the family's length, as they go on the wire.
    for (let i = 0; i < count; i++) {
      memory.copy(inst.vipsPtr() + <usize>(i * alen), cfgBuf + <usize>(i * 16), <usize>alen);
    }
    inst.vipCount = count;
  } else if (kind == ADDR_PEERS) {
    if (count < 0 || count > MAX_PEERS) return CFG_COUNT;
    memory.fill(inst.peersPtr(), 0, MAX_PEERS * 16);
    memory.copy(inst.peersPtr(), cfgBuf, <usize>(count * 16));
    inst.peerCount = count;
  } else if (kind == ADDR_AUTH) {
    memory.copy(inst.authPtr(), cfgBuf, 8);
  } else {
    return CFG_COUNT;
  }
  return CFG_OK;
}

export function instanceSetGroup(slot: i32, group: i32): i32 {
  if (!valid(slot)) return CFG_NO_SLOT;
  if (group < -1 || group >= MAX_GROUPS) return CFG_GROUP;
  instances[slot].group = group;
  return CFG_OK;
}

export function instanceStart(slot: i32, now: f64): i32 {
  if (!valid(slot)) return CFG_NO_SLOT;
  const inst = instances[slot];
  if (inst.vipCount == 0) return CFG_COUNT;
  start(slot, now);
  return CFG_OK;
}

export function instanceStop(slot: i32, now: f64): i32 {
  if (!valid(slot)) return CFG_NO_SLOT;
  stop(slot, now);
  return CFG_OK;
}

// Tracking: slot `index` of the instance's track table now has `weight` and is (not) failing.
// Weight 0 means "fault while failing"; other weights add to the priority while failing.
export function instanceTrack(slot: i32, index: i32, weight: i32, failing: bool, now: f64): i32 {
  if (!valid(slot)) return CFG_NO_SLOT;
  if (index < 0 || index >= MAX_TRACKS || weight < -254 || weight > 254) return CFG_TRACK;
  setTrack(slot, index, weight, failing, now);
  return CFG_OK;
}

// ---- events --------------------------------------------------------------------------------
// A whole IP packet in inBuf (what an IPv4 raw socket delivers). Returns the drop reason.
// The TTL / hop limit is checked by the FSM, which knows the instance (fsm.ts ttlAccepted).
export function handleIp(now: f64, ifindex: u32, len: i32): u8 {
  const r = decodeIpIn(len, false);
  if (r != DROP_NONE) return countDrop(null, r);
  return handleAdvert(now, ifindex, inBuf);
}

// A bare VRRP message in inBuf (IPv6 raw sockets); source / destination already in infoBuf.
export function handleVrrp(now: f64, ifindex: u32, family: u8, ttl: u8, len: i32): u8 {
  const r = decodeBareIn(len, family, ttl, false);
  if (r != DROP_NONE) return countDrop(null, r);
  return handleAdvert(now, ifindex, inBuf);
}

export function handleTimeout(now: f64): i32 { return fsmTimeout(now); }
// handleTimeout and then pollTimeout, in one call (a master's wake-up made both): the next
// deadline, or -1 when the action queue filled first (drain, and call again with the same now).
export function handleTimeoutNext(now: f64): f64 { return fsmTimeout(now) == 1 ? -1 : fsmPollTimeout(); }
export function pollTimeout(): f64 { return fsmPollTimeout(); }

// ---- getters -------------------------------------------------------------------------------
export function dropTotal(reason: i32): f64 { return reason >= 0 && reason < DROP_COUNT ? dropTotals[reason] : 0; }
export function instanceState(slot: i32): i32 { return valid(slot) ? <i32>instances[slot].state : -1; }
export function instanceEffectivePriority(slot: i32): i32 { return valid(slot) ? <i32>instances[slot].effectivePriority() : -1; }
export function instanceCounter(slot: i32, which: i32): f64 {
  return valid(slot) && which >= 0 && which < CTR_COUNT ? instances[slot].counters[which] : 0;
}
export function instanceDrops(slot: i32, reason: i32): f64 {
  return valid(slot) && reason >= 0 && reason < DROP_COUNT ? <f64>instances[slot].drops[reason] : 0;
}
export function instanceMasterDownInterval(slot: i32): f64 { return valid(slot) ? instances[slot].masterDownIntervalUs() : 0; }
export function instanceSkewTime(slot: i32): f64 { return valid(slot) ? instances[slot].skewTimeUs() : 0; }
export function instanceMasterAdverInterval(slot: i32): i32 { return valid(slot) ? <i32>instances[slot].masterAdverIntervalCs : 0; }
export function instanceMasterPriority(slot: i32): i32 { return valid(slot) ? <i32>instances[slot].masterPriority : 0; }
// Copies the current master's address into cfgBuf[0, 16).
export function instanceMasterAddress(slot: i32): i32 {
  if (!valid(slot)) return 0;
  memory.copy(cfgBuf, instances[slot].masterAddrPtr(), 16);
  return instances[slot].addrLen();
}
export function instanceLastReason(slot: i32): i32 { return valid(slot) ? <i32>instances[slot].lastReason : 0; }
export function instanceLastTransition(slot: i32): f64 { return valid(slot) ? instances[slot].lastTransitionUs : 0; }
export function instanceNextDeadline(slot: i32): f64 {
  if (!valid(slot)) return NEVER;
  const i = instances[slot];
  return i.adverTimer < i.masterDownTimer ? i.adverTimer : i.masterDownTimer;
}

// ---- availability --------------------------------------------------------------------------
export function availability(mttf: f64, mttr: f64): f64 { return A.availability(mttf, mttr); }
export function ninesOf(a: f64): f64 { return A.ninesOf(a); }
export function availabilityOfNines(n: f64): f64 { return A.availabilityOfNines(n); }
export function downtimeAllowed(a: f64, periodSeconds: f64): f64 { return A.downtimeAllowed(a, periodSeconds); }
export function secondsPerYear(): f64 { return A.SECONDS_PER_YEAR; }
export function secondsPerMonth(): f64 { return A.SECONDS_PER_MONTH; }
export function secondsPerWeek(): f64 { return A.SECONDS_PER_WEEK; }

// Observed from the instance's history up to `now`: up = Backup or Master, down = Fault.
// MTTF = up time / failures (Infinity before the first failure); MTTR = time in Fault periods
// that ended / repairs (NaN before the first repair); availability = up / (up + down).
export function instanceUpTime(slot: i32, now: f64): f64 {
  if (!valid(slot)) return 0;
  if (instances[slot].started) accountNow(instances[slot], now);
  return instances[slot].upUs;
}
export function instanceDownTime(slot: i32, now: f64): f64 {
  if (!valid(slot)) return 0;
  if (instances[slot].started) accountNow(instances[slot], now);
  return instances[slot].downUs;
}
export function instanceFailures(slot: i32): u32 { return valid(slot) ? instances[slot].failures : 0; }
export function instanceRepairs(slot: i32): u32 { return valid(slot) ? instances[slot].repairs : 0; }
export function instanceMttf(slot: i32, now: f64): f64 {
  const up = instanceUpTime(slot, now);
  const f = instanceFailures(slot);
  return f == 0 ? Infinity : up / <f64>f;
}
export function instanceMttr(slot: i32): f64 {
  if (!valid(slot)) return NaN;
  const r = instances[slot].repairs;
  return r == 0 ? NaN : instances[slot].repairedDownUs / <f64>r;
}
export function instanceAvailability(slot: i32, now: f64): f64 {
  const up = instanceUpTime(slot, now), down = instanceDownTime(slot, now);
  return up + down == 0 ? NaN : up / (up + down);
}

// ---- load balancer scheduler tables (lb-*.ts; memory contract in lb-layout.ts) ---------------
import { lbKeys, lbWeights, lbOut, lbHeap } from "./lb-layout";
import { wrrTable } from "./lb-wrr";
import { bucketTable, bucketUpdate } from "./lb-buckets";
import { maglevTable } from "./lb-maglev";
export { LB_MAX_SERVERS, LB_WRR_CAP, LB_MAX_BUCKETS, LB_MAX_MAGLEV, LB_OUT_CAP, LB_E_SERVERS,
  LB_E_SIZE } from "./lb-layout";
export function bufLbKeys(): usize { return lbKeys; }
export function bufLbWeights(): usize { return lbWeights; }
export function bufLbOut(): usize { return lbOut; }
export function lbWrr(n: i32): i32 { return wrrTable(n); }
export function lbBuckets(n: i32, buckets: i32): i32 { return bucketTable(n, buckets); }
// lbOut: the previous table (indices of the servers now, 0xffff = rescan); bufLbDirty(): u16 list.
export function bufLbDirty(): usize { return lbHeap; }
export function lbBucketsUpdate(n: i32, buckets: i32, dirty: i32): i32 { return bucketUpdate(n, buckets, dirty); }
export function lbMaglev(n: i32, size: i32): i32 { return maglevTable(n, size); }
