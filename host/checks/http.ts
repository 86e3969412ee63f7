// HTTP / HTTPS check with undici (this module runs in the checker process only: the VRRP
// engine never loads undici, see design.md "Timing isolation"). TLS certificates are verified
// (undici's default) against Node's bundled CAs, or the check's `ca` file; `host` sets the Host
// header and the TLS server name.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import type { CheckSpec } from '../config/types.ts';

const BODY_MAX = 1 << 20;
const agents = new Map<string, Agent>();

// One agent per check: keep-alive connections to its backend, its own TLS server name.
function agentFor(c: CheckSpec): Agent {
  let a = agents.get(c.name);
  if (!a) {
    a = new Agent({
      connections: 4,
      connect: {
        ...(c.hostHeader ? { servername: c.hostHeader.replace(/:\d+$/, '') } : {}),
        // Read once; an unreadable file fails the check (every round, with the reason).
        ...(c.ca ? { ca: readCa(c.ca) } : {}),
      },
    });
    agents.set(c.name, a);
  }
  return a;
}

function readCa(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ca ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export async function httpProbe(c: CheckSpec, signal: AbortSignal): Promise<void> {
  let res;
  try {
    // agentFor throws when the ca file cannot be read: a failed round, with the reason.
    res = await request(c.url!, {
      method: c.method as 'GET',
      headers: c.hostHeader ? { host: c.hostHeader } : {},
      dispatcher: agentFor(c),
      signal,
    });
  } catch (err) {
    throw new Error(signal.aborted ? 'timed out' : describe(err));
  }
  if (!c.expect.status.includes(res.statusCode)) {
    await res.body.dump().catch(() => {});
    throw new Error(`status ${res.statusCode}, expected ${c.expect.status.join(' or ')}`);
  }
  if (c.expect.body === null) { await res.body.dump().catch(() => {}); return; }
  let text: string;
  try { text = (await res.body.text()).slice(0, BODY_MAX); } catch (err) { throw new Error(signal.aborted ? 'timed out reading the body' : describe(err)); }
  if (!new RegExp(c.expect.body).test(text)) throw new Error(`body does not match /${c.expect.body}/`);
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.code ?? e.cause?.message ?? e.message ?? String(err);
}

export async function closeHttp(): Promise<void> {
  await Promise.all([...agents.values()].map((a) => a.close().catch(() => {})));
  agents.clear();
}
