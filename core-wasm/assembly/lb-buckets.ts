// sh / dh: a table of B buckets for nft's `jhash ip saddr mod B seed S map @buckets`, filled by
// weighted rendezvous hashing. Bucket b goes to the server with the least -ln(u) / w, u a hash
// of (key, b) drawn uniformly in (0, 1): server i wins a bucket with probability w_i / sum(w)
// (Resendez et al.'s logarithmic method). A bucket's owner depends only on the servers still
// there: removing one moves its buckets and no other; adding one takes only buckets it wins.
// The spread is a draw: each server's count is binomial around B w_i / sum(w).
import { lbKeys, lbWeights, lbPicks, lbAux, lbOut, LB_MAX_SERVERS, LB_MAX_BUCKETS,
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

// Servers [0, n): keys in lbKeys, weights in lbWeights. Writes `buckets` entries to lbOut and
// returns `buckets` (0: no server has a weight), or LB_E_SERVERS / LB_E_SIZE.
export function bucketTable(n: i32, buckets: i32): i32 {
  if (n < 0 || n > LB_MAX_SERVERS) return LB_E_SERVERS;
  if (buckets < 1 || buckets > LB_MAX_BUCKETS || (buckets & (buckets - 1)) != 0) return LB_E_SIZE;
  let any = false;
  for (let s = 0; s < n; s++) {
    const key = load<u32>(lbKeys + (<usize>s << 2));
    store<u32>(lbPicks + (<usize>s << 2), mixWord(SEED_HI, key));
    store<u32>(lbAux + (<usize>s << 2), mixWord(SEED_LO, key));
    if (load<u32>(lbWeights + (<usize>s << 2)) != 0) any = true;
  }
  if (!any) return 0;
  for (let b = 0; b < buckets; b++) {
    let best = -1;
    let bestScore: f64 = Infinity;
    let bestKey: u32 = 0;
    for (let s = 0; s < n; s++) {
      const w = load<u32>(lbWeights + (<usize>s << 2));
      if (w == 0) continue;
      const hi = fmix(mixWord(load<u32>(lbPicks + (<usize>s << 2)), <u32>b) ^ 8);
      if (<f64>(0xffffffff - hi) * TWO_M32 * MARGIN > bestScore * <f64>w) continue;
      const lo = fmix(mixWord(load<u32>(lbAux + (<usize>s << 2)), <u32>b) ^ 8);
      const v = -lnUnit(<f64>hi * 2097152.0 + <f64>(lo >> 11)) / <f64>w;
      const key = load<u32>(lbKeys + (<usize>s << 2));
      // Ties (never seen in practice) go to the smaller key, then the smaller index.
      if (best < 0 || v < bestScore || (v == bestScore && key < bestKey)) { best = s; bestScore = v; bestKey = key; }
    }
    store<u16>(lbOut + (<usize>b << 1), <u16>best);
  }
  return buckets;
}
