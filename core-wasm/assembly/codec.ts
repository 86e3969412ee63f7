// VRRP v2 (RFC 3768 §5) and v3 (RFC 5798 §5) wire format. The decoder checks form only —
// the checks of RFC 5798 §7.1 / RFC 3768 §7.1 that need no configuration; "is this VRID ours,
// does the password match" is the FSM's business (as in FRR's vrrp_packet.c).
import { rd8, rd16, wr8, wr16, copy, zero, addrLen } from "./bytes";
import { sumBytes, fold, pseudoHeaderSum } from "./checksum";
import {
  infoBuf, INFO_VERSION, INFO_TYPE, INFO_VRID, INFO_PRIORITY, INFO_COUNT, INFO_AUTH_TYPE,
  INFO_FAMILY, INFO_TTL, INFO_ADVER_INT, INFO_CHECKSUM, INFO_CHECKSUM_OK, INFO_DROP,
  INFO_IP_PROTO, INFO_VRRP_OFF, INFO_VRRP_LEN, INFO_ADDR_OFF, INFO_AUTH_OFF, INFO_SRC, INFO_DST,
} from "./layout";
import {
  DROP_NONE, DROP_TRUNCATED, DROP_IP_VERSION, DROP_IP_HEADER, DROP_IP_PROTO, DROP_TTL,
  DROP_VERSION, DROP_TYPE, DROP_FAMILY, DROP_LENGTH, DROP_NO_ADDRESSES, DROP_CHECKSUM,
  DROP_AUTH_AH, DROP_AUTH_UNKNOWN,
} from "./codes";

export const IPPROTO_VRRP: u32 = 112;
export const VRRP_TYPE_ADVERTISEMENT: u32 = 1;
export const V2_AUTH_LEN: i32 = 8;
const HEADER_LEN: i32 = 8;

@inline function info8(field: i32, v: u32): void { wr8(infoBuf + <usize>field, v); }
@inline function info16(field: i32, v: u32): void { store<u16>(infoBuf + <usize>field, <u16>v); }

// Clears the decoded fields but keeps what describes the carrier: family, TTL, addresses.
function clearFields(): void {
  const family = load<u8>(infoBuf + INFO_FAMILY), ttl = load<u8>(infoBuf + INFO_TTL);
  const proto = load<u8>(infoBuf + INFO_IP_PROTO);
  zero(infoBuf, INFO_SRC);
  info8(INFO_FAMILY, family); info8(INFO_TTL, ttl); info8(INFO_IP_PROTO, proto);
}

// An IPv4 or IPv6 packet in buf[0, len): fills family, TTL, source and destination, then
// decodes the VRRP message it carries. Returns the drop reason (0 = valid). With checkTtl
// false the TTL / hop limit is only recorded: the FSM checks it once it knows the instance
// (a unicast one may accept less than 255 from a configured peer: fsm.ts ttlAccepted).
export function decodeIpPacket(buf: usize, len: i32, checkTtl: bool = true): u8 {
  zero(infoBuf, INFO_DST + 16);
  if (len < 1) return drop(DROP_TRUNCATED);
  const ver = rd8(buf) >> 4;
  if (ver == 4) {
    if (len < 20) return drop(DROP_TRUNCATED);
    const ihl = <i32>(rd8(buf) & 0xf) * 4;
    const total = <i32>rd16(buf + 2);
    if (ihl < 20 || total < ihl || total > len) return drop(DROP_IP_HEADER);
    const headerOk = fold(sumBytes(buf, ihl, 0)) == 0;
    info8(INFO_FAMILY, 4);
    info8(INFO_TTL, rd8(buf + 8));
    info8(INFO_IP_PROTO, rd8(buf + 9));
    copy(infoBuf + INFO_SRC, buf + 12, 4);
    copy(infoBuf + INFO_DST, buf + 16, 4);
    // Fragments cannot be reassembled here and VRRP never fragments.
    if ((rd16(buf + 6) & 0x3fff) != 0) return drop(DROP_IP_HEADER);
    if (rd8(buf + 9) != IPPROTO_VRRP) return drop(headerOk ? DROP_IP_PROTO : DROP_IP_HEADER);
    // A bad header checksum still drops the packet, but the fields are decoded for the report.
    const r = decodeVrrp(buf + <usize>ihl, total - ihl, ihl, checkTtl);
    return headerOk ? r : drop(DROP_IP_HEADER);
  }
  if (ver == 6) {
    if (len < 40) return drop(DROP_TRUNCATED);
    const payload = <i32>rd16(buf + 4);
    if (40 + payload > len) return drop(DROP_IP_HEADER);
    info8(INFO_FAMILY, 6);
    info8(INFO_TTL, rd8(buf + 7));
    info8(INFO_IP_PROTO, rd8(buf + 6));
    copy(infoBuf + INFO_SRC, buf + 8, 16);
    copy(infoBuf + INFO_DST, buf + 24, 16);
    // VRRP is sent without extension headers; anything else is refused, not walked.
    if (rd8(buf + 6) != IPPROTO_VRRP) return drop(DROP_IP_PROTO);
    return decodeVrrp(buf + 40, payload, 40, checkTtl);
  }
  return drop(DROP_IP_VERSION);
}

// A bare VRRP message (what an IPv6 raw socket delivers). The host has already put family,
// TTL / hop limit, source and destination into infoBuf. `base` is where msg sits in the input
// buffer, so offsets in info are relative to the buffer's start.
export function decodeVrrp(msg: usize, len: i32, base: i32, checkTtl: bool = true): u8 {
  clearFields();
  info16(INFO_VRRP_OFF, base);
  info16(INFO_VRRP_LEN, len);
  const family = load<u8>(infoBuf + INFO_FAMILY);
  if (len < HEADER_LEN) return drop(DROP_TRUNCATED);
  const version = rd8(msg) >> 4;
  const count = <i32>rd8(msg + 3);
  info8(INFO_VERSION, version);
  info8(INFO_TYPE, rd8(msg) & 0xf);
  info8(INFO_VRID, rd8(msg + 1));
  info8(INFO_PRIORITY, rd8(msg + 2));
  info8(INFO_COUNT, count);
  info16(INFO_CHECKSUM, rd16(msg + 6));
  info16(INFO_ADDR_OFF, base + HEADER_LEN);
  if (version == 2) {
    info8(INFO_AUTH_TYPE, rd8(msg + 4));
    info16(INFO_ADVER_INT, rd8(msg + 5));
  } else if (version == 3) {
    info16(INFO_ADVER_INT, rd16(msg + 4) & 0x0fff);
  }
  // Checksum first, so `decode` reports its validity whatever else is wrong.
  const alen = addrLen(family);
  if (version == 3) {
    const acc = pseudoHeaderSum(family, infoBuf + INFO_SRC, infoBuf + INFO_DST, len, IPPROTO_VRRP);
    info8(INFO_CHECKSUM_OK, fold(sumBytes(msg, len, acc)) == 0 ? 1 : 0);
  } else {
    info8(INFO_CHECKSUM_OK, fold(sumBytes(msg, len, 0)) == 0 ? 1 : 0);
  }
  // RFC 5798 §7.1 order: TTL, version, checksum, length; then the FSM checks VRID and interval.
  if (checkTtl && load<u8>(infoBuf + INFO_TTL) != 255) return drop(DROP_TTL);
  if (version != 2 && version != 3) return drop(DROP_VERSION);
  if ((rd8(msg) & 0xf) != VRRP_TYPE_ADVERTISEMENT) return drop(DROP_TYPE);
  if (version == 2 && family == 6) return drop(DROP_FAMILY);
  if (count == 0) return drop(DROP_NO_ADDRESSES);
  const need = HEADER_LEN + count * alen + (version == 2 ? V2_AUTH_LEN : 0);
  if (len < need) return drop(DROP_LENGTH);
  if (load<u8>(infoBuf + INFO_CHECKSUM_OK) == 0) return drop(DROP_CHECKSUM);
  if (version == 2) {
    info16(INFO_AUTH_OFF, base + HEADER_LEN + count * alen);
    const auth = rd8(msg + 4);
    if (auth == 2) return drop(DROP_AUTH_AH);
    if (auth > 2) return drop(DROP_AUTH_UNKNOWN);
  }
  return drop(DROP_NONE);
}

@inline function drop(reason: u8): u8 {
  info8(INFO_DROP, reason);
  return reason;
}

// Encodes an advertisement at out; returns its length. addrs holds count addresses of the
// family's length; auth (v2) 8 bytes or 0; src/dst feed the v3 pseudo-header.
export function encodeVrrp(
  out: usize, version: u32, family: u8, vrid: u32, priority: u32, count: i32, addrs: usize,
  adverInt: u32, authType: u32, auth: usize, src: usize, dst: usize,
): i32 {
  const alen = addrLen(family);
  wr8(out, (version << 4) | VRRP_TYPE_ADVERTISEMENT);
  wr8(out + 1, vrid);
  wr8(out + 2, priority);
  wr8(out + 3, <u32>count);
  if (version == 2) {
    wr8(out + 4, authType);
    wr8(out + 5, adverInt);
  } else {
    wr16(out + 4, adverInt & 0x0fff); // the 4 reserved bits stay zero
  }
  wr16(out + 6, 0);
  copy(out + HEADER_LEN, addrs, count * alen);
  let len = HEADER_LEN + count * alen;
  if (version == 2) {
    // RFC 3768 §5.3.10: auth data is zero for type 0; the password, zero padded, for type 1.
    if (authType == 1 && auth != 0) copy(out + <usize>len, auth, V2_AUTH_LEN);
    else zero(out + <usize>len, V2_AUTH_LEN);
    len += V2_AUTH_LEN;
    wr16(out + 6, fold(sumBytes(out, len, 0)));
  } else {
    const acc = pseudoHeaderSum(family, src, dst, len, IPPROTO_VRRP);
    wr16(out + 6, fold(sumBytes(out, len, acc)));
  }
  return len;
}

// Prepends what the kernel would put before a VRRP payload, for captures, tests and the CLI.
// Returns the header length; the payload must already sit at out + header length.
export function writeIpHeader(out: usize, family: u8, ttl: u32, src: usize, dst: usize, payloadLen: i32): i32 {
  if (family == 6) {
    wr8(out, 0x60); wr8(out + 1, 0); wr16(out + 2, 0);
    wr16(out + 4, <u32>payloadLen);
    wr8(out + 6, IPPROTO_VRRP);
    wr8(out + 7, ttl);
    copy(out + 8, src, 16);
    copy(out + 24, dst, 16);
    return 40;
  }
  wr8(out, 0x45); wr8(out + 1, 0xc0); // DSCP CS6, as routing protocols and keepalived use
  wr16(out + 2, <u32>(20 + payloadLen));
  wr16(out + 4, 0); wr16(out + 6, 0);
  wr8(out + 8, ttl);
  wr8(out + 9, IPPROTO_VRRP);
  wr16(out + 10, 0);
  copy(out + 12, src, 4);
  copy(out + 16, dst, 4);
  wr16(out + 10, fold(sumBytes(out, 20, 0)));
  return 20;
}
