// nftables driven as knftables drives it: nft's documented text language into `nft -f -`, one
// transaction per call (nft applies a file whole or not at all), and reads with `nft -j`.
// Raw netlink bytecode would save the ~2 ms spawn, but its format is not documented.
import { spawn } from 'node:child_process';
import { VigilError } from '../errors.ts';

// nft refused a transaction (nothing of it applied) or could not run. `detail` is nft's own
// words, each error with the line of the transaction it points at.
export class NftError extends VigilError {
  readonly detail: string;
  constructor(message: string, detail: string) { super('VIGIL_ENFT', message); this.detail = detail; }
}

export interface NftResult { stdout: string; ms: number }

export function nft(args: string[], input?: string): Promise<NftResult> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const p = spawn('nft', args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [], err: Buffer[] = [];
    p.stdout!.on('data', (b: Buffer) => out.push(b));
    p.stderr!.on('data', (b: Buffer) => err.push(b));
    p.on('error', (e: NodeJS.ErrnoException) => reject(new NftError(
      e.code === 'ENOENT' ? 'nft is not installed (apt-get install nftables): the load balancer needs it' : `nft could not start: ${e.message}`, '')));
    p.on('close', (code) => {
      const stderr = Buffer.concat(err).toString();
      if (code !== 0) {
        reject(new NftError(`nft ${args.join(' ')} failed (exit ${code}): ${firstError(stderr)}`, withLines(stderr, input)));
        return;
      }
      resolve({ stdout: Buffer.concat(out).toString(), ms: performance.now() - t0 });
    });
    if (input !== undefined) { p.stdin!.on('error', () => { /* nft exited early; its stderr says why */ }); p.stdin!.end(input); }
  });
}

/** Applies one transaction. */
export function applyTransaction(text: string): Promise<NftResult> {
  return nft(['-f', '-'], text);
}

function firstError(stderr: string): string {
  return stderr.split('\n').find((l) => l.includes('Error:'))?.replace(/^.*Error:\s*/, '') ?? (stderr.trim().split('\n')[0] ?? 'no message');
}

// nft names "/dev/stdin:LINE:COL"; the line itself makes the message readable in a log.
function withLines(stderr: string, input: string | undefined): string {
  if (!input) return stderr.trim();
  const lines = input.split('\n');
  return stderr.trim().replace(/\/dev\/stdin:(\d+):/g, (m, n: string) => `${m} [${(lines[Number(n) - 1] ?? '').trim().slice(0, 200)}] `);
}

/** The table as nft prints it, or null when there is none. */
export async function listTable(family: string, name: string): Promise<string | null> {
  try { return (await nft(['list', 'table', family, name])).stdout; } catch { return null; }
}

/** Named counters of a table: name -> { packets, bytes }. */
export async function readCounters(family: string, name: string): Promise<Map<string, { packets: number; bytes: number }>> {
  const out = new Map<string, { packets: number; bytes: number }>();
  let json: { nftables?: Array<{ counter?: { name: string; packets: number; bytes: number } }> };
  try { json = JSON.parse((await nft(['-j', 'list', 'counters', 'table', family, name])).stdout); } catch { return out; }
  for (const o of json.nftables ?? []) if (o.counter) out.set(o.counter.name, { packets: o.counter.packets, bytes: o.counter.bytes });
  return out;
}

/** The persistence sets (aff-*) of a table as the kernel has them: each client and when it expires. */
export async function readPersistence(family: string, name: string): Promise<Map<string, { val: string; expires: number }[]>> {
  const out = new Map<string, { val: string; expires: number }[]>();
  type Elem = string | { elem?: { val?: unknown; expires?: number } };
  let json: { nftables?: Array<{ set?: { name: string; elem?: Elem[] } }> };
  try { json = JSON.parse((await nft(['-j', 'list', 'sets', 'table', family, name])).stdout); } catch { return out; }
  for (const o of json.nftables ?? []) {
    if (!o.set?.name.startsWith('aff-')) continue;
    const elems: { val: string; expires: number }[] = [];
    for (const e of o.set.elem ?? []) {
      if (typeof e === 'object' && typeof e.elem?.val === 'string' && typeof e.elem.expires === 'number') elems.push({ val: e.elem.val, expires: e.elem.expires });
    }
    if (elems.length) out.set(o.set.name, elems);
  }
  return out;
}
