// DNS check: one query over UDP (node:dgram), built and parsed here (RFC 1035 §4), so the
// answer is checked as it comes from this server, with no resolver cache or search list.
// Passes when the answer has rcode NOERROR and at least one record of the asked type (A or
// AAAA), and, with expect.address, one of those addresses.
import { createSocket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import type { CheckSpec } from '../config/types.ts';
import { formatAddress, parseAddress } from '../core/addr.ts';
import { CHECK_CODES as E, CheckError } from './errors.ts';

const TYPE = { A: 1, AAAA: 28 } as const;
const RCODE = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

export function buildQuery(id: number, name: string, qtype: 'A' | 'AAAA'): Buffer {
  const labels = name.split('.').filter(Boolean);
  const q = Buffer.alloc(12 + labels.reduce((n, l) => n + 1 + l.length, 1) + 4);
  q.writeUInt16BE(id, 0);
  q.writeUInt16BE(0x0100, 2);         // RD
  q.writeUInt16BE(1, 4);              // QDCOUNT
  let o = 12;
  for (const l of labels) { q[o++] = l.length; o += q.write(l, o, 'ascii'); }
  q[o++] = 0;
  q.writeUInt16BE(TYPE[qtype], o); q.writeUInt16BE(1, o + 2);
  return q;
}

// Skips a (possibly compressed) name; the offset after it.
function skipName(b: Buffer, o: number): number {
  for (let n = 0; n < 128; n++) {
    if (o >= b.length) throw new CheckError(E.DNS_FORMAT, 'truncated name');
    const len = b[o];
    if (len === 0) return o + 1;
    if ((len & 0xc0) === 0xc0) return o + 2;
    o += 1 + len;
  }
  throw new CheckError(E.DNS_FORMAT, 'name too long');
}

export interface DnsAnswer { id: number; rcode: number; addresses: string[] }

export function parseResponse(b: Buffer, qtype: 'A' | 'AAAA'): DnsAnswer {
  if (b.length < 12) throw new CheckError(E.DNS_FORMAT, 'short response');
  const id = b.readUInt16BE(0);
  const flags = b.readUInt16BE(2);
  if (!(flags & 0x8000)) throw new CheckError(E.DNS_FORMAT, 'not a response');
  if (flags & 0x0200) throw new CheckError(E.DNS_FORMAT, 'truncated response (TC)');
  const qd = b.readUInt16BE(4), an = b.readUInt16BE(6);
  let o = 12;
  for (let i = 0; i < qd; i++) o = skipName(b, o) + 4;
  const addresses: string[] = [];
  for (let i = 0; i < an; i++) {
    o = skipName(b, o);
    if (o + 10 > b.length) throw new CheckError(E.DNS_FORMAT, 'truncated answer');
    const type = b.readUInt16BE(o), len = b.readUInt16BE(o + 8);
    o += 10;
    if (o + len > b.length) throw new CheckError(E.DNS_FORMAT, 'truncated record');
    if (type === TYPE[qtype] && len === (qtype === 'A' ? 4 : 16)) {
      addresses.push(formatAddress(new Uint8Array(b.subarray(o, o + len)), qtype === 'A' ? 4 : 6));
    }
    o += len;
  }
  return { id, rcode: flags & 0xf, addresses };
}

export function dnsProbe(c: CheckSpec, signal: AbortSignal): Promise<void> {
  const id = randomInt(0, 0x10000);
  const query = buildQuery(id, c.query!, c.qtype);
  const want = c.expect.address.map((a) => formatAddress(parseAddress(a), c.qtype === 'A' ? 4 : 6));
  return new Promise((resolve, reject) => {
    const sock = createSocket(c.host.includes(':') ? 'udp6' : 'udp4');
    const done = (err?: Error) => {
      signal.removeEventListener('abort', onAbort);
      sock.close();
      if (err) reject(err); else resolve();
    };
    const onAbort = () => done(new CheckError(E.TIMEOUT, `no answer from ${c.target}`));
    signal.addEventListener('abort', onAbort, { once: true });
    sock.on('error', (err: NodeJS.ErrnoException) => done(new CheckError(E.CONNECT, `${err.code ?? err.message}`)));
    sock.on('message', (msg, rinfo) => {
      if (rinfo.port !== c.port) return;
      let a: DnsAnswer;
      try { a = parseResponse(msg, c.qtype); } catch (err) { done(new CheckError(E.DNS_FORMAT, `bad response: ${(err as Error).message}`)); return; }
      if (a.id !== id) return;   // not ours: wait on
      if (a.rcode !== 0) { done(new CheckError(E.DNS_RCODE, `${RCODE[a.rcode] ?? `rcode ${a.rcode}`} for ${c.query} ${c.qtype}`)); return; }
      if (a.addresses.length === 0) { done(new CheckError(E.DNS_ANSWER, `no ${c.qtype} record for ${c.query}`)); return; }
      if (want.length && !a.addresses.some((x) => want.includes(x))) {
        done(new CheckError(E.DNS_ANSWER, `${c.query} ${c.qtype} is ${a.addresses.join(', ')}, expected ${want.join(' or ')}`));
        return;
      }
      done();
    });
    sock.send(query, c.port, c.host, (err) => { if (err) done(new CheckError(E.SEND, `send: ${(err as NodeJS.ErrnoException).code ?? err.message}`)); });
  });
}
