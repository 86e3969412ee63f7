// Loads a policy component in this process through jco, with fake probes. This in-process fake
// is fine for unit tests of the SDK and the built-in policies' verdicts; the runtime's own tests
// (host/policy) load the same files in its sandbox worker against real backends.
import { readFileSync } from 'node:fs';
import { transpile } from '@bytecodealliance/jco';

export interface HttpResponse { status: number; latencyUs: number; body: string; error: string }
export interface TcpResponse { connected: boolean; latencyUs: number; banner: string; error: string }
export interface DnsResponse { rcode: number; latencyUs: number; addresses: string[]; error: string }
export type IcmpResult = { tag: 'ok'; val: number } | { tag: 'err'; val: string };

/** What the fakes answer and what they saw: each test sets the answers it needs. */
export interface Fakes {
  http?: (method: string, port: number, path: string, tls: boolean) => HttpResponse;
  tcp?: (port: number, send: string) => TcpResponse;
  dns?: (name: string, qtype: string) => DnsResponse;
  icmp?: () => number; // throw a string for an error result
  calls: string[];
  logs: [string, string][];
  now: bigint;
}

export function fakes(f: Partial<Fakes> = {}): Fakes {
  return { calls: [], logs: [], now: 1_000_000n, ...f };
}

export interface Policy {
  /** null when the check passed, else its reason. Traps and other errors are thrown. */
  evaluate(target: string, args: [string, string][]): string | null;
  /** The size of the policy's linear memory, in bytes. */
  memoryBytes(): number;
}

export const policyPath = (name: string) => new URL(`../../policies/build/${name}.wasm`, import.meta.url);

export async function load(name: string | Uint8Array, f: Fakes): Promise<Policy> {
  const component = typeof name === 'string' ? readFileSync(policyPath(name)) : name;
  const { files } = await transpile(component, {
    name: 'policy', instantiation: 'async', noTypescript: true,
  });
  {
    // From memory, as the runtime does (host/policy/eval-worker.ts): no temporary files, and no
    // loader hook (tap's, in a clean checkout) guessing a .js file's module type.
    const mod = await import(`data:text/javascript;base64,${Buffer.from(files['policy.js']).toString('base64')}`);
    let memory: WebAssembly.Memory | undefined;
    const getCoreModule = (file: string) => WebAssembly.compile(files[file] as Uint8Array<ArrayBuffer>);
    // Keep a hand on the memory to measure it: the core instance exporting it is ours.
    const instantiateCore = async (m: WebAssembly.Module, imports: WebAssembly.Imports) => {
      const inst = await WebAssembly.instantiate(m, imports);
      const mem = inst.exports.memory;
      if (mem instanceof WebAssembly.Memory) memory = mem;
      return inst;
    };
    const no = (what: string) => () => { throw new Error(`unexpected ${what} probe`); };
    const inst = await mod.instantiate(getCoreModule, {
      'vigil:policy/probes': {
        http: (m: string, port: number, path: string, tls: boolean) => {
          f.calls.push(`http ${m} ${port} ${path} ${tls}`);
          return (f.http ?? no('http'))(m, port, path, tls);
        },
        tcp: (port: number, send: string) => {
          f.calls.push(`tcp ${port} ${JSON.stringify(send)}`);
          return (f.tcp ?? no('tcp'))(port, send);
        },
        dns: (name: string, qtype: string) => {
          f.calls.push(`dns ${name} ${qtype}`);
          return (f.dns ?? no('dns'))(name, qtype);
        },
        icmp: () => {
          f.calls.push('icmp');
          return (f.icmp ?? no('icmp'))();
        },
      },
      'vigil:policy/log': { log: (level: string, msg: string) => { f.logs.push([level, msg]); } },
      'vigil:policy/clock': { nowUs: () => f.now },
    }, instantiateCore);
    return {
      evaluate(target, args) {
        try {
          inst.evaluate(target, args);
          return null;
        } catch (e) {
          // jco throws a ComponentError carrying the err payload; anything else is a real error.
          if (e && typeof e === 'object' && 'payload' in e && typeof e.payload === 'string') return e.payload;
          throw e;
        }
      },
      memoryBytes: () => memory?.buffer.byteLength ?? -1,
    };
  }
}
