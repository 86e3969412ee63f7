// Hashing for the bucket (sh / dh) and Maglev tables. Every step is 32-bit integer arithmetic or
// one correctly rounded f64 operation, so a TypeScript copy (Math.imul, plain doubles) computes
// the same bits: the tests hold the core to one (test/helpers/lb-reference.ts).

// MurmurHash3's x86_32 block step and finaliser.
@inline export function mixWord(h: u32, k: u32): u32 {
  k *= 0xcc9e2d51; k = rotl<u32>(k, 15); k *= 0x1b873593;
  h ^= k; h = rotl<u32>(h, 13);
  return h * 5 + 0xe6546b64;
}

@inline export function fmix(h: u32): u32 {
  h ^= h >> 16; h *= 0x85ebca6b; h ^= h >> 13; h *= 0xc2b2ae35; h ^= h >> 16;
  return h;
}

// Seeds: fixed forever, since changing one reshuffles every table (and every client's server).
export const SEED_HI: u32 = 0x5eed0001;     // bucket score, high 32 bits
export const SEED_LO: u32 = 0x5eed0002;     // bucket score, low 21 bits
export const SEED_OFFSET: u32 = 0x5eed0003; // Maglev offset
export const SEED_SKIP: u32 = 0x5eed0004;   // Maglev skip

export function keyHash(key: u32, seed: u32): u32 { return fmix(mixWord(seed, key) ^ 4); }

const TWO_M53: f64 = 1.0 / 9007199254740992.0;   // 2^-53
const SQRT_HALF: f64 = 0.7071067811865476;
const LN2: f64 = 0.6931471805599453;

// ln(u) for u = (h + 0.5) * 2^-53 with h an integer in [0, 2^53): a uniform draw in (0, 1).
// Not Math.log: its last bit may differ between engines, and the reference must match exactly.
// u = m * 2^-e with m in [sqrt(1/2), sqrt(2)); ln m = 2 atanh(s), s = (m-1)/(m+1), |s| < 0.172:
// nine odd terms leave an error under 1e-15.
export function lnUnit(h: f64): f64 {
  let m = (h + 0.5) * TWO_M53;
  let e: f64 = 0.0;
  while (m < SQRT_HALF) { m = m * 2.0; e = e + 1.0; }
  const s = (m - 1.0) / (m + 1.0);
  const z = s * s;
  const p = 2.0 + z * (2.0 / 3.0 + z * (2.0 / 5.0 + z * (2.0 / 7.0 + z * (2.0 / 9.0 + z * (2.0 / 11.0 +
    z * (2.0 / 13.0 + z * (2.0 / 15.0 + z * (2.0 / 17.0))))))));
  return s * p - e * LN2;
}
