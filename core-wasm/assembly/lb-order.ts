// The order in which servers take slots, shared by wrr and Maglev: server i's k-th turn comes
// at virtual time (2k + 1) / (2 w_i), so each server's turns are spread evenly over a round
// (stride scheduling; like nginx's smooth weighted round robin, no server takes a run of turns
// while another waits). Times compare exactly as integers: (2k_a + 1) w_b against (2k_b + 1) w_a.
// Ties go to the smaller key (Maglev: so input order does not matter), then the smaller index.
// A binary heap of server indices (lbHeap) keyed on that time: O(log n) a turn.
import { lbKeys, lbPicks, lbHeap } from "./lb-layout";

let weightsAt: usize = 0;   // u32 per server: the weights the turns follow
let byKey: bool = false;
let size: i32 = 0;

@inline function at(i: i32): i32 { return <i32>load<u16>(lbHeap + (<usize>i << 1)); }
@inline function put(i: i32, v: i32): void { store<u16>(lbHeap + (<usize>i << 1), <u16>v); }
@inline function w(s: i32): u64 { return <u64>load<u32>(weightsAt + (<usize>s << 2)); }
@inline function k(s: i32): u64 { return <u64>load<u32>(lbPicks + (<usize>s << 2)); }

// Is server a's next turn before server b's?
@inline function before(a: i32, b: i32): bool {
  const ta = (2 * k(a) + 1) * w(b), tb = (2 * k(b) + 1) * w(a);
  if (ta != tb) return ta < tb;
  if (byKey) {
    const ka = load<u32>(lbKeys + (<usize>a << 2)), kb = load<u32>(lbKeys + (<usize>b << 2));
    if (ka != kb) return ka < kb;
  }
  return a < b;
}

function siftDown(i: i32): void {
  const v = at(i);
  for (;;) {
    let c = 2 * i + 1;
    if (c >= size) break;
    if (c + 1 < size && before(at(c + 1), at(c))) c++;
    if (!before(at(c), v)) break;
    put(i, at(c));
    i = c;
  }
  put(i, v);
}

// Every server of [0, n) with a nonzero weight in `weights`, no turns taken yet.
// Returns how many take part.
export function orderStart(n: i32, weights: usize, keys: bool): i32 {
  weightsAt = weights; byKey = keys; size = 0;
  for (let s = 0; s < n; s++) {
    store<u32>(lbPicks + (<usize>s << 2), 0);
    if (load<u32>(weights + (<usize>s << 2)) != 0) put(size++, s);
  }
  for (let i = (size >> 1) - 1; i >= 0; i--) siftDown(i);
  return size;
}

// The server whose turn it is; its turn is taken (its next one is queued).
export function orderNext(): i32 {
  const s = at(0);
  store<u32>(lbPicks + (<usize>s << 2), <u32>k(s) + 1);
  siftDown(0);
  return s;
}
