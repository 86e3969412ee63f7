// The scheduler tables of core-wasm/assembly/lb-*.ts written again in plain TypeScript: the
// tests' oracle (the core must give the same tables, bit for bit) and the benchmark's
// comparison (bench/lb-tables.ts). Same algorithms, same integer and f64 steps.

const WRR_CAP = 1024;

function gcd(a: number, b: number): number {
  while (b !== 0) { const t = a % b; a = b; b = t; }
  return a;
}

// Stride order (lb-order.ts): server s's k-th turn at (2k + 1) / (2 w_s), exact as integers
// (products stay under 2^53); ties to the smaller key when `keys`, then the smaller index.
class Order {
  private readonly heap: Int32Array;
  private readonly picks: Uint32Array;
  private size = 0;
  private readonly w: ArrayLike<number>;
  private readonly keys: ArrayLike<number> | undefined;
  constructor(w: ArrayLike<number>, keys?: ArrayLike<number>) {
    this.w = w; this.keys = keys;
    const n = w.length;
    this.heap = new Int32Array(n);
    this.picks = new Uint32Array(n);
    for (let s = 0; s < n; s++) if (w[s] !== 0) this.heap[this.size++] = s;
    for (let i = (this.size >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }
  get count(): number { return this.size; }
  private before(a: number, b: number): boolean {
    const ta = (2 * this.picks[a]! + 1) * this.w[b]!, tb = (2 * this.picks[b]! + 1) * this.w[a]!;
    if (ta !== tb) return ta < tb;
    if (this.keys && this.keys[a] !== this.keys[b]) return this.keys[a]! < this.keys[b]!;
    return a < b;
  }
  private siftDown(i: number): void {
    const h = this.heap, v = h[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= this.size) break;
      if (c + 1 < this.size && this.before(h[c + 1]!, h[c]!)) c++;
      if (!this.before(h[c]!, v)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = v;
  }
  next(): number {
    const s = this.heap[0]!;
    this.picks[s]!++;
    this.siftDown(0);
    return s;
  }
}

export function refWrr(weights: ArrayLike<number>): Uint16Array {
  const n = weights.length;
  let g = 0;
  for (let s = 0; s < n; s++) g = gcd(weights[s]!, g);
  if (g === 0) return new Uint16Array(0);
  const slots = new Float64Array(n);
  let total = 0;
  for (let s = 0; s < n; s++) { slots[s] = weights[s]! / g; total += slots[s]!; }
  if (total > WRR_CAP) {
    const cands: number[] = [];
    let sum = 0;
    for (let s = 0; s < n; s++) {
      const v = slots[s]!;
      if (v === 0) continue;
      // floor(v * cap / total), exact: doubles while the quotient's operands stay under 2^53.
      const q = total * WRR_CAP < 2 ** 53 ? Math.floor(v * WRR_CAP / total) : Number(BigInt(v * WRR_CAP) / BigInt(total));
      if (q === 0) { slots[s] = 1; sum++; continue; }
      slots[s] = q; sum += q; cands.push(s);
    }
    // Largest remainder, then lower index: the slots left over.
    const rem = (s: number) => (weights[s]! / g * WRR_CAP) % total;
    cands.sort((a, b) => rem(b) - rem(a) || a - b);
    for (let j = 0; sum < WRR_CAP && j < cands.length; j++, sum++) slots[cands[j]!] += 1;
    let h = 0;
    for (let s = 0; s < n; s++) h = gcd(slots[s]!, h);
    total = 0;
    for (let s = 0; s < n; s++) { slots[s] = slots[s]! / h; total += slots[s]!; }
  }
  const order = new Order(slots);
  const out = new Uint16Array(total);
  for (let i = 0; i < total; i++) out[i] = order.next();
  return out;
}

// ---- hashing (lb-hash.ts) -------------------------------------------------------------------
export function mixWord(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51); k = (k << 15) | (k >>> 17); k = Math.imul(k, 0x1b873593);
  h ^= k; h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}
export function fmix(h: number): number {
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b); h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35); h ^= h >>> 16;
  return h >>> 0;
}
const SEED_HI = 0x5eed0001, SEED_LO = 0x5eed0002, SEED_OFFSET = 0x5eed0003, SEED_SKIP = 0x5eed0004;
const keyHash = (key: number, seed: number) => fmix(mixWord(seed, key) ^ 4);

export function lnUnit(h: number): number {
  let m = (h + 0.5) * (1 / 9007199254740992);
  let e = 0;
  while (m < 0.7071067811865476) { m = m * 2; e = e + 1; }
  const s = (m - 1) / (m + 1);
  const z = s * s;
  const p = 2 + z * (2 / 3 + z * (2 / 5 + z * (2 / 7 + z * (2 / 9 + z * (2 / 11 +
    z * (2 / 13 + z * (2 / 15 + z * (2 / 17))))))));
  return s * p - e * 0.6931471805599453;
}

// `skip`: the core's shortcut (a server whose score's lower bound already loses is not scored);
// without it every score is computed, which the tests use to show the shortcut changes nothing.
export function refBuckets(keys: ArrayLike<number>, weights: ArrayLike<number>, buckets: number, skip = true): Uint16Array {
  const n = keys.length;
  const hi = new Int32Array(n), lo = new Int32Array(n);
  let any = false;
  for (let s = 0; s < n; s++) {
    hi[s] = mixWord(SEED_HI, keys[s]!); lo[s] = mixWord(SEED_LO, keys[s]!);
    if (weights[s] !== 0) any = true;
  }
  if (!any) return new Uint16Array(0);
  const out = new Uint16Array(buckets);
  for (let b = 0; b < buckets; b++) {
    let best = -1, bestScore = Infinity, bestKey = 0;
    for (let s = 0; s < n; s++) {
      const w = weights[s]!;
      if (w === 0) continue;
      const h1 = fmix(mixWord(hi[s]!, b) ^ 8);
      if (skip && (0xffffffff - h1) * (1 / 4294967296) * 0.99999 > bestScore * w) continue;
      const h2 = fmix(mixWord(lo[s]!, b) ^ 8);
      const v = -lnUnit(h1 * 2097152 + (h2 >>> 11)) / w;
      const key = keys[s]!;
      if (best < 0 || v < bestScore || (v === bestScore && key < bestKey)) { best = s; bestScore = v; bestKey = key; }
    }
    out[b] = best;
  }
  return out;
}

export function refMaglev(keys: ArrayLike<number>, weights: ArrayLike<number>, size: number): Uint16Array {
  const n = keys.length;
  const order = new Order(weights, keys);
  if (order.count === 0) return new Uint16Array(0);
  const pos = new Uint32Array(n), skip = new Uint32Array(n);
  for (let s = 0; s < n; s++) {
    pos[s] = keyHash(keys[s]!, SEED_OFFSET) % size;
    skip[s] = keyHash(keys[s]!, SEED_SKIP) % (size - 1) + 1;
  }
  const out = new Uint16Array(size).fill(0xffff);
  for (let filled = 0; filled < size; filled++) {
    const s = order.next(), k = skip[s]!;
    let c = pos[s]!;
    while (out[c] !== 0xffff) { c += k; if (c >= size) c -= size; }
    out[c] = s;
    c += k; if (c >= size) c -= size;
    pos[s] = c;
  }
  return out;
}
