// Each kind of problem: its exact place (the key for an unknown key, the value for a bad value)
// and its message, which says what is wrong and the fix.
import t, { type Test } from 'tap';
import { at, instance, lines, problemsOf } from './util.ts';

// One case: a file and the problems it must produce, in order. Each problem is placed by the
// text it points at (the nth occurrence when the text repeats).
function expect(t: Test, text: string, ...expected: [string | [string, number], string][]) {
  t.same(problemsOf(text), expected.map(([needle, message]) => at(text, needle, message)), text.split('\n')[0]);
}

const one = (...extra: string[]) => lines('instances:', ...instance('VI_1', 51, '192.0.2.100', extra));

t.test('the locator itself: line and column are 1-based', async (t) => {
  const text = one('prority: 150');
  const [p] = problemsOf(text);
  t.equal(p.line, 6);
  t.equal(p.col, 5);
  t.equal(p.file, 'test.yaml');
});

t.test('unknown keys: the key, with a suggestion', async (t) => {
  expect(t, one('prority: 150'), ['prority', 'unknown key "prority" (did you mean "priority"?)']);
  expect(t, one('Priority: 150'), ['Priority', 'unknown key "Priority" (did you mean "priority"?)']);
  expect(t, one('advert_interval: 1s'), ['advert_interval', 'unknown key "advert_interval" (did you mean "advertInterval"?)']);
  expect(t, one('virtual_router_id: 5'), ['virtual_router_id', 'unknown key "virtual_router_id" (did you mean "vrid"?)']);
  expect(t, one('nopreempt: true'), ['nopreempt', 'unknown key "nopreempt": write "preempt: false" instead']);
  expect(t, one('garp: { cuont: 3 }'), ['cuont', 'unknown key "cuont" (did you mean "count"?)']);
  expect(t, one('frobnicate: 1'), ['frobnicate',
    'unknown key "frobnicate" in an instance: the keys are name, interface, vrid, priority, version, advertInterval, preempt, '
    + 'preemptDelay, acceptMode, virtualAddresses, unicastPeers, unicastSource, auth, vmac, garp, track, notify']);
  expect(t, lines('instance:', ...instance('A', 1, '192.0.2.1')), ['instance:', 'unknown key "instance" (did you mean "instances"?)'],
    ['instance:', 'no instances: add an "instances:" list with at least one instance (see examples/vigil.yaml), or "virtualServers:" for a load balancer alone']);
  expect(t, one(': 5'), ['    : |5', 'a key is missing before the ":" of 5']);
  expect(t, one('<<: { priority: 5 }'), ['<<', 'merge keys (<<) are not supported: write the keys out']);
  expect(t, one('priority: 150', 'priority: 160'), ['priority: 160', 'duplicate key "priority" (first on line 6): keep one of them']);
});

t.test('numbers: type and range', async (t) => {
  expect(t, one('priority: 300'), ['300', 'priority 300 is out of range 1..255']);
  expect(t, one('priority: 0'), ['priority: |0', 'priority 0 is out of range 1..255']);
  expect(t, one('priority: high'), ['high', 'priority must be a whole number 1..255, not "high"']);
  expect(t, one('priority: 150.5'), ['150.5', 'priority must be a whole number 1..255, not 150.5']);
  expect(t, one('priority: "150"'), ['"150"', 'priority must be a whole number 1..255, not "150" (write it without quotes)']);
  expect(t, one('priority:'), ['priority:', 'priority is empty: write a whole number 1..255']);
  expect(t, lines('instances:', ...instance('A', 256, '192.0.2.1')), ['256', 'vrid 256 is out of range 1..255']);
  expect(t, one('version: 4'), ['4', 'version 4 is not a VRRP version: write 3 (RFC 5798, IPv4 and IPv6) or 2 (RFC 3768, IPv4)']);
  expect(t, one('version: -1'), ['-1', 'version -1 is not a VRRP version: write 3 (RFC 5798, IPv4 and IPv6) or 2 (RFC 3768, IPv4)']);
  expect(t, one('version: v3'), ['v3', 'version must be a whole number 2..3, not "v3"']);
  expect(t, one('preempt: "yes"'), ['"yes"', 'preempt must be true or false, not "yes"']);
  expect(t, one('vmac: 1'), ['vmac: |1', 'vmac must be true or false, not 1']);
  expect(t, one('track: { interfaces: [{ name: e1, weight: 255 }] }'), ['255', 'weight 255 is out of range -254..254']);
  expect(t, one('garp: { count: 0 }'), ['0 }', 'garp.count 0 is out of range 1..100']);
});

t.test('required keys: at the start of the instance', async (t) => {
  const text = lines('instances:', '  - name: VI_1', '    vrid: 5');
  expect(t, text, ['name:', 'instance VI_1 has no interface: add "interface: eth0"'],
    ['name:', 'instance VI_1 has no virtualAddresses: add "virtualAddresses: [192.0.2.100/24]"']);
  const anon = lines('instances:', '  - interface: e0', '    vrid: 5', '    virtualAddresses: [192.0.2.1]');
  expect(t, anon, ['interface', 'instance 1 has no name: add "name: VI_1"']);
  expect(t, lines('instances:', '  - VI_1'), ['VI_1', 'instance 1 must be a map, e.g. { name: VI_1, interface: eth0, vrid: 51, virtualAddresses: [192.0.2.100/24] }, not "VI_1"']);
  expect(t, lines('instances: []'), ['[]', 'instances is empty: list at least one instance']);
  expect(t, lines('instances:', '  VI_1: { vrid: 1 }'), ['VI_1', 'instances must be a list of instances ("- name: VI_1 ..."), not a map']);
});

t.test('names: empty, too long, odd characters, duplicates', async (t) => {
  expect(t, lines('instances:', ...instance('""', 1, '192.0.2.1')), ['""', 'name is empty: give 1..64 letters, digits, "_", "." or "-", e.g. VI_1']);
  const long = 'x'.repeat(65);
  expect(t, lines('instances:', ...instance(long, 1, '192.0.2.1')), [long, 'name is 65 characters long; at most 64']);
  expect(t, lines('instances:', ...instance('"a b"', 1, '192.0.2.1')), ['"a b"', 'name "a b" has " ": use only letters, digits, "_", "." and "-"']);
  expect(t, lines('instances:', ...instance('"a/b"', 1, '192.0.2.1')), ['"a/b"', 'name "a/b" has "/": use only letters, digits, "_", "." and "-"']);
  t.same(problemsOf(lines('instances:', ...instance('x'.repeat(64), 1, '192.0.2.1'), 'status: 3')).length, 1, '64 characters are fine');
  const dup = lines('instances:', ...instance('VI_1', 1, '192.0.2.1'), ...instance('VI_1', 2, '192.0.2.2'));
  expect(t, dup, [['VI_1', 2], 'instance name "VI_1" is already used (line 2): names must be unique']);
});

t.test('interface names as Linux takes them', async (t) => {
  const iface = (name: string) => lines('instances:', '  - name: A', `    interface: ${name}`, '    vrid: 1', '    virtualAddresses: [192.0.2.1]');
  expect(t, iface('eth0:1'), ['eth0:1', 'interface "eth0:1" is not an interface name: ":" makes it an address label, not an interface; write "eth0"']);
  expect(t, iface('abcdefghijklmnop'), ['abcdefghijklmnop', 'interface "abcdefghijklmnop" is not an interface name: it is 16 characters long; Linux allows 15']);
  expect(t, iface('"a/b"'), ['"a/b"', 'interface "a/b" is not an interface name: Linux interface names are 1..15 characters without "/", ":" or spaces']);
  expect(t, iface('".."'), ['".."', 'interface ".." is not an interface name: Linux interface names are 1..15 characters without "/", ":" or spaces']);
  expect(t, iface('0'), ['0\n', 'interface must be an interface name such as eth0, not 0 (quote it if you mean the text)']);
  t.same(iface('abcdefghijklmno').length > 0 && problemsOf(lines(iface('abcdefghijklmno'), 'realtime: 3')).length, 1, '15 characters are fine');
});

t.test('advertInterval by version', async (t) => {
  expect(t, one('version: 2', 'advertInterval: 1500ms'), ['1500ms', 'advertInterval 1500ms: VRRPv2 intervals are whole seconds (1s..255s)']);
  expect(t, one('version: 2', 'advertInterval: 256s'), ['256s', 'advertInterval 256s: VRRPv2 intervals are whole seconds (1s..255s)']);
  expect(t, one('advertInterval: 5ms'), ['5ms', 'advertInterval 5ms: VRRPv3 intervals are 10ms..40.95s in steps of 10ms']);
  expect(t, one('advertInterval: 15ms'), ['15ms', 'advertInterval 15ms: VRRPv3 intervals are 10ms..40.95s in steps of 10ms']);
  expect(t, one('advertInterval: 41s'), ['41s', 'advertInterval 41s: VRRPv3 intervals are 10ms..40.95s in steps of 10ms']);
  expect(t, one('advertInterval: 1'), ['advertInterval: |1', 'advertInterval: duration "1" needs a unit (ms, s, m, h, d, w or y), e.g. "1s"']);
  expect(t, one('advertInterval: soon'), ['soon', 'advertInterval: "soon" is not a duration: write a number and a unit, e.g. 10ms, 1s, 2m, 720h']);
});

t.test('virtual addresses: one family, real host addresses, no repeats', async (t) => {
  expect(t, lines('instances:', ...instance('A', 1, '192.0.2.100/24, 2001:db8::1')),
    ['2001:db8::1', 'virtualAddresses mixes IPv4 and IPv6: one family per instance; make a second instance for 2001:db8::1']);
  expect(t, lines('instances:', ...instance('A', 1, '2001:db8::1, 192.0.2.1')),
    ['192.0.2.1', 'virtualAddresses mixes IPv4 and IPv6: one family per instance; make a second instance for 192.0.2.1']);
  expect(t, lines('instances:', ...instance('A', 1, '192.0.2.300')), ['192.0.2.300', 'virtual address "192.0.2.300" is not an IP address']);
  expect(t, lines('instances:', ...instance('A', 1, '192.0.2.1/33')), ['192.0.2.1/33', 'virtual address "192.0.2.1/33" has a bad prefix length: write /1../32, or leave it out for /32']);
  expect(t, lines('instances:', ...instance('A', 1, '"fe80::1%e0"')), ['"fe80', 'virtual address "fe80::1%e0" has a zone ("%"): leave it out, the instance\'s interface is the zone']);
  expect(t, lines('instances:', ...instance('A', 1, '224.0.0.18')), ['224.0.0.18', 'virtual address 224.0.0.18 is a multicast address']);
  expect(t, lines('instances:', ...instance('A', 1, '127.0.0.1')), ['127.0.0.1', 'virtual address 127.0.0.1 is a loopback address']);
  expect(t, lines('instances:', ...instance('A', 1, '"::"')), ['"::"', 'virtual address :: is the unspecified address']);
  expect(t, lines('instances:', ...instance('A', 1, '192.0.2.0/24')), ['192.0.2.0/24', '192.0.2.0/24 is the network address of its prefix: give a host address']);
  expect(t, lines('instances:', ...instance('A', 1, '192.0.2.255/24')), ['192.0.2.255/24', '192.0.2.255/24 is the broadcast address of its prefix: give a host address']);
  expect(t, lines('instances:', ...instance('A', 1, '192.0.2.1, 192.0.2.1/24')), ['192.0.2.1/24', 'virtual address 192.0.2.1 is listed twice (first on line 5): remove one']);
  expect(t, lines('instances:', ...instance('A', 1, '')), ['[]', 'virtualAddresses is empty: list at least one address, e.g. [192.0.2.100/24]']);
  const many = Array.from({ length: 21 }, (_, i) => `192.0.2.${i + 1}`).join(', ');
  expect(t, lines('instances:', ...instance('A', 1, many)), ['192.0.2.21', 'virtualAddresses has 21 addresses; an instance carries at most 20: split them across instances']);
  const shared = lines('instances:', ...instance('A', 1, '192.0.2.1'), ...instance('B', 2, '192.0.2.1/24'));
  expect(t, shared, ['192.0.2.1/24', 'virtual address 192.0.2.1 is already in instance A (line 2): an address belongs to one instance']);
});

t.test('versions and families: IPv6 needs v3, auth needs v2', async (t) => {
  expect(t, lines('instances:', ...instance('A', 1, '2001:db8::1', ['version: 2'])),
    ['2\n', 'version 2 cannot carry IPv6 addresses (VRRPv2 is IPv4 only): set version: 3']);
  expect(t, one('auth: { type: pass, password: s3cret }'),
    ['auth', 'auth is VRRPv2 only (VRRPv3 has no authentication, RFC 5798): remove it, or set version: 2']);
  expect(t, one('version: 2', 'auth: { type: pass, password: toolongpw }'),
    ['toolongpw', 'auth.password is 9 characters; VRRPv2 carries at most 8: shorten it (vigil does not cut it for you)']);
  expect(t, one('version: 2', 'auth: { type: pass }'), ['{ type', 'auth type pass needs a password: add "password: ..." (1..8 characters)']);
  expect(t, one('version: 2', 'auth: { password: x }'), ['{ password', 'auth has no type: add "type: pass" (or remove auth)']);
  expect(t, one('version: 2', 'auth: { type: ah, password: x }'), ['ah', 'auth.type "ah" is not supported: write pass or none']);
  expect(t, one('version: 2', 'auth: { type: none, password: x }'), ['password', 'auth.password is set but auth.type is none: remove it, or set type: pass']);
  expect(t, one('version: 2', 'auth: { type: pass, password: 1234 }'), ['1234', 'auth.password must be a password of 1..8 characters, not 1234 (quote it if you mean the text)']);
  expect(t, one('version: 2', 'auth: { type: pass, password: "a b" }'), ['"a b"', 'auth.password must be printable ASCII without spaces (VRRPv2 carries it as 8 bytes)']);
});

t.test('VRIDs: one per interface and family', async (t) => {
  const text = lines('instances:', ...instance('VI_1', 51, '192.0.2.1'), ...instance('VI_2', 51, '192.0.2.2'));
  expect(t, text, [['51', 2], 'VRID 51 is already used on e0 by instance VI_1 (line 2): give this instance another vrid (one VRID per interface and address family)']);
  // Another version does not make it another virtual router on the wire: same MAC, same VRID.
  const v2 = lines('instances:', ...instance('VI_1', 51, '192.0.2.1'), ...instance('VI_2', 51, '192.0.2.2', ['version: 2']));
  t.equal(problemsOf(v2).length, 1);
  // Another interface or another family is fine.
  const fine = lines('instances:', ...instance('VI_1', 51, '192.0.2.1'), ...instance('VI_6', 51, '2001:db8::1'),
    '  - name: VI_E1', '    interface: e1', '    vrid: 51', '    virtualAddresses: [192.0.2.3]', 'realtime: 0');
  t.same(problemsOf(fine).map((p) => p.message), ['realtime must be a map, e.g. { priority: 50 }, or false, not 0']);
});

t.test('unicast: never an empty list, peers of the family, a source that is not a VIP', async (t) => {
  expect(t, one('unicastPeers: []'), ['[]', 'unicastPeers is empty: list at least one peer, or remove the key for multicast']);
  expect(t, one('unicastPeers:'), ['unicastPeers', 'unicastPeers is empty: list at least one peer, or remove the key for multicast']);
  expect(t, one('unicastPeers: [2001:db8::2]'), ['2001:db8::2', 'unicast peer 2001:db8::2 is IPv6 but the virtual addresses are IPv4: peers must be of the instance\'s family']);
  expect(t, one('unicastPeers: [192.0.2.2/24]'), ['[|192.0.2.2/24', 'unicast peer "192.0.2.2/24" takes no prefix: write 192.0.2.2']);
  expect(t, one('unicastPeers: [192.0.2.100]'), ['unicastPeers: [|192.0.2.100', 'unicast peer 192.0.2.100 is one of this instance\'s virtual addresses: list the other routers\' own addresses']);
  expect(t, one('unicastPeers: [192.0.2.2, 192.0.2.2]'), [['192.0.2.2', 2], 'unicast peer 192.0.2.2 is listed twice (first on line 6): remove one']);
  expect(t, one('unicastPeers: 192.0.2.2'), ['192.0.2.2', 'unicastPeers must be a list of peer addresses, e.g. [192.0.2.2], not "192.0.2.2"']);
  expect(t, one('unicastSource: 192.0.2.1'), ['unicastSource', 'unicastSource without unicastPeers: add unicastPeers, or remove unicastSource (multicast adverts leave from the interface\'s own address)']);
  expect(t, one('unicastPeers: [192.0.2.2]', 'unicastSource: 192.0.2.100'),
    [['192.0.2.100', 2], 'unicastSource 192.0.2.100 is one of this instance\'s virtual addresses: adverts must leave from an address the host always has']);
  expect(t, one('unicastPeers: [192.0.2.2]', 'unicastSource: 192.0.2.2'),
    [['192.0.2.2', 2], 'unicastSource 192.0.2.2 is also listed in unicastPeers (item 1): list only the other routers as peers']);
  expect(t, one('unicastPeers: [192.0.2.2]', 'unicastSource: 2001:db8::9'),
    ['2001:db8::9', 'unicastSource 2001:db8::9 is IPv6 but the virtual addresses are IPv4: use an address of this interface in IPv4']);
  const peers = Array.from({ length: 17 }, (_, i) => `192.0.2.${i + 1}`).join(', ');
  expect(t, one(`unicastPeers: [${peers}]`), ['192.0.2.17', 'unicastPeers has 17 peers; at most 16']);
});

t.test('preemption that contradicts itself', async (t) => {
  expect(t, one('preempt: false', 'preemptDelay: 5s'), ['preemptDelay', 'preemptDelay has no effect with preempt: false: remove it, or set preempt: true']);
  expect(t, one('priority: 255', 'preempt: false'), ['false', 'priority 255 is the address owner, which always preempts (RFC 5798 §6.1, Preempt_Mode): remove "preempt: false" or lower the priority']);
  expect(t, one('preemptDelay: 15ms'), ['15ms', 'preemptDelay 15ms must be a multiple of 10ms']);
  expect(t, one('preemptDelay: 1001s'), ['1001s', 'preemptDelay 1001s is out of range 0s..1000s']);
});

t.test('garp, track and notify', async (t) => {
  expect(t, one('garp: { refresh: 500ms }'), ['500ms', 'garp.refresh 500ms is out of range: 0s (off) or 1s..24h']);
  expect(t, one('garp: { interval: 11s }'), ['11s', 'garp.interval 11s is out of range 0s..10s']);
  expect(t, one('garp: 5'), ['5\n', 'garp must be a map, e.g. { count: 5, interval: 10ms, refresh: 60s }, not 5']);
  expect(t, one('track: { interfaces: [{ weight: -5 }] }'), ['{ weight', 'a tracked interface has no name: add "name: eth1"']);
  expect(t, one('track: { interfaces: [{ name: e1 }, { name: e1 }] }'), [['e1', 2], 'interface e1 is tracked twice (first on line 6): keep one']);
  expect(t, one('track: { interfaces: [e1] }'), ['e1', 'a tracked interface must be a map, e.g. { name: eth1, weight: -50 }, not "e1"']);
  expect(t, one('notify: { master: scripts/up.sh }'), ['scripts/up.sh', 'notify.master "scripts/up.sh" is not an absolute path: write the full path, e.g. /etc/vigil/scripts/up.sh']);
  expect(t, one('notify: { backup: "/bin/x MASTER" }'), ['"/bin/x', 'notify.backup "/bin/x MASTER" contains white space: give the path of one executable (it runs without a shell, so no arguments here)']);
  expect(t, one('notify: { fault: /etc/vigil/ }'), ['/etc/vigil/', 'notify.fault "/etc/vigil/" is a directory: give the path of an executable']);
  expect(t, one('notify: { timeout: 0s }'), ['0s', 'notify.timeout 0s is out of range 100ms..1h']);
  expect(t, one('notify: { timeout: 2h }'), ['2h', 'notify.timeout 2h is out of range 100ms..1h']);
});

t.test('sync groups', async (t) => {
  const two = [...instance('VI_1', 1, '192.0.2.1'), ...instance('VI_2', 2, '192.0.2.2')];
  expect(t, lines('instances:', ...two, 'syncGroups:', '  - name: G1', '    instances: [VI_1, VI_3]'),
    ['VI_3', 'sync group G1 names instance "VI_3", which is not defined (did you mean "VI_1"?)']);
  expect(t, lines('instances:', ...two, 'syncGroups:', '  - name: G1', '    instances: [VI_1, web]'),
    ['web', 'sync group G1 names instance "web", which is not defined']);
  expect(t, lines('instances:', ...two, 'syncGroups:', '  - { name: G1, instances: [VI_1, VI_2] }', '  - { name: G2, instances: [VI_2] }'),
    [['VI_2', 3], 'instance VI_2 is already in sync group G1 (line 11): an instance belongs to at most one group']);
  expect(t, lines('instances:', ...two, 'syncGroups:', '  - { name: G1, instances: [VI_1, VI_1] }'),
    [['VI_1', 3], 'instance VI_1 is listed twice in sync group G1: remove one']);
  expect(t, lines('instances:', ...two, 'syncGroups:', '  - { name: G1, instances: [VI_1] }', '  - { name: G1, instances: [VI_2] }'),
    [['G1', 2], 'sync group name "G1" is already used (line 11): names must be unique']);
  expect(t, lines('instances:', ...two, 'syncGroups:', '  - { name: G1, instances: [] }'),
    ['[]', 'sync group G1 lists no instances: list at least one, or remove the group']);
  expect(t, lines('instances:', ...two, 'syncGroups:', '  - { instances: [VI_1] }'),
    ['{ instances', 'sync group 1 has no name: add "name: G1"']);
  expect(t, lines('instances:', ...two, 'syncGroups:', '  - { name: "", instances: [VI_1] }'),
    ['""', 'sync group name is empty: give 1..64 letters, digits, "_", "." or "-", e.g. VI_1']);
});

t.test('status and realtime', async (t) => {
  const top = (s: string) => lines('instances:', ...instance('A', 1, '192.0.2.1'), s);
  expect(t, top('status: { listen: "::1:9110" }'), ['"::1', 'status.listen "::1:9110": write an IPv6 address in brackets, e.g. [::1]:9110']);
  expect(t, top('status: { listen: 127.0.0.1 }'), ['127.0.0.1', 'status.listen "127.0.0.1" has no port: write host:port, e.g. 127.0.0.1:9110']);
  expect(t, top('status: { listen: "127.0.0.1:0" }'), ['"127', 'status.listen "127.0.0.1:0": the port must be 1..65535']);
  expect(t, top('status: { listen: "127.0.0.1:65536" }'), ['"127', 'status.listen "127.0.0.1:65536": the port must be 1..65535']);
  expect(t, top('status: { listen: "example.com:80" }'), ['"example', 'status.listen "example.com:80": the host must be an IPv4 address, [IPv6] or localhost (vigil resolves no names)']);
  expect(t, top('status: { listen: "[fe80::1%e0]:80" }'), ['"[fe80', 'status.listen "[fe80::1%e0]:80": "fe80::1%e0" in brackets is not an IPv6 address']);
  expect(t, top('status: { port: 9110 }'), ['port', 'unknown key "port" in status: the keys are listen, target']);
  expect(t, top('realtime: { priority: 0 }'), ['0 }', 'realtime.priority 0 is out of range 1..99']);
  expect(t, top('realtime: { priority: 100 }'), ['100', 'realtime.priority 100 is out of range 1..99']);
  expect(t, top('realtime: off'), ['off', 'realtime must be a map, e.g. { priority: 50 }, or false, not "off"']);
});

t.test('aliases: a missing anchor, and a clash at the use', async (t) => {
  expect(t, one('priority: *p'), ['*p', 'alias *p has no anchor: define &p on a value before this use']);
  const text = lines('instances:', ...instance('A', 1, '192.0.2.1', ['unicastPeers: [192.0.2.9]']),
    '  - name: B', '    interface: e0', '    vrid: 2', '    virtualAddresses: &v [192.0.2.5]',
    '  - name: C', '    interface: e1', '    vrid: 3', '    virtualAddresses: *v');
  expect(t, text, ['*v', 'virtual address 192.0.2.5 is already in instance B (line 7): an address belongs to one instance']);
});
