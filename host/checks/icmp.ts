// ICMP echo check over the native shim's raw socket (one AF_INET / SOCK_RAW / IPPROTO_ICMP
// socket for every icmp check of the process, readiness through libuv). IPv4 only for now.
// Replies are matched by identifier (this process's) and sequence number (one per probe).
import { shim, K } from '../net/shim.ts';
import { sockaddrIn } from '../net/sockaddr.ts';
import type { CheckSpec } from '../config/types.ts';
import { CHECK_CODES as E, CheckError } from './errors.ts';

let fd = -1;
const ident = process.pid & 0xffff;
let seq = 0;
const pending = new Map<number, { from: string; done: (err?: Error) => void }>();
const buf = new Uint8Array(1500);
let src: Uint8Array;
const meta = new Int32Array(8);

function checksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i] << 8) | (b[i + 1] ?? 0);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

export function echoRequest(id: number, sq: number): Uint8Array {
  const p = new Uint8Array(16);
  p[0] = 8;                                  // echo request, code 0
  p[4] = id >> 8; p[5] = id & 0xff; p[6] = sq >> 8; p[7] = sq & 0xff;
  p.set(new TextEncoder().encode('vigil-ch'), 8);
  const c = checksum(p);
  p[2] = c >> 8; p[3] = c & 0xff;
  return p;
}

function open(): void {
  if (fd >= 0) return;
  const s = shim();
  src = new Uint8Array(K('SIZEOF_SOCKADDR_STORAGE'));
  fd = s.socket(K('AF_INET'), K('SOCK_RAW'), s.constants.IPPROTO_ICMP ?? 1);
  s.pollStart(fd, K('UV_READABLE'), onReadable);
}

function onReadable(): void {
  for (;;) {
    const n = shim().recvMsg(fd, buf, 0, buf.length, src, meta);
    if (n < 0) return;
    const ihl = (buf[0] & 0x0f) * 4;
    if (n < ihl + 8 || buf[ihl] !== 0) continue;          // echo replies only
    const id = (buf[ihl + 4] << 8) | buf[ihl + 5];
    const sq = (buf[ihl + 6] << 8) | buf[ihl + 7];
    if (id !== ident) continue;
    const p = pending.get(sq);
    const from = `${buf[12]}.${buf[13]}.${buf[14]}.${buf[15]}`;
    if (p && p.from === from) p.done();
  }
}

export function icmpProbe(c: CheckSpec, signal: AbortSignal): Promise<void> {
  open();
  seq = (seq + 1) & 0xffff;
  const sq = seq;
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      pending.delete(sq);
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err); else resolve();
    };
    const onAbort = () => done(new CheckError(E.TIMEOUT, `no echo reply from ${c.host}`));
    signal.addEventListener('abort', onAbort, { once: true });
    pending.set(sq, { from: c.host, done });
    try {
      if (shim().sendTo(fd, echoRequest(ident, sq), 0, 16, sockaddrIn(c.host)) < 0) done(new CheckError(E.SEND, 'send would block'));
    } catch (err) {
      done(new CheckError(E.SEND, `send: ${(err as Error).message}`, { cause: err }));
    }
  });
}

export function closeIcmp(): void {
  if (fd < 0) return;
  shim().pollStop(fd);
  shim().close(fd);
  fd = -1;
}
