// The host's probes, log and clock, lowered and lifted by hand. Import names are the ones
// wit-component expects for the world's interfaces: module "vigil:policy/<iface>@0.1.0",
// field = the WIT function name. Records come back through a return area (more than one
// flat value); the host writes their strings into our arena through cabi_realloc.
import { liftString, lowerString, retArea } from "./abi";

// @ts-ignore: decorator
@external("vigil:policy/probes@0.1.0", "http")
declare function _http(mp: usize, ml: usize, port: i32, pp: usize, pl: usize, tls: i32, ret: usize): void;
// @ts-ignore: decorator
@external("vigil:policy/probes@0.1.0", "tcp")
declare function _tcp(port: i32, sp: usize, sl: usize, ret: usize): void;
// @ts-ignore: decorator
@external("vigil:policy/probes@0.1.0", "dns")
declare function _dns(np: usize, nl: usize, qp: usize, ql: usize, ret: usize): void;
// @ts-ignore: decorator
@external("vigil:policy/probes@0.1.0", "icmp")
declare function _icmp(ret: usize): void;
// @ts-ignore: decorator
@external("vigil:policy/log@0.1.0", "log")
declare function _log(level: i32, mp: usize, ml: usize): void;
// @ts-ignore: decorator
@external("vigil:policy/clock@0.1.0", "now-us")
declare function _nowUs(): u64;

// Every probe record is {4-byte field, u32 latency, 2 × (ptr, len)}: 24 bytes, align 4.
const REC_SIZE = 24;

function str(ret: usize, off: usize): string {
  return liftString(load<u32>(ret + off), load<u32>(ret + off + 4));
}

export class HttpResponse {
  /** 0 when there was no response (`error` says why). */
  status: u16 = 0;
  latencyUs: u32 = 0;
  /** The first 64 KiB of the body. */
  body: string = "";
  /** Empty on success. */
  error: string = "";
}

/** `port` 0 means the target's own (80, or 443 with tls); `path` starts with "/". */
export function http(method: string, port: u16, path: string, tls: bool): HttpResponse {
  const m = lowerString(method), p = lowerString(path), ret = retArea(REC_SIZE);
  _http(changetype<usize>(m), m.byteLength, port, changetype<usize>(p), p.byteLength, tls ? 1 : 0, ret);
  const r = new HttpResponse();
  r.status = load<u16>(ret);
  r.latencyUs = load<u32>(ret, 4);
  r.body = str(ret, 8);
  r.error = str(ret, 16);
  return r;
}

export class TcpResponse {
  connected: bool = false;
  latencyUs: u32 = 0;
  /** What the server sent first (after `send`), up to 4 KiB. */
  banner: string = "";
  error: string = "";
}

/** Connects to the target on `port`, writes `send` unless empty, reads a banner. */
export function tcp(port: u16, send: string): TcpResponse {
  const s = lowerString(send), ret = retArea(REC_SIZE);
  _tcp(port, changetype<usize>(s), s.byteLength, ret);
  const r = new TcpResponse();
  r.connected = load<u8>(ret) != 0;
  r.latencyUs = load<u32>(ret, 4);
  r.banner = str(ret, 8);
  r.error = str(ret, 16);
  return r;
}

export class DnsResponse {
  /** The DNS RCODE (0 = NOERROR); -1 when no answer came. */
  rcode: i32 = -1;
  latencyUs: u32 = 0;
  /** A / AAAA answers in text form. */
  addresses: string[] = [];
  error: string = "";
}

/** Asks the target (a DNS server) for `name`; `qtype` is "A" or "AAAA". */
export function dns(name: string, qtype: string): DnsResponse {
  const n = lowerString(name), q = lowerString(qtype), ret = retArea(REC_SIZE);
  _dns(changetype<usize>(n), n.byteLength, changetype<usize>(q), q.byteLength, ret);
  const r = new DnsResponse();
  r.rcode = load<i32>(ret);
  r.latencyUs = load<u32>(ret, 4);
  // list<string>: (ptr, count) of 8-byte (ptr, len) elements.
  const list = <usize>load<u32>(ret, 8), count = load<u32>(ret, 12);
  for (let i: u32 = 0; i < count; i++) r.addresses.push(str(list + <usize>i * 8, 0));
  r.error = str(ret, 16);
  return r;
}

export class IcmpResult {
  ok: bool = false;
  /** The round trip when ok. */
  rttUs: u32 = 0;
  /** Why it failed when not ok. */
  error: string = "";
}

/** An ICMP echo to the target. */
export function icmp(): IcmpResult {
  // result<u32, string>: u8 discriminant at 0, payload at 4 (u32, or ptr + len).
  const ret = retArea(12);
  _icmp(ret);
  const r = new IcmpResult();
  r.ok = load<u8>(ret) == 0;
  if (r.ok) r.rttUs = load<u32>(ret, 4);
  else r.error = str(ret, 4);
  return r;
}

/** The WIT enum `level`, in its order. */
export enum Level { Debug = 0, Info = 1, Warn = 2, Error = 3 }

/** A line in the checker's log (rate-limited by the host). */
export function log(level: Level, message: string): void {
  const m = lowerString(message);
  _log(level, changetype<usize>(m), m.byteLength);
}

/** Monotonic microseconds since an arbitrary origin: the only time a policy sees. */
export function nowUs(): u64 {
  return _nowUs();
}
