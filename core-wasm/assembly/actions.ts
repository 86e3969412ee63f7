// The action queue: what the host must do, in order, after an event. Records live in
// actionBuf and adverts in outBuf; the host reads them in place and then clears the queue.
import {
  actionBuf, outBuf, countBuf, ACTION_SIZE, ACTION_CAP, OUT_SIZE, ACT_KIND, ACT_REASON, ACT_FROM, ACT_TO,
  ACT_INSTANCE, ACT_FAMILY, ACT_PRIORITY, ACT_OFF, ACT_LEN, ACT_DST,
} from "./layout";
import { copy, zero } from "./bytes";

let count: i32 = 0;
let outUsed: i32 = 0;
let overflowed: u32 = 0;

export function actionCount(): i32 { return count; }
export function actionsClear(): void { count = 0; outUsed = 0; store<u32>(countBuf, 0); }
export function actionOverflows(): u32 { return overflowed; }

// Room for one more event's worth of actions (a transition, VIPs, an advert per peer, an
// announce). The FSM checks this before stepping an instance, so a record is never lost:
// the host is told to drain and call again instead.
export function roomFor(records: i32, bytes: i32): bool {
  return count + records <= ACTION_CAP && outUsed + bytes <= OUT_SIZE;
}

function push(kind: u8, slot: i32): usize {
  if (count >= ACTION_CAP) { overflowed++; return 0; }
  const rec = actionBuf + <usize>(count * ACTION_SIZE);
  zero(rec, ACTION_SIZE);
  store<u8>(rec + ACT_KIND, kind);
  store<u16>(rec + ACT_INSTANCE, <u16>slot);
  count++;
  store<u32>(countBuf, <u32>count);
  return rec;
}

export function pushSimple(kind: u8, slot: i32): void { push(kind, slot); }

export function pushTransition(slot: i32, from: u8, to: u8, reason: u8): void {
  const rec = push(1, slot);
  if (rec == 0) return;
  store<u8>(rec + ACT_FROM, from);
  store<u8>(rec + ACT_TO, to);
  store<u8>(rec + ACT_REASON, reason);
}

// Reserves len bytes of outBuf for an advert; 0 when full.
export function reserveOut(len: i32): usize {
  if (outUsed + len > OUT_SIZE) { overflowed++; return 0; }
  const p = outBuf + <usize>outUsed;
  return p;
}

export function pushSend(slot: i32, family: u8, priority: u32, ptr: usize, len: i32, dst: usize): void {
  const rec = push(2, slot);
  if (rec == 0) return;
  store<u8>(rec + ACT_FAMILY, family);
  store<u8>(rec + ACT_PRIORITY, <u8>priority);
  store<u32>(rec + ACT_OFF, <u32>(ptr - outBuf));
  store<u32>(rec + ACT_LEN, <u32>len);
  copy(rec + ACT_DST, dst, family == 6 ? 16 : 4);
  outUsed += (len + 7) & ~7;
}
