// What a reload changes: unchanged instances are left alone, identity changes restart an
// instance, everything else applies live.
import t from 'tap';
import { diffConfigs, diffInstance, RESTART_FIELDS } from '../../host/config/diff.ts';
import { instance, lines, ok } from './util.ts';

const base = [
  ...instance('VI_1', 51, '192.0.2.100/24', ['priority: 150']),
  ...instance('VI_2', 52, '192.0.2.101/24'),
  ...instance('VI_6', 51, '2001:db8::1'),
];
const before = ok(lines('instances:', ...base, 'syncGroups:', '  - { name: G1, instances: [VI_1, VI_2] }'));

function after(...ls: string[]) { return ok(lines(...ls)); }

t.test('the same file: everything unchanged', async (t) => {
  const d = diffConfigs(before, before);
  t.strictSame(d, { added: [], removed: [], unchanged: ['VI_1', 'VI_2', 'VI_6'], changed: [], syncGroupsChanged: false, statusChanged: false, realtimeChanged: false });
});

t.test('moving instances around and adding comments is not a change', async (t) => {
  const moved = after('# reordered', 'instances:', ...instance('VI_6', 51, '2001:db8::1'), '  # a comment',
    ...instance('VI_2', 52, '192.0.2.101/24'), ...instance('VI_1', 51, '192.0.2.100/24', ['priority: 150']),
    'syncGroups:', '  - { name: G1, instances: [VI_2, VI_1] }');
  t.not(moved.instances[0].line, before.instances[0].line);
  const d = diffConfigs(before, moved);
  t.strictSame(d.unchanged, ['VI_6', 'VI_2', 'VI_1']);
  t.strictSame(d.changed, []);
  t.equal(d.syncGroupsChanged, false, 'member order does not matter');
});

t.test('live changes: priority, interval, VIPs, peers, garp, track, notify, preempt', async (t) => {
  const next = after('instances:',
    ...instance('VI_1', 51, '192.0.2.100/24, 192.0.2.110/24', ['priority: 200', 'advertInterval: 50ms', 'preempt: false',
      'garp: { refresh: 30s }', 'track: { interfaces: [{ name: e1, weight: -50 }] }', 'notify: { master: /bin/up }',
      'unicastPeers: [192.0.2.2]']),
    ...instance('VI_2', 52, '192.0.2.101/24'),
    ...instance('VI_6', 51, '2001:db8::1'),
    'syncGroups:', '  - { name: G1, instances: [VI_1, VI_2] }');
  const d = diffConfigs(before, next);
  t.strictSame(d.unchanged, ['VI_2', 'VI_6']);
  t.equal(d.changed.length, 1);
  const c = d.changed[0];
  t.equal(c.name, 'VI_1');
  t.strictSame(c.fields, ['priority', 'advertIntervalUs', 'advertIntervalCs', 'preempt', 'virtualAddresses', 'unicastPeers', 'garp', 'track', 'notify']);
  t.equal(c.restart, false);
  t.strictSame(c.restartFields, []);
  t.equal(c.before.priority, 150);
  t.equal(c.after.priority, 200);
});

t.test('identity changes need a restart: interface, vrid, version, family, vmac', async (t) => {
  const cases: [string[], string[]][] = [
    [instance('VI_2', 53, '192.0.2.101/24'), ['vrid']],
    [['  - name: VI_2', '    interface: e1', '    vrid: 52', '    virtualAddresses: [192.0.2.101/24]'], ['interface']],
    [instance('VI_2', 52, '192.0.2.101/24', ['version: 2']), ['version']],
    [instance('VI_2', 52, '2001:db8::2'), ['family', 'virtualAddresses']],
    [instance('VI_2', 52, '192.0.2.101/24', ['vmac: true']), ['vmac']],
  ];
  for (const [vi2, fields] of cases) {
    const next = after('instances:', ...instance('VI_1', 51, '192.0.2.100/24', ['priority: 150']), ...vi2, ...instance('VI_6', 51, '2001:db8::1'),
      'syncGroups:', '  - { name: G1, instances: [VI_1, VI_2] }');
    const d = diffConfigs(before, next);
    t.strictSame(d.unchanged, ['VI_1', 'VI_6'], fields.join());
    t.strictSame(d.changed.map((c) => [c.name, c.restart, c.fields]), [['VI_2', true, fields]]);
    t.strictSame(d.changed[0].restartFields, fields.filter((f) => (RESTART_FIELDS as readonly string[]).includes(f)));
  }
  // Identity plus a live field: still a restart, and both are listed.
  const both = diffInstance(before.instances[0], after('instances:', ...instance('VI_1', 9, '192.0.2.100/24', ['priority: 10'])).instances[0]);
  t.strictSame(both && [both.restart, both.fields, both.restartFields], [true, ['vrid', 'priority', 'syncGroup'], ['vrid']]);
});

t.test('added, removed, renamed (a rename is a remove and an add)', async (t) => {
  const next = after('instances:', ...instance('VI_1', 51, '192.0.2.100/24', ['priority: 150']), ...instance('web', 52, '192.0.2.101/24'),
    ...instance('VI_9', 9, '192.0.2.9'));
  const d = diffConfigs(before, next);
  t.strictSame(d.added.map((i) => i.name), ['web', 'VI_9']);
  t.strictSame(d.removed.map((i) => i.name), ['VI_2', 'VI_6']);
  t.strictSame(d.unchanged, []);
  t.strictSame(d.changed.map((c) => [c.name, c.fields, c.restart]), [['VI_1', ['syncGroup'], false]], 'G1 is gone: VI_1 left its group, live');
  t.equal(d.syncGroupsChanged, true);
});

t.test('status and realtime changes are reported apart from instances', async (t) => {
  const tail = ['syncGroups:', '  - { name: G1, instances: [VI_1, VI_2] }'];
  const s = diffConfigs(before, after('instances:', ...base, ...tail, 'status: { listen: "[::1]:9110" }'));
  t.strictSame([s.statusChanged, s.realtimeChanged, s.unchanged.length], [true, false, 3]);
  const r = diffConfigs(before, after('instances:', ...base, ...tail, 'realtime: false'));
  t.strictSame([r.statusChanged, r.realtimeChanged, r.unchanged.length], [false, true, 3]);
  const same = diffConfigs(before, after('instances:', ...base, ...tail, 'status: { listen: 127.0.0.1:9110 }', 'realtime: { priority: 50 }'));
  t.strictSame([same.statusChanged, same.realtimeChanged], [false, false], 'defaults written out are no change');
});
