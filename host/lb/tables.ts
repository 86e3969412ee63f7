// The load balancer's scheduler tables, computed by core.wasm (core-wasm/assembly/lb-*.ts):
// pure functions of the real servers' keys and weights. Each returns a table of server indices
// (positions in the arrays passed in) that the nftables data plane turns into a map:
//   wrr:     numgen inc mod LEN map { slot : server }        wrrSlots(weights)
//   sh / dh: jhash ip saddr mod B seed S map @buckets        hashBuckets(keys, weights, B)
//   mh:      jhash ... mod M map @maglev                     maglevTable(keys, weights, M)
// (and updateBuckets: the sh / dh table again after a change, from the one before it).
// What each guarantees, with measured figures: docs/lb-tables.md.
// A key is a server's stable identity (serverKeys / serverKey from address and port), so the
// tables do not depend on the order servers are listed in. Weight 0 gets no slot; when every
// weight is 0 (or there is no server) the table is empty.
// Its own instance of core.wasm (one per process, made on first use): the inputs are copied
// into the module's static buffers and the table is copied out, nothing else allocates.
import { coreModule } from '../core/core.ts';
import { parseAddress, isIPv4 } from '../core/addr.ts';
import { CoreLoadError, LbTableError } from '../errors.ts';

/** Servers per table: indices are u16. */
export const MAX_SERVERS = 65535;
/** A wrr table whose gcd-reduced weights sum past this is scaled to it (see wrrSlots). */
export const WRR_CAP = 1024;
export const DEFAULT_BUCKETS = 256;
/** Bucket counts: a power of two, 1..MAX_BUCKETS. */
export const MAX_BUCKETS = 4096;
/** IPVS ip_vs_mh's default table size. */
export const DEFAULT_MAGLEV_SIZE = 251;
/** Maglev sizes: a prime, 2..MAX_MAGLEV_SIZE (65537 is the Maglev paper's). */
export const MAX_MAGLEV_SIZE = 65537;

interface RawLb {
  memory: WebAssembly.Memory;
  bufLbKeys(): number; bufLbWeights(): number; bufLbOut(): number;
  lbWrr(n: number): number;
  lbBuckets(n: number, buckets: number): number;
  bufLbDirty(): number;
  lbBucketsUpdate(n: number, buckets: number, dirty: number): number;
  lbMaglev(n: number, size: number): number;
  [global: string]: unknown;
}

class LbCore {
  readonly raw: RawLb;
  readonly keys: Uint32Array;
  readonly weights: Uint32Array;
  readonly out: Uint16Array;
  readonly dirty: Uint16Array;
  constructor() {
    this.raw = new WebAssembly.Instance(coreModule(), {}).exports as unknown as RawLb;
    const want: Record<string, number> = { LB_MAX_SERVERS: MAX_SERVERS, LB_WRR_CAP: WRR_CAP,
      LB_MAX_BUCKETS: MAX_BUCKETS, LB_MAX_MAGLEV: MAX_MAGLEV_SIZE };
    for (const [name, value] of Object.entries(want)) {
      const g = this.raw[name];
      if (!(g instanceof WebAssembly.Global) || Number(g.value) !== value) {
        throw new CoreLoadError(`core.wasm's ${name} is not ${value}: rebuild it with \`make core\``);
      }
    }
    const buf = this.raw.memory.buffer;
    const outCap = Number((this.raw.LB_OUT_CAP as WebAssembly.Global).value);
    this.keys = new Uint32Array(buf, this.raw.bufLbKeys(), MAX_SERVERS);
    this.weights = new Uint32Array(buf, this.raw.bufLbWeights(), MAX_SERVERS);
    this.out = new Uint16Array(buf, this.raw.bufLbOut(), outCap);
    this.dirty = new Uint16Array(buf, this.raw.bufLbDirty(), MAX_SERVERS);
  }
}

let lb: LbCore | undefined;
const core = (): LbCore => (lb ??= new LbCore());

const isU32 = (v: number) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

function loadWeights(c: LbCore, weights: ArrayLike<number>): number {
  const n = weights.length;
  if (n > MAX_SERVERS) throw new LbTableError('VIGIL_ELB_SERVERS', `${n} servers: at most ${MAX_SERVERS} in one table`);
  for (let i = 0; i < n; i++) {
    const w = weights[i]!;
    if (!isU32(w)) throw new LbTableError('VIGIL_ELB_WEIGHT', `weight ${w} of server ${i}: an integer 0..4294967295`);
    c.weights[i] = w;
  }
  return n;
}

function loadKeys(c: LbCore, keys: ArrayLike<number>, weights: ArrayLike<number>): number {
  if (keys.length !== weights.length) {
    throw new LbTableError('VIGIL_ELB_SERVERS', `${keys.length} keys for ${weights.length} weights`);
  }
  const n = loadWeights(c, weights);
  for (let i = 0; i < n; i++) {
    const k = keys[i]!;
    if (!isU32(k)) throw new LbTableError('VIGIL_ELB_KEY', `key ${k} of server ${i}: an integer 0..4294967295`);
    c.keys[i] = k;
  }
  // Two servers with one key would make the table depend on their order: refused.
  if (n > 1) {
    const sorted = c.keys.slice(0, n).sort();
    for (let i = 1; i < n; i++) {
      if (sorted[i] === sorted[i - 1]) {
        throw new LbTableError('VIGIL_ELB_KEY', `two servers have the key ${sorted[i]}: use serverKeys() for unique keys`);
      }
    }
  }
  return n;
}

function result(c: LbCore, len: number, what: string): Uint16Array {
  if (len < 0) throw new LbTableError(len === -2 ? 'VIGIL_ELB_SIZE' : 'VIGIL_ELB_SERVERS', `core refused the ${what} table (${len})`);
  return c.out.slice(0, len);
}

/**
 * wrr: slot i of the result is the index of the server that takes the i-th new connection of
 * each round (nft `numgen inc mod result.length`). Weights are divided by their gcd and each
 * server gets that many slots (3:1 gives 4 slots, 3 and 1), spread evenly over the round. If
 * those sum past WRR_CAP (1024), the table is scaled to 1024 slots by largest remainder and a
 * server whose share is under one slot gets one: each share is then within (1 + R) / 1024 of
 * the weight's share, R the number of servers so raised (R = 0: within ~0.1 percentage point).
 */
export function wrrSlots(weights: ArrayLike<number>): Uint16Array {
  const c = core();
  return result(c, c.raw.lbWrr(loadWeights(c, weights)), 'wrr');
}

/**
 * sh / dh: bucket b of the result is the index of the server that bucket b's traffic goes to
 * (nft `jhash ... mod buckets`). Weighted rendezvous hashing: server i wins each bucket with
 * probability w_i / sum(w), so its count is binomial around buckets * w_i / sum(w); removing a
 * server moves only its own buckets, adding one takes only the buckets it wins.
 */
export function hashBuckets(keys: ArrayLike<number>, weights: ArrayLike<number>, buckets = DEFAULT_BUCKETS): Uint16Array {
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > MAX_BUCKETS || (buckets & (buckets - 1)) !== 0) {
    throw new LbTableError('VIGIL_ELB_SIZE', `${buckets} buckets: a power of two from 1 to ${MAX_BUCKETS}`);
  }
  const c = core();
  return result(c, c.raw.lbBuckets(loadKeys(c, keys, weights), buckets), 'bucket');
}

/** A bucket table with the servers it was made from, for updateBuckets. */
export interface BucketTable { keys: ArrayLike<number>; weights: ArrayLike<number>; table: Uint16Array }

/**
 * The table hashBuckets(keys, weights, buckets) would make, from the one made before a change
 * (servers added, removed, reweighted, reordered): a bucket whose owner stayed, with its weight,
 * is only checked against the new and reweighted servers, so one server going down costs its
 * own buckets' rescans, not a whole table's (at 10,000 servers and 4096 buckets, ~1 ms instead
 * of ~160: bench/lb-tables.ts).
 */
export function updateBuckets(previous: BucketTable, keys: ArrayLike<number>, weights: ArrayLike<number>,
  buckets = previous.table.length || DEFAULT_BUCKETS): Uint16Array {
  const old = previous.table;
  if (old.length === 0 || old.length !== buckets) return hashBuckets(keys, weights, buckets);
  if (previous.keys.length !== previous.weights.length) {
    throw new LbTableError('VIGIL_ELB_SERVERS', `previous table: ${previous.keys.length} keys for ${previous.weights.length} weights`);
  }
  const c = core();
  const n = loadKeys(c, keys, weights);
  const before = new Map<number, number>();
  for (let i = 0; i < previous.keys.length; i++) before.set(previous.keys[i]!, i);
  const now = new Map<number, number>();
  let dirty = 0;
  for (let i = 0; i < n; i++) {
    now.set(c.keys[i]!, i);
    const j = before.get(c.keys[i]!);
    if (c.weights[i] !== 0 && (j === undefined || previous.weights[j] !== c.weights[i])) c.dirty[dirty++] = i;
  }
  for (let b = 0; b < buckets; b++) {
    const j = old[b]!;
    const i = j < previous.keys.length ? now.get(previous.keys[j]!) : undefined;
    c.out[b] = i !== undefined && previous.weights[j] === c.weights[i] ? i : 0xffff;
  }
  return result(c, c.raw.lbBucketsUpdate(n, buckets, dirty), 'bucket');
}

/**
 * mh: a Maglev lookup table of `size` entries (a prime). Server i holds size * w_i / sum(w)
 * entries to within 1/2 + n * w_i / (2 sum(w)) (within 1 when the weights are equal). Removing
 * a server moves its entries and some others: near-minimal, not minimal. Measured over random
 * sets of 2-40 servers, the others' entries that move are ~1/sqrt(size) of the table on average
 * and at most ~4.6/sqrt(size) (29% at 251, 14% at 1021, 6.5% at 4093, 1.5% at 65537); the
 * tests assert 6/sqrt(size). A larger size moves fewer.
 */
export function maglevTable(keys: ArrayLike<number>, weights: ArrayLike<number>, size = DEFAULT_MAGLEV_SIZE): Uint16Array {
  if (!Number.isInteger(size) || size < 2 || size > MAX_MAGLEV_SIZE || !isPrime(size)) {
    throw new LbTableError('VIGIL_ELB_SIZE', `Maglev size ${size}: a prime from 2 to ${MAX_MAGLEV_SIZE} (e.g. 251, 509, 1021, 65537)`);
  }
  const c = core();
  return result(c, c.raw.lbMaglev(loadKeys(c, keys, weights), size), 'Maglev');
}

export function isPrime(m: number): boolean {
  if (m < 2) return false;
  for (let d = 2; d * d <= m; d++) if (m % d === 0) return false;
  return true;
}

// ---- keys -----------------------------------------------------------------------------------

// MurmurHash3's block step and finaliser (as core-wasm/assembly/lb-hash.ts).
function mixWord(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51); k = (k << 15) | (k >>> 17); k = Math.imul(k, 0x1b873593);
  h ^= k; h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}
function fmix(h: number): number {
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b); h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35); h ^= h >>> 16;
  return h >>> 0;
}

const KEY_SEED = 0x6b657931;   // fixed forever: a new seed would move every client
const addrBytes = new Uint8Array(16);
const addrView = new DataView(addrBytes.buffer);

/**
 * A real server's stable 32-bit identity from its address and port: MurmurHash3 of the family,
 * the 16-byte address and the port. The same server always gets the same key, so its buckets
 * and Maglev entries stay where they are across restarts and reorderings.
 */
export function serverKey(address: string, port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new LbTableError('VIGIL_ELB_ADDRESS', `port ${port}: an integer 0..65535`);
  }
  const family = isIPv4(address) ? 4 : 6;
  try {
    parseAddress(address, addrBytes);
  } catch {
    throw new LbTableError('VIGIL_ELB_ADDRESS', `not an IP address: ${JSON.stringify(address)}`);
  }
  let h = mixWord(KEY_SEED, family);
  for (let i = 0; i < 16; i += 4) h = mixWord(h, addrView.getUint32(i));
  h = mixWord(h, port);
  return fmix(h ^ 24);
}

/**
 * Keys for a list of real servers, unique: two servers whose serverKey collide (about one
 * chance in 86 among 10,000 servers) are told apart by rehashing, in the order of their
 * address and port, so the keys still do not depend on the order of the list. The same
 * server listed twice is refused.
 */
export function serverKeys(servers: readonly { address: string; port: number }[]): Uint32Array {
  const keys = new Uint32Array(servers.length);
  for (let i = 0; i < servers.length; i++) keys[i] = serverKey(servers[i]!.address, servers[i]!.port);
  const sorted = keys.slice().sort();
  let clash = false;
  for (let i = 1; i < sorted.length && !clash; i++) clash = sorted[i] === sorted[i - 1];
  if (!clash) return keys;
  const canon = servers.map((s, i) => ({ i, id: `${canonical(s.address)} ${s.port}` }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const used = new Set<number>();
  for (let j = 0; j < canon.length; j++) {
    if (j > 0 && canon[j]!.id === canon[j - 1]!.id) {
      throw new LbTableError('VIGIL_ELB_KEY', `real server ${canon[j]!.id.replace(' ', ':')} is listed twice`);
    }
    let k = keys[canon[j]!.i]!;
    while (used.has(k)) k = fmix(mixWord(k, 0x9e3779b9));
    used.add(k);
    keys[canon[j]!.i] = k;
  }
  return keys;
}

// One spelling per address (2001:DB8::1 and 2001:db8:0::1 are one server).
function canonical(address: string): string {
  parseAddress(address, addrBytes);
  return `${isIPv4(address) ? 4 : 6}:${Buffer.from(addrBytes).toString('hex')}`;
}
