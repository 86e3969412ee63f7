// After a refused transaction, once vigil lb has found its table gone, or when the table is
// renamed (the old one removed in the same transaction), the next apply replaces the table
// whole (in one transaction): a diff made against a table the kernel no longer has would be
// refused for ever. The Reconciler on its own, its I/O recorded.
import t from 'tap';
import { parseConfig } from '../../host/config/load.ts';
import { Reconciler, type LbIo } from '../../host/lb/reconciler.ts';
import type { CheckReport } from '../../host/checks/protocol.ts';

const text = [
  'checks:', ...[0, 1].map((i) => `  - { name: c${i}, type: tcp, target: "198.51.100.${11 + i}:80" }`),
  'virtualServers:',
  '  - { name: web, address: 192.0.2.100, port: 80, scheduler: rr, realServers: [{ address: 198.51.100.11, check: c0 }, { address: 198.51.100.12, check: c1 }] }',
].join('\n') + '\n';
const report = (check: string, up: boolean): CheckReport => ({ check, up, settled: true, error: up ? null : 'refused', latencyMs: 1, transitions: 1, rounds: 3, failures: up ? 0 : 3 } as CheckReport);
const whole = /^add table inet vigil\ndelete table inet vigil\ntable inet vigil \{/;

function harness() {
  const applied: string[] = [];
  let refuse = 0;
  const quiet = () => {};
  const io: LbIo = {
    apply: async (x) => { if (refuse > 0) { refuse--; throw new Error('No such file or directory'); } applied.push(x); },
    flushConntrack: async () => 0, egress: async () => 'eth1', runHook: () => {}, now: () => performance.now(),
    log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
  };
  return { rec: new Reconciler(parseConfig(text, 'lb.yaml'), io), applied, refuse: (n: number) => { refuse = n; } };
}

t.test('a refused diff: the retry replaces the table whole', async (t) => {
  const h = harness();
  t.ok(await h.rec.syncNow());
  h.refuse(1);
  h.rec.report(report('c0', false));
  await new Promise((r) => setTimeout(r, 400));   // the first retry comes after 200 ms
  t.equal(h.applied.length, 2, 'applied on the retry');
  t.match(h.applied[1], whole, 'as a whole table, in one transaction');
  // The slots hold ct marks; rs-targets4 says whose (NAT without persistence: no chain per server).
  const mark = (target: string) => new RegExp(`(0x[0-9a-f]{8}) : ${target.replace(/\./g, '\\.')}[,\\s}]`).exec(h.applied[1])?.[1] ?? 'none';
  const slots = /map marks-web \{[^}]*\}/.exec(h.applied[1])?.[0] ?? '';
  t.ok(slots.includes(mark('198.51.100.12 . 80')) && !slots.includes(mark('198.51.100.11 . 80')), 'its slots without the failed real server');
  h.rec.report(report('c0', true));
  await new Promise((r) => setTimeout(r, 50));
  t.notMatch(h.applied[2], whole, 'after it, diffs again');
});

t.test('resync(): the next apply replaces the table whole, then diffs again', async (t) => {
  const h = harness();
  t.ok(await h.rec.syncNow());
  h.rec.resync();
  await new Promise((r) => setTimeout(r, 50));
  t.equal(h.applied.length, 2);
  t.match(h.applied[1], whole);
  h.rec.report(report('c1', false));
  await new Promise((r) => setTimeout(r, 50));
  t.equal(h.applied.length, 3);
  t.notMatch(h.applied[2], whole, 'a check down after it: a diff');
});

t.test('loadBalancer.table renamed: one transaction removes the old table and makes the new one', async (t) => {
  const h = harness();
  t.ok(await h.rec.syncNow());
  h.rec.reload(parseConfig(text + 'loadBalancer: { table: lb2 }\n', 'lb.yaml'));
  await new Promise((r) => setTimeout(r, 50));
  t.equal(h.applied.length, 2);
  t.match(h.applied[1], /^add table inet vigil\ndelete table inet vigil\nadd table netdev vigil\ndelete table netdev vigil\nadd table inet lb2\ndelete table inet lb2\ntable inet lb2 \{/);
  h.rec.report(report('c1', false));
  await new Promise((r) => setTimeout(r, 50));
  t.notMatch(h.applied[2], /table inet vigil/, 'after it, diffs of the new table only');
  t.match(h.applied[2], /inet lb2/);
});
