// wrr: a slot table interleaved by weight, for nft's `numgen inc mod LEN map { slot : server }`.
// Weights are divided by their gcd; the table has their sum as its length. Past LB_WRR_CAP the
// weights are scaled to LB_WRR_CAP slots by largest remainder, and a server whose share is under
// one slot gets one: each server's share of the table is then within (1 + R) / LB_WRR_CAP of its
// weight's share, R the count of servers raised to one slot (R = 0: under 0.1 percentage point).
import { lbWeights, lbAux, lbHeap, lbOut, LB_MAX_SERVERS, LB_WRR_CAP, LB_E_SERVERS } from "./lb-layout";
import { orderStart, orderNext } from "./lb-order";

function gcd(a: u32, b: u32): u32 {
  while (b != 0) { const t = a % b; a = b; b = t; }
  return a;
}

@inline function weight(s: i32): u32 { return load<u32>(lbWeights + (<usize>s << 2)); }
@inline function slots(s: i32): u32 { return load<u32>(lbAux + (<usize>s << 2)); }
@inline function setSlots(s: i32, v: u32): void { store<u32>(lbAux + (<usize>s << 2), v); }

// Servers [0, n) with their weights in lbWeights. Writes the table to lbOut and returns its
// length (0: no server has a weight), or LB_E_SERVERS.
export function wrrTable(n: i32): i32 {
  if (n < 0 || n > LB_MAX_SERVERS) return LB_E_SERVERS;
  let g: u32 = 0;
  for (let s = 0; s < n; s++) g = gcd(weight(s), g);
  if (g == 0) return 0;
  let total: u64 = 0;
  for (let s = 0; s < n; s++) { const v = weight(s) / g; setSlots(s, v); total += v; }
  if (total > <u64>LB_WRR_CAP) total = scale(n, g, total);
  orderStart(n, lbAux, false);
  const len = <i32>total;
  for (let i = 0; i < len; i++) store<u16>(lbOut + (<usize>i << 1), <u16>orderNext());
  return len;
}

// lbAux holds the weights divided by g, summing to `total` > LB_WRR_CAP; rewrites them as slot
// counts and returns their sum.
function scale(n: i32, g: u32, total: u64): u64 {
  const cap = <u64>LB_WRR_CAP;
  let sum: u64 = 0;
  let candidates = 0;   // servers not raised, listed in lbHeap for the remainders
  for (let s = 0; s < n; s++) {
    const v = <u64>slots(s);
    if (v == 0) continue;
    const q = v * cap / total;
    if (q == 0) { setSlots(s, 1); sum += 1; continue; }
    setSlots(s, <u32>q);
    sum += q;
    store<u16>(lbHeap + (<usize>candidates << 1), <u16>s);
    candidates++;
  }
  // The slots still free go to the largest remainders (v * cap mod total), the lower index first.
  // At most LB_WRR_CAP servers are candidates (each has a whole slot of the cap), and fewer than
  // that many slots are free, so the plain scans stay under a million steps.
  while (sum < cap && candidates > 0) {
    let best = 0;
    let bestRem: u64 = 0;
    let bestServer = LB_MAX_SERVERS;
    for (let c = 0; c < candidates; c++) {
      const s = <i32>load<u16>(lbHeap + (<usize>c << 1));
      const rem = (<u64>(weight(s) / g) * cap) % total;
      if (rem > bestRem || (rem == bestRem && s < bestServer)) { best = c; bestRem = rem; bestServer = s; }
    }
    setSlots(bestServer, slots(bestServer) + 1);
    sum += 1;
    candidates--;
    store<u16>(lbHeap + (<usize>best << 1), load<u16>(lbHeap + (<usize>candidates << 1)));
  }
  // Scaling can leave a common factor (e.g. 2:2): the same shares in fewer slots.
  let h: u32 = 0;
  for (let s = 0; s < n; s++) h = gcd(slots(s), h);
  if (h > 1) {
    sum = 0;
    for (let s = 0; s < n; s++) { const v = slots(s) / h; setSlots(s, v); sum += v; }
  }
  return sum;
}
