// Reads and writes capture files: classic pcap (either byte order, micro- or nanosecond) and
// pcapng (what tshark writes by default). Only what vigil needs: IP packets out of Ethernet,
// Linux cooked (SLL, SLL2) or raw-IP captures. Every length is checked against the file.
import { InputError } from './errors.ts';

export interface CapturedPacket {
  index: number;          // 1-based, as tshark numbers frames
  timeUs: number;
  ip: Uint8Array | null;  // the IP packet, or null when the frame carries something else
  linkType: number;
}

const LINK_ETHERNET = 1;
const LINK_RAW = 101;
const LINK_RAW_ALT = 12;
const LINK_IPV4 = 228;
const LINK_IPV6 = 229;
const LINK_SLL = 113;
const LINK_SLL2 = 276;

// The IP packet inside one captured frame, or null.
export function ipFromFrame(linkType: number, frame: Uint8Array): Uint8Array | null {
  let off: number, etherType: number;
  switch (linkType) {
    case LINK_RAW: case LINK_RAW_ALT: case LINK_IPV4: case LINK_IPV6:
      return frame;
    case LINK_ETHERNET:
      if (frame.length < 14) return null;
      off = 12;
      etherType = (frame[off] << 8) | frame[off + 1];
      // 802.1Q / 802.1ad tags
      while ((etherType === 0x8100 || etherType === 0x88a8) && frame.length >= off + 6) {
        off += 4;
        etherType = (frame[off] << 8) | frame[off + 1];
      }
      off += 2;
      break;
    case LINK_SLL:
      if (frame.length < 16) return null;
      etherType = (frame[14] << 8) | frame[15];
      off = 16;
      break;
    case LINK_SLL2:
      if (frame.length < 20) return null;
      etherType = (frame[0] << 8) | frame[1];
      off = 20;
      break;
    default:
      return null;
  }
  if (etherType !== 0x0800 && etherType !== 0x86dd) return null;
  return frame.subarray(off);
}

export function readPcap(buf: Uint8Array, name = 'capture'): CapturedPacket[] {
  if (buf.length < 4) throw new InputError(`${name}: not a pcap or pcapng file (too short)`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = dv.getUint32(0, false);
  if (magic === 0x0a0d0d0a) return readPcapng(buf, dv, name);
  let le: boolean, nano: boolean;
  switch (magic) {
    case 0xa1b2c3d4: le = false; nano = false; break;
    case 0xd4c3b2a1: le = true; nano = false; break;
    case 0xa1b23c4d: le = false; nano = true; break;
    case 0x4d3cb2a1: le = true; nano = true; break;
    default: throw new InputError(`${name}: not a pcap or pcapng file (magic 0x${magic.toString(16)})`);
  }
  if (buf.length < 24) throw new InputError(`${name}: truncated pcap header`);
  const linkType = dv.getUint32(20, le) & 0xffff;
  const out: CapturedPacket[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const sec = dv.getUint32(off, le), frac = dv.getUint32(off + 4, le);
    const incl = dv.getUint32(off + 8, le);
    if (off + 16 + incl > buf.length) throw new InputError(`${name}: packet ${out.length + 1} is truncated`);
    const frame = buf.subarray(off + 16, off + 16 + incl);
    out.push({ index: out.length + 1, timeUs: sec * 1e6 + (nano ? frac / 1000 : frac), ip: ipFromFrame(linkType, frame), linkType });
    off += 16 + incl;
  }
  return out;
}

function readPcapng(buf: Uint8Array, dv: DataView, name: string): CapturedPacket[] {
  const out: CapturedPacket[] = [];
  let le = true;
  let ifaces: { linkType: number; tsDivisor: number }[] = [];
  let off = 0;
  while (off + 12 <= buf.length) {
    const type = dv.getUint32(off, le);
    if (type === 0x0a0d0d0a) {
      // Section header: its byte-order magic decides how to read the rest of the section.
      if (off + 12 > buf.length) break;
      le = dv.getUint32(off + 8, true) === 0x1a2b3c4d;
      ifaces = [];
    }
    const len = dv.getUint32(off + 4, le);
    if (len < 12 || off + len > buf.length) throw new InputError(`${name}: pcapng block at byte ${off} is truncated`);
    if (type === 1 && len >= 20) {
      const linkType = dv.getUint16(off + 8, le);
      let tsDivisor = 1; // microseconds per tick inverse: default resolution is 10^-6
      // Options: look for if_tsresol (code 9).
      let o = off + 16;
      while (o + 4 <= off + len - 4) {
        const code = dv.getUint16(o, le), olen = dv.getUint16(o + 2, le);
        if (code === 0) break;
        if (code === 9 && olen >= 1) {
          const v = buf[o + 4];
          tsDivisor = v & 0x80 ? Math.pow(2, v & 0x7f) / 1e6 : Math.pow(10, v) / 1e6;
        }
        o += 4 + ((olen + 3) & ~3);
      }
      ifaces.push({ linkType, tsDivisor });
    } else if (type === 6 && len >= 32) {
      const ifId = dv.getUint32(off + 8, le);
      const hi = dv.getUint32(off + 12, le), lo = dv.getUint32(off + 16, le);
      const cap = dv.getUint32(off + 20, le);
      if (28 + cap > len) throw new InputError(`${name}: packet ${out.length + 1} is truncated`);
      const iface = ifaces[ifId];
      const linkType = iface ? iface.linkType : -1;
      const frame = buf.subarray(off + 28, off + 28 + cap);
      out.push({ index: out.length + 1, timeUs: (hi * 4294967296 + lo) / (iface ? iface.tsDivisor : 1),
        ip: ipFromFrame(linkType, frame), linkType });
    } else if (type === 3 && len >= 16) {
      const cap = Math.min(dv.getUint32(off + 8, le), len - 16);
      const linkType = ifaces[0]?.linkType ?? -1;
      out.push({ index: out.length + 1, timeUs: 0, ip: ipFromFrame(linkType, buf.subarray(off + 12, off + 12 + cap)), linkType });
    }
    off += len;
  }
  return out;
}

// A classic pcap of raw IP packets (link type 101), for tshark checks and golden files.
export function writePcap(packets: Uint8Array[], linkType = LINK_RAW): Uint8Array {
  const total = 24 + packets.reduce((n, p) => n + 16 + p.length, 0);
  const buf = new Uint8Array(total);
  const dv = new DataView(buf.buffer);
  dv.setUint32(0, 0xa1b2c3d4, true);
  dv.setUint16(4, 2, true); dv.setUint16(6, 4, true);
  dv.setUint32(16, 65535, true);
  dv.setUint32(20, linkType, true);
  let off = 24;
  packets.forEach((p, i) => {
    dv.setUint32(off, 1_700_000_000 + i, true);
    dv.setUint32(off + 8, p.length, true);
    dv.setUint32(off + 12, p.length, true);
    buf.set(p, off + 16);
    off += 16 + p.length;
  });
  return buf;
}
