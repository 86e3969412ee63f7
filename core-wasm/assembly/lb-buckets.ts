// sh / dh: a table of B buckets for nft's `jhash ip saddr mod B seed S map @buckets`, filled by
// weighted rendezvous hashing. Bucket b goes to the server with the least -ln(u) / w, u a hash
// of (key, b) drawn uniformly in (0, 1): server i wins a bucket with probability w_i / sum(w)
// (Resendez et al.'s logarithmic method). A bucket's owner depends only on the servers still
// there: removing one moves its buckets and no other; adding one takes only buckets it wins.
// The spread is a draw: each server's count is binomial around B w_i / sum(w).
import { lbKeys, lbWeights, lbPicks, lbAux, lbHeap, lbOut, LB_MAX_SERVERS, LB_MAX_BUCKETS,
  LB_E_SERVERS, LB_E_SIZE } from "./lb-layout";
import { mixWord, fmix, lnUnit, SEED_HI, SEED_LO } from "./lb-hash";

// Scores are -ln(u) / w, u's high 32 bits and low 21 bits two hashes of (key, bucket), the
// key's half of each precomputed in lbPicks (high) and lbAux (low).
// Most servers cannot win a bucket: -ln(u) >= 1 - u >= (2^32 - 1 - high) 2^-32, so when that
// bound (less a 1e-5 margin for rounding) already exceeds the best score, the low hash and
// the logarithm are skipped. The bound never skips a winner, so the table is the same as
// without it (test/lb checks it against the reference run with no skipping).
const TWO_M32: f64 = 1.0 / 4294967296.0;
const MARGIN: f64 = 0.99999;

// The winner of bucket b among all servers [0, n) with a weight.
function scan(n: i32, b: u32): i32 {
  let best = -1;
  let bestScore: f64 = Infinity;
  let bestKey: u32 = 0;
  for (let s = 0; s < n; s++) {
    const w = load<u32>(lbWeights + (<usize>s << 2));
    if (w == 0) continue;
    const hi = fmix(mixWord(load<u32>(lbPicks + (<usize>s << 2)), b) ^ 8);
    if (<f64>(0xffffffff - hi) * TWO_M32 * MARGIN > bestScore * <f64>w) continue;
    const v = scoreOf(s, b, hi, w);
    const key = load<u32>(lbKeys + (<usize>s << 2));
    // Ties (never seen in practice) go to the smaller key: the order of the servers is no matter.
    if (best < 0 || v < bestScore || (v == bestScore && key < bestKey)) { best = s; bestScore = v; bestKey = key; }
  }
  return best;
}

@inline function scoreOf(s: i32, b: u32, hi: u32, w: u32): f64 {
  const lo = fmix(mixWord(load<u32>(lbAux + (<usize>s << 2)), b) ^ 8);
  return -lnUnit(<f64>hi * 2097152.0 + <f64>(lo >> 11)) / <f64>w;
}

// Precomputes each key's half of the two hashes; false when no server has a weight.
function prepare(n: i32): bool {
  let any = false;
  for (let s = 0; s < n; s++) {
    const key = load<u32>(lbKeys + (<usize>s << 2));
    store<u32>(lbPicks + (<usize>s << 2), mixWord(SEED_HI, key));
    store<u32>(lbAux + (<usize>s << 2), mixWord(SEED_LO, key));
    if (load<u32>(lbWeights + (<usize>s << 2)) != 0) any = true;
  }
  return any;
}

@inline function validSize(buckets: i32): bool {
  return buckets >= 1 && buckets <= LB_MAX_BUCKETS && (buckets & (buckets - 1)) == 0;
}

// Servers [0, n): keys in lbKeys, weights in lbWeights. Writes `buckets` entries to lbOut and
// returns `buckets` (0: no server has a weight), or LB_E_SERVERS / LB_E_SIZE.
export function bucketTable(n: i32, buckets: i32): i32 {
  if (n < 0 || n > LB_MAX_SERVERS) return LB_E_SERVERS;
  if (!validSize(buckets)) return LB_E_SIZE;
  if (!prepare(n)) return 0;
  for (let b = 0; b < buckets; b++) store<u16>(lbOut + (<usize>b << 1), <u16>scan(n, <u32>b));
  return buckets;
}

// The same table, from the one made before a change: lbOut holds each bucket's previous owner
// as an index of the servers now, or 0xffff when that owner is gone or its weight changed;
// lbHeap lists the `dirty` servers that are new or have a new weight. A bucket whose owner
// stayed can only go to a dirty server (every other score is as it was, and lost to the owner's),
// so it costs `dirty` scores, not n; the rest are scanned whole. The result is bucketTable's.
export function bucketUpdate(n: i32, buckets: i32, dirty: i32): i32 {
  if (n < 0 || n > LB_MAX_SERVERS || dirty < 0 || dirty > n) return LB_E_SERVERS;
  if (!validSize(buckets)) return LB_E_SIZE;
  if (!prepare(n)) return 0;
  for (let b = 0; b < buckets; b++) {
    const o = <i32>load<u16>(lbOut + (<usize>b << 1));
    if (o >= n || load<u32>(lbWeights + (<usize>o << 2)) == 0) {
      store<u16>(lbOut + (<usize>b << 1), <u16>scan(n, <u32>b));
      continue;
    }
    let best = o;
    const ow = load<u32>(lbWeights + (<usize>o << 2));
    let bestScore = scoreOf(o, <u32>b, fmix(mixWord(load<u32>(lbPicks + (<usize>o << 2)), <u32>b) ^ 8), ow);
    let bestKey = load<u32>(lbKeys + (<usize>o << 2));
    for (let d = 0; d < dirty; d++) {
      const s = <i32>load<u16>(lbHeap + (<usize>d << 1));
      if (s >= n || s == o) continue;
      const w = load<u32>(lbWeights + (<usize>s << 2));
      if (w == 0) continue;
      const hi = fmix(mixWord(load<u32>(lbPicks + (<usize>s << 2)), <u32>b) ^ 8);
      if (<f64>(0xffffffff - hi) * TWO_M32 * MARGIN > bestScore * <f64>w) continue;
      const v = scoreOf(s, <u32>b, hi, w);
      const key = load<u32>(lbKeys + (<usize>s << 2));
      if (v < bestScore || (v == bestScore && key < bestKey)) { best = s; bestScore = v; bestKey = key; }
    }
    store<u16>(lbOut + (<usize>b << 1), <u16>best);
  }
  return buckets;
}
