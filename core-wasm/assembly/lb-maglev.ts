// mh: a Maglev lookup table (Eisenbud et al., NSDI 2016) of M entries, M prime, for nft's
// `jhash ... mod M map @maglev`. Each server walks its own permutation of the entries (offset
// and skip from its key) and takes the first free one on its turn; turns follow the weights
// (lb-order.ts), so each server gets M w_i / sum(w) entries to within 1/2 + n w_i / (2 sum(w)).
// Removing a server frees its entries; the others' permutations and turn order do not change,
// but taking the freed entries shifts some of their later choices: near-minimal, not minimal
// (about 1/sqrt(M) of the table on average, test/lb/tables.test.ts).
import { lbKeys, lbWeights, lbAux, lbOut, LB_MAX_SERVERS, LB_MAX_MAGLEV, LB_E_SERVERS,
  LB_E_SIZE } from "./lb-layout";
import { keyHash, SEED_OFFSET, SEED_SKIP } from "./lb-hash";
import { orderStart, orderNext } from "./lb-order";

const EMPTY: u16 = 0xffff;

export function isPrime(m: i32): bool {
  if (m < 2) return false;
  for (let d = 2; d * d <= m; d++) if (m % d == 0) return false;
  return true;
}

// Servers [0, n): keys in lbKeys, weights in lbWeights. Writes `size` entries to lbOut and
// returns `size` (0: no server has a weight), or LB_E_SERVERS / LB_E_SIZE.
export function maglevTable(n: i32, size: i32): i32 {
  if (n < 0 || n > LB_MAX_SERVERS) return LB_E_SERVERS;
  if (size > LB_MAX_MAGLEV || !isPrime(size)) return LB_E_SIZE;
  if (orderStart(n, lbWeights, true) == 0) return 0;
  const m = <u32>size;
  for (let s = 0; s < n; s++) {
    store<u32>(lbAux + (<usize>s << 2), keyHash(load<u32>(lbKeys + (<usize>s << 2)), SEED_OFFSET) % m);
  }
  for (let i = 0; i < size; i++) store<u16>(lbOut + (<usize>i << 1), EMPTY);
  for (let filled = 0; filled < size; filled++) {
    const s = orderNext();
    const skip = keyHash(load<u32>(lbKeys + (<usize>s << 2)), SEED_SKIP) % (m - 1) + 1;
    let c = load<u32>(lbAux + (<usize>s << 2));
    while (load<u16>(lbOut + (<usize>c << 1)) != EMPTY) { c += skip; if (c >= m) c -= m; }
    store<u16>(lbOut + (<usize>c << 1), <u16>s);
    c += skip; if (c >= m) c -= m;
    store<u32>(lbAux + (<usize>s << 2), c);
  }
  return size;
}
