// HTTP / HTTPS check with undici (this module runs in the checker process only: the VRRP
// engine never loads undici, see docs/ARCHITECTURE.md "Processes"). TLS certificates are verified
// (undici's default) against Node's bundled CAs, or the check's `ca` file; `host` sets the Host
// header and the TLS server name.
//
// Cost per round matters (bench/checks.ts: 10,000 checks/s in half a core), so each check has
// its own undici Client (one keep-alive connection to its backend, no Agent/Pool lookup per
// request) and a round is one Client.dispatch() with a small handler: no Readable body stream,
// no promise chain inside undici, the body kept only when the check has a body expectation
// (and hashed as it comes only when it has a digest one).
import { readFileSync } from 'node:fs';
import { Client, type Dispatcher } from 'undici';
import type { BodyDigest, CheckSpec } from '../config/types.ts';
import { bodyHash, digestMismatch } from './digest.ts';
import { CHECK_CODES as E, CheckError, codeOf, type CheckCode } from './errors.ts';
import type { Hash } from 'node:crypto';

const BODY_MAX = 1 << 20;
// Shared: a timeout is the common failure when the process is late, and an Error per round
// (with its stack trace) would make it later.
const TIMED_OUT = new CheckError(E.TIMEOUT, 'timed out');
// How long a request that timed out may keep running for a late answer (see Round.timeout).
const LINGER_MS = 1000;
const UNANSWERED = 'timed out (an earlier round\'s request is still unanswered)';

interface Target {
  client: Client;
  pending: Round | null;      // the last round's request, until undici ends it (it may outlive the round)
  opts: Dispatcher.DispatchOptions;
  body: RegExp | null;
  digest: BodyDigest | null;
  statuses: ReadonlySet<number>;
}
const targets = new Map<string, Target>();

function targetFor(c: CheckSpec): Target {
  let t = targets.get(c.name);
  if (!t) {
    const u = new URL(c.url!);
    t = {
      client: new Client(u.origin, {
        // The round's deadline is the runner's. undici's own header and body timers would be
        // two more timers per request (it replaces them as it switches to keep-alive).
        headersTimeout: 0,
        bodyTimeout: 0,
        connect: {
          ...(c.hostHeader ? { servername: c.hostHeader.replace(/:\d+$/, '') } : {}),
          // Read once; an unreadable file fails the check (every round, with the reason).
          ...(c.ca ? { ca: readCa(c.ca) } : {}),
        },
      }),
      opts: { path: u.pathname + u.search, method: c.method as Dispatcher.HttpMethod, headers: c.hostHeader ? ['host', c.hostHeader] : null },
      body: c.expect.body === null ? null : new RegExp(c.expect.body),
      digest: c.expect.digest ?? null,
      statuses: new Set(c.expect.status),
      pending: null,
    };
    targets.set(c.name, t);
  }
  return t;
}

function readCa(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CheckError(E.CA, `cannot read ca ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

// One round's request. undici calls these; `done` settles the round once.
class Round implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | null = null;
  private chunks: Buffer[] | null = null;
  private hash: Hash | null = null;
  private size = 0;
  private status = 0;
  private finished = false;
  readonly sentAt = performance.now();
  private readonly c: CheckSpec;
  private readonly t: Target;
  private readonly done: (error: string | null, code?: CheckCode) => void;
  constructor(c: CheckSpec, t: Target, done: (error: string | null, code?: CheckCode) => void) { this.c = c; this.t = t; this.done = done; }

  onRequestStart(controller: Dispatcher.DispatchController): void { this.controller = controller; }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number): void {
    this.status = statusCode;
    if (!this.t.statuses.has(statusCode)) return;   // judged at the end: the rest is read, so the connection stays usable
    if (this.t.body) this.chunks = [];
    if (this.t.digest) this.hash = bodyHash(this.t.digest);
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.hash?.update(chunk);
    if (this.chunks === null || this.size >= BODY_MAX) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  onResponseEnd(): void {
    this.ended();
    if (!this.t.statuses.has(this.status)) return this.finish(`status ${this.status}, expected ${this.c.expect.status.join(' or ')}`, E.STATUS);
    if (this.chunks !== null) {
      const text = Buffer.concat(this.chunks, Math.min(this.size, BODY_MAX)).toString('utf8', 0, BODY_MAX);
      if (!this.t.body!.test(text)) return this.finish(`body does not match /${this.c.expect.body}/`, E.BODY);
    }
    if (this.hash !== null) return this.finish(digestMismatch(this.t.digest!, this.hash), E.DIGEST);
    this.finish(null);
  }

  onResponseError(_c: Dispatcher.DispatchController | null, err: Error): void {
    this.ended();
    this.finish(this.status ? `${describe(err)} reading the body` : describe(err), E.CONNECT);
  }

  // The round's deadline fails the round but leaves its request running, for up to LINGER_MS
  // (or until the next round when the interval is longer): the rounds meanwhile fail without
  // sending anything. A late answer then keeps the connection, where aborting at the deadline
  // costs a new connection (and an abort, and errors) every round a loaded process is late,
  // which makes it later: 100 checks at 10 ms never came back from one 30 ms stall that way.
  // A dead backend still fails every round: its connection is reset or refused, or nothing
  // answers and the request is dropped after LINGER_MS and the next round connects afresh.
  timeout(): void {
    this.finish(this.status ? 'timed out reading the body' : 'timed out', E.TIMEOUT);
  }

  // The backend is slower than LINGER_MS (or the interval): the connection goes. A request
  // still waiting for its connection cannot be taken out of the Client's queue, so then the
  // whole Client goes, connection attempt included.
  drop(): void {
    this.ended();
    if (this.controller) this.controller.abort(TIMED_OUT);
    else {
      if (targets.get(this.c.name) === this.t) targets.delete(this.c.name);
      this.t.client.destroy(TIMED_OUT).catch(() => {});
    }
  }

  private ended(): void {
    if (this.t.pending === this) this.t.pending = null;
  }

  // `code` says why when `error` is not null.
  private finish(error: string | null, code?: CheckCode): void {
    if (this.finished) return;
    this.finished = true;
    this.done(error, error === null ? undefined : code);
  }
}

// The runner's form (runner.ts, FastProbe): no AbortSignal and no promise per round. `done`
// gets null or the reason and its code, once; at once when the round fails before sending anything.
export function startHttp(c: CheckSpec, done: (error: string | null, code?: CheckCode) => void): { timeout(): void } | null {
  let t: Target;
  try {
    t = targetFor(c);
    if (t.pending) {
      if (performance.now() - t.pending.sentAt < LINGER_MS && c.intervalUs < LINGER_MS * 1000) { done(UNANSWERED, E.TIMEOUT); return null; }
      t.pending.drop();
      t = targetFor(c);
    }
  } catch (err) {
    // targetFor throws when the ca file cannot be read: a failed round, with the reason.
    done((err as Error).message, codeOf(err) as CheckCode);
    return null;
  }
  const r = new Round(c, t, done);
  t.pending = r;
  t.client.dispatch(t.opts, r);
  return r;
}

// The same as a Probe (what policies and tests call).
export function httpProbe(c: CheckSpec, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => r?.timeout();
    const r = startHttp(c, (error, code) => {
      signal.removeEventListener('abort', onAbort);
      if (error === null) resolve(); else reject(new CheckError(code ?? E.FAILED, error));
    });
    if (r) signal.addEventListener('abort', onAbort, { once: true });
  });
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.code ?? e.cause?.message ?? e.message ?? String(err);
}

// Requests still running (a hung backend) would hold close() up: destroy.
export async function closeHttp(): Promise<void> {
  await Promise.all([...targets.values()].map((t) => (t.pending ? t.client.destroy() : t.client.close()).catch(() => {})));
  targets.clear();
}
