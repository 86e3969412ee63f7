// The load balancer's scheduler tables (host/lb/tables.ts over core.wasm): properties with
// fast-check, against a plain TypeScript oracle (test/helpers/lb-reference.ts) and on their own.
// Tolerances, per scheduler:
//   wrr:  exact (each server gets w_i / gcd slots) up to 1024 slots; scaled past that, each
//         server's share within (1 + R) / 1024 of its weight's share (R: servers raised to 1 slot).
//   sh:   a weighted draw per bucket: each count within 6 sigma (+1) of the binomial's mean.
//   mh:   each count within 1/2 + n w_i / (2 sum w) of M w_i / sum w; removing / adding a server
//         moves at most its own share plus 6 / sqrt(M) of the table.
import t from 'tap';
import fc from 'fast-check';
import { wrrSlots, hashBuckets, updateBuckets, maglevTable, serverKey, serverKeys, WRR_CAP, MAX_SERVERS } from '../../host/lb/tables.ts';
import { refWrr, refBuckets, refMaglev } from '../helpers/lb-reference.ts';
import { coreModule } from '../../host/core/core.ts';

const runs = Number(process.env.VIGIL_PROPERTY_RUNS ?? 150);
const opts = { numRuns: runs };

const counts = (table: ArrayLike<number>, n: number): number[] => {
  const c = new Array<number>(n).fill(0);
  for (let i = 0; i < table.length; i++) c[table[i]!]!++;
  return c;
};
const sum = (a: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i]!; return s; };
const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

// Servers: unique u32 keys, weights mostly small, some 0.
const servers = (min: number, max: number, wmax = 20) => fc.uniqueArray(fc.integer({ min: 0, max: 0xffffffff }),
  { minLength: min, maxLength: max }).chain((keys) => fc.tuple(fc.constant(keys),
  fc.array(fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 5, arbitrary: fc.integer({ min: 1, max: wmax }) }),
    { minLength: keys.length, maxLength: keys.length })));

// A permutation of [0, n) from a seed.
function permutation(n: number, seed: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  let x = seed >>> 0 || 1;
  for (let i = n - 1; i > 0; i--) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    const j = x % (i + 1);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

// Which key owns each entry (tables compared by server identity, not index).
const owners = (table: ArrayLike<number>, keys: ArrayLike<number>) => Array.from(table, (s) => keys[s]!);

t.test('wrr', async (t) => {
  t.test('exact examples', async (t) => {
    t.same([...wrrSlots([3, 1])], [0, 0, 1, 0], '3:1 is 4 slots, 3 and 1, interleaved as nginx does');
    t.same([...wrrSlots([1, 1, 1])], [0, 1, 2]);
    t.same([...wrrSlots([6, 3])], [0, 1, 0], 'divided by the gcd');
    t.same([...wrrSlots([2, 0, 2])], [0, 2], 'weight 0 gets no slot');
    t.same([...wrrSlots([5, 1, 1])], [0, 0, 0, 1, 2, 0, 0], "5:1:1: the 1s take their turn mid-round");
    t.same([...wrrSlots([])], [], 'no server: empty');
    t.same([...wrrSlots([0, 0])], [], 'all weight 0: empty');
    t.same([...wrrSlots([4294967295])], [0], 'the largest weight');
    const big = wrrSlots([1000, 1]);
    t.equal(big.length, 1001, '1000:1 is 1001 slots: under the cap');
    t.same(counts(wrrSlots([1024, 1]), 2), [1023, 1], '1024:1 scales to 1024 slots, the 1 keeps one');
  });

  t.test('the core matches the TypeScript oracle', async () => {
    fc.assert(fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 0xffffffff })),
      { maxLength: 300 }), (w) => {
      const a = wrrSlots(w), b = refWrr(w);
      return a.length === b.length && a.every((x, i) => x === b[i]);
    }), opts);
  });

  t.test('the spread follows the weights', async () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 200 }), (w) => {
      const table = wrrSlots(w), c = counts(table, w.length);
      const g = w.reduce((a, b) => gcd(a, b), 0);
      if (g === 0) return table.length === 0;
      const reduced = w.map((x) => x / g), total = sum(reduced), W = sum(w);
      if (total <= WRR_CAP) return table.length === total && c.every((x, i) => x === reduced[i]);
      const raised = w.filter((x) => x > 0 && (x * WRR_CAP) / W < 1).length;
      return w.every((x, i) => (x === 0 ? c[i] === 0 : c[i]! >= 1 &&
        Math.abs(c[i]! / table.length - x / W) <= (1 + raised) / WRR_CAP + 1e-12));
    }), opts);
  });

  t.test('slots are interleaved: the k-th slot of a server sits near L (2k + 1) / (2 c)', async () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 30 }), (w) => {
      const table = wrrSlots(w), L = table.length, c = counts(table, w.length), seen = new Array(w.length).fill(0);
      for (let p = 0; p < L; p++) {
        const s = table[p]!, k = seen[s]++;
        if (Math.abs(p - (L * (2 * k + 1)) / (2 * c[s]!)) > w.length) return false;
      }
      return true;
    }), opts);
  });

  t.test('deterministic', async () => {
    fc.assert(fc.property(fc.array(fc.nat(100), { maxLength: 50 }), (w) => {
      const a = wrrSlots(w), b = wrrSlots(w);
      return a.length === b.length && a.every((x, i) => x === b[i]);
    }), opts);
  });
});

t.test('sh / dh buckets', async (t) => {
  t.test('the core matches the TypeScript oracle', async () => {
    fc.assert(fc.property(servers(0, 40), fc.constantFrom(1, 16, 256, 4096), ([keys, w], B) => {
      const a = hashBuckets(keys, w, B), b = refBuckets(keys, w, B, false);
      return a.length === b.length && a.every((x, i) => x === b[i]);
    }), { numRuns: Math.ceil(runs / 3) });
  });

  t.test('the spread follows the weights (binomial, 6 sigma)', async () => {
    fc.assert(fc.property(servers(1, 30), fc.constantFrom(256, 1024, 4096), ([keys, w], B) => {
      const table = hashBuckets(keys, w, B), W = sum(w);
      if (W === 0) return table.length === 0;
      const c = counts(table, keys.length);
      return w.every((x, i) => {
        const p = x / W;
        return Math.abs(c[i]! - B * p) <= 6 * Math.sqrt(B * p * (1 - p)) + 1 && (x > 0 || c[i] === 0);
      });
    }), opts);
  });

  t.test('input order does not matter', async () => {
    fc.assert(fc.property(servers(1, 30), fc.integer(), ([keys, w], seed) => {
      const p = permutation(keys.length, seed);
      const a = owners(hashBuckets(keys, w, 256), keys);
      const b = owners(hashBuckets(p.map((i) => keys[i]!), p.map((i) => w[i]!), 256), p.map((i) => keys[i]!));
      return a.every((k, i) => k === b[i]);
    }), opts);
  });

  t.test('removing a server moves only its buckets', async () => {
    fc.assert(fc.property(servers(2, 30), fc.nat(), ([keys, w], pick) => {
      const x = pick % keys.length;
      const before = owners(hashBuckets(keys, w, 1024), keys);
      const k2 = keys.filter((_, i) => i !== x), w2 = w.filter((_, i) => i !== x);
      const after = owners(hashBuckets(k2, w2, 1024), k2);
      if (sum(w2) === 0) return after.length === 0;
      return before.every((k, b) => (k === keys[x] ? after[b] !== keys[x] : after[b] === k));
    }), opts);
  });

  t.test('adding a server takes only the buckets it wins; a weight change moves buckets only to or from it', async () => {
    fc.assert(fc.property(servers(2, 30), fc.nat(), fc.integer({ min: 1, max: 20 }), ([keys, w], pick, delta) => {
      const x = pick % keys.length;
      const full = owners(hashBuckets(keys, w, 1024), keys);
      const k2 = keys.filter((_, i) => i !== x), w2 = w.filter((_, i) => i !== x);
      const less = owners(hashBuckets(k2, w2, 1024), k2);
      const added = less.length === 0 || full.every((k, b) => k === keys[x] || k === less[b]);
      const up = owners(hashBuckets(keys, w.map((v, i) => (i === x ? v + delta : v)), 1024), keys);
      const raised = full.every((k, b) => up[b] === k || up[b] === keys[x]);
      return added && raised;
    }), opts);
  });

  t.test('updateBuckets from the previous table gives the same table as hashBuckets', async () => {
    // Changes: servers dropped, added, reweighted (to 0 too), and the list reordered.
    fc.assert(fc.property(servers(0, 30), servers(0, 5), fc.array(fc.nat(), { maxLength: 8 }), fc.integer(),
      fc.constantFrom(1, 64, 1024), ([keys, w], [extraKeys, extraW], edits, seed, B) => {
        const previous = { keys, weights: w, table: hashBuckets(keys, w, B) };
        const k2 = [...keys], w2 = [...w];
        for (const e of edits) {
          if (k2.length === 0) break;
          const i = e % k2.length;
          if (e % 3 === 0) { k2.splice(i, 1); w2.splice(i, 1); } else w2[i] = (e >> 2) % 7;
        }
        for (let i = 0; i < extraKeys.length; i++) {
          if (!k2.includes(extraKeys[i]!)) { k2.push(extraKeys[i]!); w2.push(extraW[i]!); }
        }
        const p = permutation(k2.length, seed);
        const k3 = p.map((i) => k2[i]!), w3 = p.map((i) => w2[i]!);
        const a = updateBuckets(previous, k3, w3, B), b = hashBuckets(k3, w3, B);
        return a.length === b.length && a.every((x, i) => x === b[i]);
      }), opts);
  });

  t.test('weight 0 gets nothing, no weight gives an empty table, one server gets all', async (t) => {
    t.same([...hashBuckets([], [], 256)], []);
    t.same([...hashBuckets([1, 2], [0, 0], 256)], []);
    t.ok(hashBuckets([7, 8, 9], [0, 5, 0], 64).every((s) => s === 1));
    const keys = serverKeys([11, 12, 13].map((h) => ({ address: `198.51.100.${h}`, port: 8080 })));
    const c = counts(hashBuckets(keys, [3, 1, 1], 4096), 3);
    t.comment(`3:1:1 over 4096 buckets: ${c.join(' / ')} (ideal 2457.6 / 819.2 / 819.2)`);
    t.ok(Math.abs(c[0]! - 2457.6) < 6 * 31.4 && Math.abs(c[1]! - 819.2) < 6 * 25.6);
  });
});

t.test('mh (Maglev)', async (t) => {
  const sizes = [251, 1021, 4093];

  t.test('the core matches the TypeScript oracle', async () => {
    fc.assert(fc.property(servers(0, 40, 1000), fc.constantFrom(2, 3, 251, 1021, 65537), ([keys, w], M) => {
      const a = maglevTable(keys, w, M), b = refMaglev(keys, w, M);
      return a.length === b.length && a.every((x, i) => x === b[i]);
    }), { numRuns: Math.ceil(runs / 3) });
  });

  t.test('the spread follows the weights: within 1/2 + n w / (2 sum w) entries', async () => {
    fc.assert(fc.property(servers(1, 40, 1000), fc.constantFrom(...sizes, 65537), ([keys, w], M) => {
      const table = maglevTable(keys, w, M), W = sum(w);
      if (W === 0) return table.length === 0;
      const c = counts(table, keys.length), n = w.filter((x) => x > 0).length;
      return table.length === M && w.every((x, i) => Math.abs(c[i]! - (M * x) / W) <= 0.5 + (n * x) / (2 * W) + 1e-9);
    }), opts);
  });

  t.test('input order does not matter', async () => {
    fc.assert(fc.property(servers(1, 40), fc.integer(), fc.constantFrom(...sizes), ([keys, w], seed, M) => {
      const p = permutation(keys.length, seed);
      const a = owners(maglevTable(keys, w, M), keys);
      const b = owners(maglevTable(p.map((i) => keys[i]!), p.map((i) => w[i]!), M), p.map((i) => keys[i]!));
      return a.every((k, i) => k === b[i]);
    }), opts);
  });

  // Moved entries beyond the server's own share, as a fraction of the table.
  function extraMoved(keys: number[], w: number[], x: number, M: number): number {
    const full = owners(maglevTable(keys, w, M), keys);
    const k2 = keys.filter((_, i) => i !== x), w2 = w.filter((_, i) => i !== x);
    const less = owners(maglevTable(k2, w2, M), k2);
    if (less.length === 0) return 0;
    let moved = 0;
    for (let i = 0; i < M; i++) if (full[i] !== keys[x] && full[i] !== less[i]) moved++;
    return moved / M;
  }

  t.test('removing or adding one server moves its share plus at most 6/sqrt(M)', async () => {
    // Adding x to the others is removing x read backwards: the entries that change are x's own
    // plus the same others.
    fc.assert(fc.property(servers(2, 40), fc.nat(), fc.constantFrom(...sizes), ([keys, w], pick, M) => {
      return extraMoved(keys, w, pick % keys.length, M) <= 6 / Math.sqrt(M);
    }), opts);
  });

  t.test('measured disruption', async (t) => {
    let x = 7;
    const rnd = () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return x >>> 0; };
    for (const [M, draws] of [[251, 300], [1021, 200], [65537, 20]] as const) {
      let total = 0, worst = 0;
      for (let d = 0; d < draws; d++) {
        const n = 2 + (rnd() % 39);
        const keys = [...new Set(Array.from({ length: n }, rnd))];
        const w = keys.map(() => 1 + (rnd() % 10));
        const e = extraMoved(keys, w, rnd() % keys.length, M);
        total += e; worst = Math.max(worst, e);
      }
      t.comment(`M=${M}: besides the removed server's own, ${(100 * total / draws).toFixed(2)}% of the table moves on average, ` +
        `${(100 * worst).toFixed(2)}% at most (bound asserted: ${(600 / Math.sqrt(M)).toFixed(2)}%), ${draws} draws of 2-40 servers`);
      t.ok(worst <= 6 / Math.sqrt(M), `M=${M} within the bound`);
    }
  });

  t.test('weight 0 gets nothing, no weight gives an empty table', async (t) => {
    t.same([...maglevTable([], [], 251)], []);
    t.same([...maglevTable([1, 2], [0, 0], 251)], []);
    t.ok(maglevTable([7, 8, 9], [0, 5, 0], 251).every((s) => s === 1));
    const c = counts(maglevTable([10, 20, 30], [1, 1, 1], 251), 3);
    t.ok(c.every((v) => v === 83 || v === 84) && sum(c) === 251, `equal weights: ${c.join(' / ')}`);
  });
});

t.test('bounds: bad input throws a VigilError with a stable code', async (t) => {
  const code = (code: string) => ({ code, name: 'LbTableError' });
  t.throws(() => wrrSlots(new Array(MAX_SERVERS + 1).fill(1)), code('VIGIL_ELB_SERVERS'));
  t.throws(() => wrrSlots([1, -1]), code('VIGIL_ELB_WEIGHT'));
  t.throws(() => wrrSlots([1.5]), code('VIGIL_ELB_WEIGHT'));
  t.throws(() => wrrSlots([2 ** 32]), code('VIGIL_ELB_WEIGHT'));
  t.throws(() => hashBuckets([1, 2], [1], 256), code('VIGIL_ELB_SERVERS'));
  t.throws(() => hashBuckets([1, 1], [1, 1], 256), code('VIGIL_ELB_KEY'));
  t.throws(() => hashBuckets([-1], [1], 256), code('VIGIL_ELB_KEY'));
  for (const b of [0, 3, 100, 8192, 2.5]) t.throws(() => hashBuckets([1], [1], b), code('VIGIL_ELB_SIZE'), `${b} buckets`);
  for (const m of [0, 1, 250, 65539, 100003]) t.throws(() => maglevTable([1], [1], m), code('VIGIL_ELB_SIZE'), `size ${m}`);
  t.throws(() => maglevTable([5, 5], [1, 1], 251), code('VIGIL_ELB_KEY'));
  t.throws(() => serverKey('198.51.100.300', 80), code('VIGIL_ELB_ADDRESS'));
  t.throws(() => serverKey('198.51.100.1', 65536), code('VIGIL_ELB_ADDRESS'));
  // The most servers a table takes: 65535 at weight 1 are 65535 wrr slots (each raised to one).
  const w = new Array(MAX_SERVERS).fill(1);
  const table = wrrSlots(w);
  t.equal(table.length, MAX_SERVERS);
  t.equal(table[MAX_SERVERS - 1], MAX_SERVERS - 1);
});

t.test("the core's heap ends below the tables' buffers (at the top of its memory)", async (t) => {
  const raw = new WebAssembly.Instance(coreModule(), {}).exports as unknown as {
    memory: WebAssembly.Memory; bufLbKeys(): number; bufLbDirty(): number };
  const mem = new Uint8Array(raw.memory.buffer);
  let top = mem.length;
  while (top > 0 && mem[top - 1] === 0) top--;
  t.ok(top < raw.bufLbKeys(), `heap ends at ${top}, buffers start at ${raw.bufLbKeys()}`);
  t.ok(raw.bufLbDirty() + 2 * MAX_SERVERS <= mem.length, 'and end inside the memory');
  t.comment(`${((raw.bufLbKeys() - top) / 1024).toFixed(0)} KiB free between them`);
});

t.test('server keys', async (t) => {
  t.equal(serverKey('198.51.100.11', 8080), serverKey('198.51.100.11', 8080), 'stable');
  t.equal(serverKey('2001:DB8::1', 53), serverKey('2001:db8:0::1', 53), 'one key per address, however spelt');
  t.not(serverKey('198.51.100.11', 8080), serverKey('198.51.100.11', 8081));
  t.not(serverKey('198.51.100.11', 80), serverKey('198.51.100.12', 80));
  t.not(serverKey('0.0.0.1', 80), serverKey('1::', 80), 'the family is part of the key');
  // Pinned: a change to the key function would move every client of every sh / dh / mh service.
  t.equal(serverKey('198.51.100.11', 8080), 560643993);

  // Find two real endpoints whose keys collide (a birthday search), then check serverKeys
  // separates them the same way whatever the order.
  const seen = new Map<number, string>();
  let pair: [string, string] | undefined;
  for (let i = 0; !pair; i++) {
    const ep = `198.51.${(i >> 16) & 255}.${(i >> 8) & 255}:${i & 255}`;
    const [a, p] = [ep.slice(0, ep.lastIndexOf(':')), Number(ep.slice(ep.lastIndexOf(':') + 1))];
    const k = serverKey(a, p);
    const other = seen.get(k);
    if (other !== undefined) pair = [other, ep];
    else seen.set(k, ep);
  }
  t.comment(`colliding keys: ${pair.join(' and ')} after ${seen.size} endpoints`);
  const list = [...pair, '203.0.113.7:80'].map((ep) => ({ address: ep.slice(0, ep.lastIndexOf(':')), port: Number(ep.slice(ep.lastIndexOf(':') + 1)) }));
  const a = serverKeys(list), b = serverKeys([list[2]!, list[1]!, list[0]!]);
  t.equal(new Set(a).size, 3, 'unique after the collision');
  t.same([a[0], a[1], a[2]], [b[2], b[1], b[0]], 'the same keys in any order');
  t.throws(() => serverKeys([list[0]!, { ...list[0]! }]), { code: 'VIGIL_ELB_KEY' }, 'one server twice');
});
