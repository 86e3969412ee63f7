// Good files: the normalized, typed result, with every default filled in.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../host/config/load.ts';
import type { InstanceSpec } from '../../host/config/types.ts';
import { FILE, instance, lines, ok } from './util.ts';

const examples = (name: string) => fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));

t.test('a minimal instance gets every default', async (t) => {
  const c = ok(lines('instances:', ...instance('VI_1', 51, '192.0.2.100')));
  const expected: InstanceSpec = {
    name: 'VI_1', line: 2, col: 5, interface: 'e0', vrid: 51, version: 3, family: 4, priority: 100,
    advertIntervalUs: 1_000_000, advertIntervalCs: 100, preempt: true, preemptDelayUs: 0, acceptMode: false,
    virtualAddresses: [{ address: '192.0.2.100', prefixLen: 32 }],
    unicastPeers: null, unicastSource: null, auth: { type: 'none' }, vmac: false,
    garp: { count: 5, intervalUs: 10_000, refreshUs: 0 },
    track: { interfaces: [], checks: [] },
    notify: { master: null, backup: null, fault: null, stop: null, timeoutUs: 10_000_000 },
    syncGroup: null,
  };
  t.same(c, {
    file: FILE,
    instances: [expected],
    syncGroups: [],
    checks: [],
    policies: [],
    status: { listen: { host: '127.0.0.1', port: 9110 }, exposed: false },
    realtime: { enabled: true, priority: 50 },
    virtualServers: [],
    loadBalancer: { table: 'vigil', removeOnStop: true },
  });
  t.strictSame(c.instances[0], expected, 'no extra fields');
});

t.test('every field as written, normalized', async (t) => {
  const text = lines(
    'instances:',
    '  - name: VI_1',
    '    interface: e0',
    '    vrid: 51',
    '    priority: 150',
    '    version: 3',
    '    advertInterval: 10ms',
    '    preempt: true',
    '    preemptDelay: 2m',
    '    acceptMode: true',
    '    virtualAddresses: [192.0.2.100/24, 192.0.2.101]',
    '    unicastPeers: [192.0.2.2, 192.0.2.3]',
    '    unicastSource: 192.0.2.1',
    '    vmac: true',
    '    garp: { count: 3, interval: 50ms, refresh: 60s }',
    '    track:',
    '      interfaces: [{ name: e1, weight: -50 }, { name: e2 }]',
    '    notify: { master: /usr/local/bin/up, backup: /usr/local/bin/down, fault: /f, stop: /s, timeout: 1.5s }',
  );
  const [i] = ok(text).instances;
  t.strictSame(i, {
    name: 'VI_1', line: 2, col: 5, interface: 'e0', vrid: 51, version: 3, family: 4, priority: 150,
    advertIntervalUs: 10_000, advertIntervalCs: 1, preempt: true, preemptDelayUs: 120_000_000, acceptMode: true,
    virtualAddresses: [{ address: '192.0.2.100', prefixLen: 24 }, { address: '192.0.2.101', prefixLen: 32 }],
    unicastPeers: ['192.0.2.2', '192.0.2.3'], unicastSource: '192.0.2.1', auth: { type: 'none' }, vmac: true,
    garp: { count: 3, intervalUs: 50_000, refreshUs: 60_000_000 },
    track: { interfaces: [{ name: 'e1', weight: -50 }, { name: 'e2', weight: 0 }], checks: [] },
    notify: { master: '/usr/local/bin/up', backup: '/usr/local/bin/down', fault: '/f', stop: '/s', timeoutUs: 1_500_000 },
    syncGroup: null,
  });
});

t.test('intervals: v3 in centiseconds, v2 whole seconds x 100, at the edges', async (t) => {
  const cs = (version: number, interval: string) =>
    ok(lines('instances:', ...instance('A', 1, '192.0.2.1', [`version: ${version}`, `advertInterval: ${interval}`]))).instances[0];
  t.equal(cs(3, '10ms').advertIntervalCs, 1);
  t.equal(cs(3, '40.95s').advertIntervalCs, 4095);
  t.equal(cs(3, '40.95s').advertIntervalUs, 40_950_000);
  t.equal(cs(3, '1.5s').advertIntervalCs, 150);
  t.equal(cs(3, '0.01s').advertIntervalCs, 1);
  t.equal(cs(2, '1s').advertIntervalCs, 100);
  t.equal(cs(2, '255s').advertIntervalCs, 25500);
  t.equal(cs(2, '2m').advertIntervalCs, 12000);
  t.equal(cs(2, '3s').advertIntervalUs, 3_000_000);
});

t.test('IPv6: canonical addresses, /128 by default, family 6', async (t) => {
  const [i] = ok(lines('instances:', ...instance('V6', 7, '2001:DB8:0:0::1, 2001:db8::a/64', ['unicastPeers: ["2001:0db8::2"]']))).instances;
  t.equal(i.family, 6);
  t.strictSame(i.virtualAddresses, [{ address: '2001:db8::1', prefixLen: 128 }, { address: '2001:db8::a', prefixLen: 64 }]);
  t.strictSame(i.unicastPeers, ['2001:db8::2']);
});

t.test('VRRPv2 with a password; IPv4 and IPv6 may share a VRID on one interface', async (t) => {
  const c = ok(lines('instances:',
    ...instance('v2', 10, '203.0.113.10', ['version: 2', 'advertInterval: 3s', 'auth: { type: pass, password: "12345678" }']),
    ...instance('v4', 51, '192.0.2.1'),
    ...instance('v6', 51, '2001:db8::1')));
  t.strictSame(c.instances[0].auth, { type: 'pass', password: '12345678' });
  t.equal(c.instances[0].advertIntervalCs, 300);
  t.strictSame(c.instances.map((i) => [i.vrid, i.family]), [[10, 4], [51, 4], [51, 6]]);
  t.strictSame(c.instances.map((i) => i.line), [2, 9, 13]);
  const none = ok(lines('instances:', ...instance('v2', 10, '203.0.113.10', ['version: 2', 'auth: { type: none }'])));
  t.strictSame(none.instances[0].auth, { type: 'none' });
});

t.test('sync groups name each member instance', async (t) => {
  const c = ok(lines('instances:', ...instance('A', 1, '192.0.2.1'), ...instance('B', 2, '192.0.2.2'), ...instance('C', 3, '192.0.2.3'),
    'syncGroups:', '  - name: G1', '    instances: [A, B]'));
  t.strictSame(c.syncGroups, [{ name: 'G1', line: 15, col: 5, instances: ['A', 'B'] }]);
  t.strictSame(c.instances.map((i) => i.syncGroup), ['G1', 'G1', null]);
});

t.test('status: loopback by default, exposure flagged, false turns it off', async (t) => {
  const status = (s: string) => ok(lines('instances:', ...instance('A', 1, '192.0.2.1'), s)).status;
  t.strictSame(status('status: { listen: "[::1]:9110" }'), { listen: { host: '::1', port: 9110 }, exposed: false });
  t.strictSame(status('status: { listen: 127.0.0.2:8080 }'), { listen: { host: '127.0.0.2', port: 8080 }, exposed: false });
  t.strictSame(status('status: { listen: localhost:9110 }'), { listen: { host: 'localhost', port: 9110 }, exposed: false });
  t.strictSame(status('status: { listen: 0.0.0.0:9110 }'), { listen: { host: '0.0.0.0', port: 9110 }, exposed: true });
  t.strictSame(status('status: { listen: 192.0.2.1:9110 }'), { listen: { host: '192.0.2.1', port: 9110 }, exposed: true });
  t.strictSame(status('status: { listen: "[2001:DB8::1]:443" }'), { listen: { host: '2001:db8::1', port: 443 }, exposed: true });
  t.strictSame(status('status: false'), { listen: null, exposed: false });
  t.strictSame(status('status: true'), { listen: { host: '127.0.0.1', port: 9110 }, exposed: false });
  t.strictSame(status('status: {}'), { listen: { host: '127.0.0.1', port: 9110 }, exposed: false });
});

t.test('realtime: on at 50 by default, false, true or a priority', async (t) => {
  const rt = (s: string) => ok(lines('instances:', ...instance('A', 1, '192.0.2.1'), s)).realtime;
  t.strictSame(rt('realtime: false'), { enabled: false, priority: 50 });
  t.strictSame(rt('realtime: true'), { enabled: true, priority: 50 });
  t.strictSame(rt('realtime: { priority: 99 }'), { enabled: true, priority: 99 });
  t.strictSame(rt('realtime: {}'), { enabled: true, priority: 50 });
});

t.test('aliases: a list shared by two instances', async (t) => {
  const c = ok(lines('instances:',
    ...instance('A', 1, '192.0.2.10', ['unicastPeers: &peers [192.0.2.2, 192.0.2.3]', 'notify: &n { master: /bin/up }']),
    ...instance('B', 2, '192.0.2.20', ['unicastPeers: *peers', 'notify: *n'])));
  t.strictSame(c.instances[1].unicastPeers, ['192.0.2.2', '192.0.2.3']);
  t.equal(c.instances[1].notify.master, '/bin/up');
});

t.test('the examples load, with the values their comments promise', async (t) => {
  const main = loadConfig(examples('vigil.yaml'));
  t.equal(main.file, examples('vigil.yaml'));
  t.strictSame(main.instances.map((i) => [i.name, i.version, i.family, i.vrid, i.priority, i.advertIntervalCs, i.syncGroup]),
    [['VI_1', 3, 4, 51, 150, 10, 'G1'], ['VI_6', 3, 6, 51, 150, 10, 'G1']]);
  t.strictSame(main.instances[0].track.interfaces, [{ name: 'e1', weight: -60 }, { name: 'e2', weight: 0 }]);
  t.equal(main.instances[0].garp.refreshUs, 60_000_000);
  t.strictSame(main.syncGroups.map((g) => [g.name, g.instances]), [['G1', ['VI_1', 'VI_6']]]);
  t.equal(main.status.exposed, false);

  const uni = loadConfig(examples('unicast.yaml'));
  t.strictSame(uni.instances.map((i) => [i.unicastSource, i.unicastPeers, i.family]),
    [['198.51.100.2', ['198.51.100.3'], 4], ['2001:db8:60::2', ['2001:db8:60::3'], 6]]);
  t.equal(uni.instances[0].acceptMode, true);

  const v2 = loadConfig(examples('v2-auth.yaml'));
  t.strictSame(v2.instances.map((i) => [i.version, i.advertIntervalCs, i.preempt, i.auth]), [[2, 100, false, { type: 'pass', password: 's3cret' }]]);
  t.equal(v2.realtime.enabled, false);
});
