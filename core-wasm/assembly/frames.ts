// The frames a new master puts on the wire so neighbours update their caches: gratuitous ARP
// (RFC 5227 §3: an ARP request with sender = target = the VIP) and an unsolicited Neighbor
// Advertisement (RFC 4861 §7.2.6) carrying the target link-layer address option.
// Both are whole Ethernet frames for an AF_PACKET socket.
import { wr8, wr16, copy, zero } from "./bytes";
import { sumBytes, fold, pseudoHeaderSum } from "./checksum";

const ETH_P_ARP: u32 = 0x0806;
const ETH_P_IPV6: u32 = 0x86dd;
const IPPROTO_ICMPV6: u32 = 58;
const ND_NEIGHBOR_ADVERT: u32 = 136;
const NA_FLAG_ROUTER: u32 = 0x80;
const NA_FLAG_OVERRIDE: u32 = 0x20;

export function buildGarp(out: usize, mac: usize, ip: usize): i32 {
  memory.fill(out, 0xff, 6);
  copy(out + 6, mac, 6);
  wr16(out + 12, ETH_P_ARP);
  const a = out + 14;
  wr16(a, 1);            // hardware type: Ethernet
  wr16(a + 2, 0x0800);   // protocol type: IPv4
  wr8(a + 4, 6); wr8(a + 5, 4);
  wr16(a + 6, 1);        // request, which every stack accepts as an update
  copy(a + 8, mac, 6);
  copy(a + 14, ip, 4);
  zero(a + 18, 6);
  copy(a + 24, ip, 4);
  return 42;
}

// src is the sender's link-local address, target the VIP. Sent to all-nodes ff02::1 with the
// Override flag so caches replace the old master's address; Router when we route for it.
export function buildNa(out: usize, mac: usize, src: usize, target: usize, router: bool): i32 {
  // Ethernet: all-nodes multicast maps to 33:33:00:00:00:01.
  wr16(out, 0x3333); wr16(out + 2, 0); wr16(out + 4, 1);
  copy(out + 6, mac, 6);
  wr16(out + 12, ETH_P_IPV6);
  const ip = out + 14;
  const icmpLen: i32 = 32;  // 24-byte NA + 8-byte target link-layer address option
  wr8(ip, 0x60); wr8(ip + 1, 0); wr16(ip + 2, 0);
  wr16(ip + 4, <u32>icmpLen);
  wr8(ip + 6, IPPROTO_ICMPV6);
  wr8(ip + 7, 255);      // RFC 4861 §7.1.2: receivers drop NAs with a hop limit below 255
  copy(ip + 8, src, 16);
  zero(ip + 24, 16);
  wr8(ip + 24, 0xff); wr8(ip + 25, 0x02); wr8(ip + 39, 0x01);
  const icmp = ip + 40;
  wr8(icmp, ND_NEIGHBOR_ADVERT); wr8(icmp + 1, 0); wr16(icmp + 2, 0);
  wr8(icmp + 4, NA_FLAG_OVERRIDE | (router ? NA_FLAG_ROUTER : 0));
  wr8(icmp + 5, 0); wr16(icmp + 6, 0);
  copy(icmp + 8, target, 16);
  wr8(icmp + 24, 2); wr8(icmp + 25, 1);  // option: target link-layer address, 8 bytes
  copy(icmp + 26, mac, 6);
  const acc = pseudoHeaderSum(6, ip + 8, ip + 24, icmpLen, IPPROTO_ICMPV6);
  wr16(icmp + 2, fold(sumBytes(icmp, icmpLen, acc)));
  return 14 + 40 + icmpLen;
}
