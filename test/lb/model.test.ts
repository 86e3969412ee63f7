// The load balancer's control loop on its own (no root, no nft): the Reconciler with its I/O
// recorded, driven by config reloads and check reports. What each change puts in the one
// transaction it applies: only what changed, never the whole table again.
import t from 'tap';
import fc from 'fast-check';
import { parseConfig } from '../../host/config/load.ts';
import { Reconciler, type LbIo } from '../../host/lb/reconciler.ts';
import { alignSlots } from '../../host/lb/slots.ts';
import type { CheckReport } from '../../host/checks/protocol.ts';

function configText(scheduler: string, n: number, weight: (i: number) => number, extra = ''): string {
  const rs = Array.from({ length: n }, (_, i) => `      - { address: 198.51.100.11, port: ${1000 + i}, weight: ${weight(i)}${i < 3 ? `, check: c${i}` : ''} }`);
  return [
    'checks:', ...[0, 1, 2].map((i) => `  - { name: c${i}, type: tcp, target: "198.51.100.11:${1000 + i}" }`),
    'virtualServers:', '  - name: web', '    address: 192.0.2.100', '    port: 80', `    scheduler: ${scheduler}`, extra, '    sorryServer: 198.51.100.99:80', '    realServers:', ...rs,
  ].filter(Boolean).join('\n') + '\n';
}

function harness(text: string) {
  const applied: string[] = [];
  const flushed: number[] = [];
  const hooks: string[][] = [];
  const quiet = () => {};
  const io: LbIo = {
    apply: async (x) => { applied.push(x); }, flushConntrack: async (m) => { flushed.push(m); return 1; }, egress: async () => 'eth1',
    runHook: (s, argv) => { hooks.push([s, ...argv]); }, now: () => performance.now(), log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
  };
  const rec = new Reconciler(parseConfig(text, 'lb.yaml'), io);
  return { rec, applied, flushed, hooks };
}
const down = (check: string): CheckReport => ({ check, up: false, settled: true, error: 'refused', latencyMs: 1, transitions: 1, rounds: 3, failures: 3 });
const settle = () => new Promise((r) => setTimeout(r, 30));
const lines = (x: string) => x.trim().split('\n');

t.test('the first apply replaces the table in one transaction; nothing changed applies nothing', async (t) => {
  const h = harness(configText('wrr', 10, () => 1));
  t.ok(await h.rec.syncNow());
  t.match(h.applied[0], /^add table inet vigil\ndelete table inet vigil\ntable inet vigil \{/);
  t.match(h.applied[0], /add table netdev vigil\ndelete table netdev vigil\n$/, 'no DR service: no netdev table');
  await h.rec.syncNow();
  t.equal(h.applied.length, 1, 'a sync with nothing new applies nothing');
});

t.test('1,000 real servers: a reload changing one weight touches one slot element and the modulus', async (t) => {
  const h = harness(configText('wrr', 1000, () => 1));
  await h.rec.syncNow();
  t.ok(h.applied[0].length > 100_000, `the first apply writes everything (${h.applied[0].length} bytes)`);
  h.rec.reload(parseConfig(configText('wrr', 1000, (i) => (i === 500 ? 2 : 1)), 'lb.yaml'));
  await h.rec.syncNow();
  const tx = lines(h.applied[1]);
  const mark = markOf(h.applied[0], '198.51.100.11 . 1500');
  t.strictSame(tx, [
    'flush chain inet vigil vs-web',
    'add rule inet vigil vs-web ct mark set numgen inc mod 1001 map @marks-web',
    'add rule inet vigil vs-web meta l4proto tcp dnat ip to ct mark map @rs-targets4',
    `add element inet vigil marks-web { 1000 : ${mark} }`,
  ], 'one element added for the server whose weight grew (its ct mark), and the modulus');
  t.notMatch(h.applied[0], /chain rs-/, 'a NAT service without persistence has no chain per real server');
});

// The ct mark a transaction's rs-targets map gives a real server (address . port).
function markOf(tx: string, target: string): string {
  const m = new RegExp(`(0x[0-9a-f]{8}) : ${target.replace(/\./g, '\\.')}[,\\s}]`).exec(tx);
  if (!m) throw new Error(`no mark for ${target}`);
  return m[1];
}

t.test('sh: a weight change moves buckets only to or from that server', async (t) => {
  const h = harness(configText('sh', 1000, () => 1));
  await h.rec.syncNow();
  h.rec.reload(parseConfig(configText('sh', 1000, (i) => (i === 7 ? 3 : 1)), 'lb.yaml'));
  await h.rec.syncNow();
  const tx = lines(h.applied[1]);
  const added = tx.filter((l) => l.startsWith('add element inet vigil marks-web'));
  t.equal(tx.length, added.length + 1, 'a delete and an add of slot elements, nothing else');
  const targets = [...added.join(' ').matchAll(/\d+ : (0x[0-9a-f]{8})/g)].map((m) => m[1]);
  const mark = markOf(h.applied[0], '198.51.100.11 . 1007');
  t.ok(targets.length > 0 && targets.every((x) => x === mark), `${targets.length} buckets moved, all to the server whose weight went 1 -> 3`);
});

t.test('a real server down: its slots refilled, persistence flushed, conntrack flushed after the apply', async (t) => {
  const h = harness(configText('rr', 3, () => 1, '    persistence: { timeout: 60s }'));
  await h.rec.syncNow();
  h.rec.report(down('c1'));
  await settle();
  const tx = lines(h.applied[1]);
  t.ok(tx.includes('flush set inet vigil aff-web-198_51_100_11-1001-60s'), 'its clients\' persistence goes with it');
  t.notOk(tx.some((l) => /vs-web/.test(l)), 'the rule is untouched: the table keeps its length (66 slots: 3 x 22)');
  const moved = [...tx.filter((l) => l.startsWith('add element inet vigil slots-web')).join(' ').matchAll(/(\d+) : goto (rs-[\w-]+)/g)];
  t.equal(moved.length, 22, 'its 22 slots given to the others');
  t.strictSame([...new Set(moved.map((m) => m[2]))].sort(), ['rs-web-198_51_100_11-1000', 'rs-web-198_51_100_11-1002'], '11 each to the two left');
  t.equal(moved.filter((m) => m[2].endsWith('1000')).length, 11);
  t.equal(h.flushed.length, 1, 'its connections flushed once, after the transaction');
  t.equal(h.rec.weights().get('web-198_51_100_11-1001'), 0);
});

t.test('inhibitOnFailure: weight 0, connections kept', async (t) => {
  const text = configText('rr', 3, () => 1).replace('port: 1001, weight: 1, check: c1 }', 'port: 1001, weight: 1, check: c1, inhibitOnFailure: true }');
  const h = harness(text);
  await h.rec.syncNow();
  h.rec.report(down('c1'));
  await settle();
  t.equal(h.applied.length, 2);
  t.equal(h.flushed.length, 0, 'no conntrack flush');
});

t.test('quorum lost: one dispatch element swapped to the sorry server, the hook run; back with hysteresis', async (t) => {
  // keepalived's hysteresis: lost below quorum - hysteresis (1), back at quorum + hysteresis (3).
  const h = harness(configText('rr', 3, () => 1, '    quorum: 2\n    hysteresis: 1\n    notify: { quorumDown: /bin/true, quorumUp: /bin/true }'));
  await h.rec.syncNow();
  h.rec.report(down('c0'));
  h.rec.report(down('c1'));
  await settle();
  t.equal(h.rec.quorum.get('web')!.up, true, '1 healthy, not below quorum - hysteresis: still up');
  h.rec.report(down('c2'));
  await settle();
  const tx = lines(h.applied.at(-1)!);
  t.ok(tx.includes('delete element inet vigil svc4 { 192.0.2.100 . tcp . 80 }'), 'the dispatch element deleted...');
  t.ok(tx.includes('add element inet vigil svc4 { 192.0.2.100 . tcp . 80 : goto sorry-web }'), '...and added again, to the sorry chain');
  t.strictSame(h.hooks, [['/bin/true', 'VIRTUAL_SERVER', 'web', 'DOWN', '0']]);
  h.rec.report({ ...down('c0'), up: true });
  h.rec.report({ ...down('c1'), up: true });
  await settle();
  t.equal(h.rec.quorum.get('web')!.up, false, '2 healthy, below quorum + hysteresis: still lost');
  h.rec.report({ ...down('c2'), up: true });
  await settle();
  t.equal(h.rec.quorum.get('web')!.up, true, 'regained at 3');
  t.strictSame(h.hooks.at(-1), ['/bin/true', 'VIRTUAL_SERVER', 'web', 'UP', '3']);
});

t.test('reports within the debounce make one transaction; unsettled reports change nothing', async (t) => {
  const h = harness(configText('rr', 5, () => 1));
  await h.rec.syncNow();
  h.rec.report({ ...down('c0'), settled: false });
  await settle();
  t.equal(h.applied.length, 1, 'an unsettled report keeps what was known');
  h.rec.report(down('c0'));
  h.rec.report(down('c1'));
  h.rec.report(down('c2'));
  await settle();
  t.equal(h.applied.length, 2, 'three reports, one transaction');
  t.equal(h.rec.applyMs.length, 2);
});

t.test('a refused transaction keeps the last good state and is tried again', async (t) => {
  const h = harness(configText('rr', 3, () => 1));
  await h.rec.syncNow();
  let fail = true;
  const orig = (h.rec as unknown as { io: LbIo }).io.apply;
  (h.rec as unknown as { io: LbIo }).io.apply = async (x) => { if (fail) { fail = false; throw new Error('refused'); } return orig(x); };
  h.rec.report(down('c0'));
  await new Promise((r) => setTimeout(r, 400));
  t.equal(h.applied.length, 2, 'applied on the retry');
  // The kernel may not hold what the refused diff was made against: the retry is the whole table.
  t.match(h.applied[1], /^add table inet vigil\ndelete table inet vigil\n/, 'the retry replaces the table whole');
  t.notMatch(h.applied[1], /: goto rs-web-198_51_100_11-1000[,\s}]/, 'with no slot for the server that went down');
  t.equal(h.rec.lastError, null);
});

t.test('alignSlots: the ideal shares, and every slot whose server keeps its share stays put', async (t) => {
  const ids = fc.constantFrom('a', 'b', 'c', 'd', 'e');
  fc.assert(fc.property(fc.array(ids, { maxLength: 60 }), fc.array(ids, { maxLength: 60 }), (prev, ideal) => {
    const out = alignSlots(prev, ideal);
    const count = (xs: readonly string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
    const want = count(ideal), got = count(out);
    if (out.length !== ideal.length || [...want].some(([k, v]) => got.get(k) !== v)) return false;
    // Kept: as many of prev's positions as the shares allow.
    let kept = 0;
    for (let k = 0; k < Math.min(prev.length, out.length); k++) if (prev[k] === out[k]) kept++;
    const prevIn = count(prev.slice(0, ideal.length));
    const best = [...prevIn].reduce((s, [k, v]) => s + Math.min(v, want.get(k) ?? 0), 0);
    return kept === best;
  }), { numRuns: 2000 });
});

t.test('a new persistence timeout is a new set: the rules move to it, then the old one goes', async (t) => {
  const h = harness(configText('rr', 2, () => 1, '    persistence: { timeout: 60s }'));
  await h.rec.syncNow();
  h.rec.reload(parseConfig(configText('rr', 2, () => 1, '    persistence: { timeout: 120s }'), 'lb.yaml'));
  await h.rec.syncNow();
  const tx = lines(h.applied[1]);
  const at = (re: RegExp) => tx.findIndex((l) => re.test(l));
  t.ok(at(/^add set inet vigil aff-web-198_51_100_11-1000-120s \{ .*timeout 120s/) >= 0, 'the new set');
  t.ok(at(/^delete set inet vigil aff-web-198_51_100_11-1000-60s$/) > at(/^add rule inet vigil rs-web-198_51_100_11-1000 .*@aff-web-198_51_100_11-1000-120s/), 'deleted after the rules moved');
});

t.test('a DR service: a netdev table forwards, and its replies pass the director untracked', async (t) => {
  const text = ['virtualServers:', '  - { name: www, address: 192.0.2.100, port: 80, scheduler: rr, forwarding: dr, interface: eth0, realServers: [{ address: 192.0.2.21 }, { address: 192.0.2.22 }] }'].join('\n') + '\n';
  const h = harness(text);
  await h.rec.syncNow();
  const tx = h.applied[0];
  t.match(tx, /chain dr-replies \{\n\t\ttype filter hook prerouting priority raw; policy accept;/);
  t.match(tx, /map dr-replies4 \{[^}]*elements = \{ 192\.0\.2\.100 \. tcp \. 80 : goto untracked/);
  t.match(tx, /table netdev vigil \{[\s\S]*chain ingress-eth0 \{\n\t\ttype filter hook ingress device "eth0" priority 0;/);
  t.match(tx, /add rule netdev vigil rs-www-192_0_2_21-80 counter name "c-www-192_0_2_21-80" fwd ip to 192\.0\.2\.21 device "eth1"/);
  t.match(tx, /add rule netdev vigil vs-www jhash ip saddr \. th sport mod 64 seed 0x[0-9a-f]{8} vmap @slots-www/, 'DR counts nothing: it hashes each connection (over rr\'s 64 slots: 2 servers x 32)');
});
