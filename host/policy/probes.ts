// The probes a policy may ask for (policies/wit/policy.wit, interface probes), run by the
// checker on the policy's behalf. The policy picks the port, path and payload; the host picks
// where: always the address of the check's own target, with the round's deadline. A policy
// therefore reaches nothing its config did not name. Every probe resolves (never rejects):
// failures are data for the policy to judge.
import { connect } from 'node:net';
import { createSocket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { CheckSpec } from '../config/types.ts';

export interface HttpResponse { status: number; latencyUs: number; body: string; error: string }
export interface TcpResponse { connected: boolean; latencyUs: number; banner: string; error: string }
export interface DnsResponse { rcode: number; latencyUs: number; addresses: string[]; error: string }
export type IcmpResponse = { ok: true; latencyUs: number } | { ok: false; error: string };

export const BODY_MAX = 64 * 1024;
export const BANNER_MAX = 4096;

const since = (t0: number) => Math.min(0xffffffff, Math.round((performance.now() - t0) * 1000));
const why = (err: unknown): string => {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  return e?.cause?.code ?? e?.code ?? e?.cause?.message ?? e?.message ?? String(err);
};
const hostPart = (host: string) => (host.includes(':') ? `[${host}]` : host);

// undici only when a policy makes an HTTP probe: the checker may have no HTTP at all.
type Undici = typeof import('undici');
let undici: Promise<Undici> | undefined;
const agents = new Map<string, InstanceType<Undici['Agent']>>();

export async function http(c: CheckSpec, method: string, port: number, path: string, tls: boolean, signal: AbortSignal): Promise<HttpResponse> {
  const t0 = performance.now();
  if (!/^[A-Z]{1,16}$/.test(method)) return { status: 0, latencyUs: 0, body: '', error: `bad method ${JSON.stringify(method.slice(0, 20))}` };
  if (!path.startsWith('/') || /[\s\x00-\x1f]/.test(path) || path.length > 2048) return { status: 0, latencyUs: 0, body: '', error: 'bad path: it must start with "/" and have no spaces or control characters' };
  const p = port || c.port || (tls ? 443 : 80);
  try {
    const u = await (undici ??= import('undici'));
    const key = `${c.name}\0${tls}`;
    let agent = agents.get(key);
    if (!agent) {
      agent = new u.Agent({
        connections: 2,
        connect: tls ? { ...(c.hostHeader ? { servername: c.hostHeader.replace(/:\d+$/, '') } : {}), ...(c.ca ? { ca: readFileSync(c.ca, 'utf8') } : {}) } : {},
      });
      agents.set(key, agent);
    }
    const res = await u.request(`${tls ? 'https' : 'http'}://${hostPart(c.host)}:${p}${path}`, {
      method: method as 'GET', dispatcher: agent, signal,
      headers: c.hostHeader ? { host: c.hostHeader } : {},
    });
    let body = '';
    if (method === 'HEAD') await res.body.dump();
    else {
      const chunks: Buffer[] = [];
      let n = 0;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        chunks.push(chunk);
        n += chunk.length;
        if (n >= BODY_MAX) { res.body.destroy(); break; }
      }
      body = Buffer.concat(chunks).subarray(0, BODY_MAX).toString('utf8');
    }
    return { status: res.statusCode, latencyUs: since(t0), body, error: '' };
  } catch (err) {
    return { status: 0, latencyUs: since(t0), body: '', error: signal.aborted ? 'timed out' : why(err) };
  }
}

export function tcp(c: CheckSpec, port: number, send: string, signal: AbortSignal): Promise<TcpResponse> {
  const t0 = performance.now();
  const p = port || c.port;
  if (!p) return Promise.resolve({ connected: false, latencyUs: 0, banner: '', error: 'no port: the target has none, so the policy must name one' });
  return new Promise((resolve) => {
    const sock = connect({ host: c.host, port: p, noDelay: true });
    let banner = '';
    let connected = false;
    const done = (error: string) => {
      signal.removeEventListener('abort', onAbort);
      // A reset, not a FIN: a probe every few ms would otherwise leave thousands of sockets in
      // TIME_WAIT (what host/checks/tcp.ts found).
      if (connected && !sock.destroyed) sock.resetAndDestroy(); else sock.destroy();
      resolve({ connected, latencyUs: since(t0), banner: banner.slice(0, BANNER_MAX), error });
    };
    const onAbort = () => done(connected ? (banner ? '' : 'timed out waiting for a banner') : 'connect timed out');
    if (signal.aborted) { onAbort(); return; }
    signal.addEventListener('abort', onAbort, { once: true });
    sock.setEncoding('latin1');
    sock.on('error', (err) => done(why(err)));
    sock.on('connect', () => { connected = true; if (send) sock.write(send, 'latin1'); });
    // The first chunk is the banner (a line, for SMTP, FTP, SSH): enough to judge, and a
    // server that keeps talking does not hold the round.
    sock.on('data', (d: string) => { banner += d; if (banner.includes('\n') || banner.length >= BANNER_MAX) done(''); });
    sock.on('end', () => done(banner ? '' : 'closed without a banner'));
  });
}

export async function dns(c: CheckSpec, name: string, qtype: string, signal: AbortSignal): Promise<DnsResponse> {
  const t0 = performance.now();
  const bare = name.replace(/\.$/, '');
  if (qtype !== 'A' && qtype !== 'AAAA') return { rcode: -1, latencyUs: 0, addresses: [], error: `qtype ${JSON.stringify(qtype.slice(0, 10))}: A or AAAA` };
  if (!/^[A-Za-z0-9_-]{1,63}(\.[A-Za-z0-9_-]{1,63})*$/.test(bare) || bare.length > 253) return { rcode: -1, latencyUs: 0, addresses: [], error: `not a domain name: ${JSON.stringify(name.slice(0, 80))}` };
  const { buildQuery, parseResponse } = await import('../checks/dns.ts');
  const id = randomInt(0, 0x10000);
  const port = c.port || 53;
  return new Promise((resolve) => {
    const sock = createSocket(c.host.includes(':') ? 'udp6' : 'udp4');
    const done = (r: Omit<DnsResponse, 'latencyUs'>) => {
      signal.removeEventListener('abort', onAbort);
      sock.close();
      resolve({ ...r, latencyUs: since(t0) });
    };
    const onAbort = () => done({ rcode: -1, addresses: [], error: 'no answer' });
    if (signal.aborted) { onAbort(); return; }
    signal.addEventListener('abort', onAbort, { once: true });
    sock.on('error', (err) => done({ rcode: -1, addresses: [], error: why(err) }));
    sock.on('message', (msg, rinfo) => {
      if (rinfo.port !== port) return;
      try {
        const a = parseResponse(msg, qtype);
        if (a.id === id) done({ rcode: a.rcode, addresses: a.addresses, error: '' });
      } catch (err) { done({ rcode: -1, addresses: [], error: `bad response: ${(err as Error).message}` }); }
    });
    sock.send(buildQuery(id, bare, qtype), port, c.host, (err) => { if (err) done({ rcode: -1, addresses: [], error: why(err) }); });
  });
}

export async function icmp(c: CheckSpec, signal: AbortSignal): Promise<IcmpResponse> {
  const t0 = performance.now();
  if (c.host.includes(':')) return { ok: false, error: 'ICMP probes are IPv4 only for now' };
  try {
    const { icmpProbe } = await import('../checks/icmp.ts');
    await icmpProbe(c, signal);
    return { ok: true, latencyUs: since(t0) };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

export async function closeProbes(): Promise<void> {
  await Promise.all([...agents.values()].map((a) => a.close().catch(() => {})));
  agents.clear();
}
