// virtualServers: and loadBalancer: what is read, the defaults, and every problem at its place.
import t, { type Test } from 'tap';
import { at, instance, lines, ok, problemsOf } from './util.ts';

function expect(t: Test, text: string, ...expected: [string | [string, number], string][]) {
  t.same(problemsOf(text), expected.map(([needle, message]) => at(text, needle, message)), text.split('\n').find((l) => l.startsWith('  - '))!);
}
const CHECKS = ['checks:', '  - { name: web1, type: tcp, target: "198.51.100.11:8080" }', '  - { name: web2, type: tcp, target: "198.51.100.12:8080" }'];
const file = (vs: string[], extra: string[] = []) =>
  lines(...CHECKS, 'instances:', ...instance('VI_1', 51, '192.0.2.100'), 'virtualServers:', ...vs.map((v) => `  - ${v}`), ...extra);
const RS = 'realServers: [{ address: 198.51.100.11, port: 8080, check: web1 }, { address: 198.51.100.12, port: 8080, weight: 3, check: web2 }]';

t.test('a NAT service with its defaults, a DR one on the instance\'s interface, a fwmark one', async (t) => {
  const c = ok(file([
    `{ name: web, address: 192.0.2.100, port: 80, ${RS} }`,
    `{ name: web-dr, address: 192.0.2.100, port: 443, forwarding: DR, scheduler: SH, persistence: { timeout: 10m, netmask: 255.255.255.0 }, realServers: [{ address: 198.51.100.11 }] }`,
    `{ name: marked, fwmark: 7, protocol: udp, scheduler: mh, sorryServer: "198.51.100.99:53", quorum: 1, hysteresis: 0, alpha: true, flushOnFailure: false, ${RS} }`,
    `{ name: six, address: "2001:DB8::100", port: 80, realServers: [{ address: "2001:db8::11", port: 8080, inhibitOnFailure: true }] }`,
  ], ['loadBalancer: { table: lb0, removeOnStop: false }']));
  const [web, dr, marked, six] = c.virtualServers;
  t.match(web, {
    name: 'web', family: 4, address: '192.0.2.100', port: 80, fwmark: null, protocol: 'tcp', scheduler: 'wlc', forwarding: 'nat',
    interface: null, persistence: null, quorum: 1, hysteresis: 0, sorryServer: null, alpha: false, flushOnFailure: true,
    notify: { quorumUp: null, quorumDown: null },
    realServers: [{ address: '198.51.100.11', port: 8080, weight: 1, check: 'web1', inhibitOnFailure: false }, { address: '198.51.100.12', port: 8080, weight: 3, check: 'web2' }],
  });
  t.match(dr, { forwarding: 'dr', scheduler: 'sh', interface: 'e0', persistence: { timeoutUs: 600e6, prefixLen: 24 }, realServers: [{ port: 443, check: null }] });
  t.match(marked, { address: null, port: 0, fwmark: 7, protocol: 'udp', sorryServer: { address: "198.51.100.99", port: 53 }, quorum: 1, hysteresis: 0, alpha: true, flushOnFailure: false });
  t.match(six, { family: 6, address: '2001:db8::100', realServers: [{ address: '2001:db8::11', inhibitOnFailure: true }] });
  t.strictSame(c.loadBalancer, { table: 'lb0', removeOnStop: false });
  t.strictSame(ok(file([`{ name: web, address: 192.0.2.100, port: 80, ${RS} }`])).loadBalancer, { table: 'vigil', removeOnStop: true }, 'defaults');
});

t.test('problems, each at its place, with the fix', async (t) => {
  expect(t, file([`{ name: web, address: 192.0.2.100, ${RS} }`]), ['{ name: web, ','virtual server web has no port: add "port: 80" (or use fwmark: N for a service of many ports)']);
  expect(t, file([`{ name: web, address: 192.0.2.100, port: 80, fwmark: 1, ${RS} }`]), ['fwmark', 'virtual server web: give address and port, or fwmark, not both']);
  expect(t, file([`{ name: web, address: 192.0.2.100, port: 80, forwarding: tun, ${RS} }`]),
    ['tun', 'virtual server web: forwarding "tun" is not supported on nftables: use nat or dr: tunnelling needs ipip/gre devices, which this kernel lacks, and nftables cannot encapsulate']);
  expect(t, file([`{ name: web, address: 192.0.2.100, port: 80, scheduler: lblc, ${RS} }`]),
    ['lblc', 'virtual server web: scheduler "lblc" is not supported on nftables: use lc: nftables has no locality-based scheduler; lc is the nearest']);
  expect(t, file([`{ name: web, address: 192.0.2.100, port: 80, forwarding: dr, ${RS} }`]),
    ['8080, check: web1', 'virtual server web: real server 198.51.100.11: port 8080 differs from the service\'s 80, and direct routing cannot change ports: use forwarding: nat, or port 80'],
    ['8080, weight', 'virtual server web: real server 198.51.100.12: port 8080 differs from the service\'s 80, and direct routing cannot change ports: use forwarding: nat, or port 80']);
  expect(t, file([`{ name: web, address: 192.0.2.200, port: 80, forwarding: dr, realServers: [{ address: 198.51.100.11 }] }`]),
    ['{ name: web, ','virtual server web: forwarding dr needs the interface client packets come in on: add "interface: eth0" (no instance holds 192.0.2.200 as a virtual address)']);
  expect(t, file([`{ name: web, address: 192.0.2.100, port: 80, realServers: [{ address: 198.51.100.11, check: web3 }] }`]),
    ['web3', 'virtual server web: real server 198.51.100.11: check "web3" is not defined (did you mean "web1"?)']);
  expect(t, file([`{ name: web, address: 192.0.2.100, port: 80, quorum: 3, ${RS} }`]),
    ['3,', 'virtual server web: quorum 3 but 2 real server(s): the service could never be up; lower the quorum or add real servers']);
  expect(t, file([`{ name: web, address: 192.0.2.100, port: 80, quorum: 2, hysteresis: 2, ${RS} }`]),
    ['hysteresis: |2', 'virtual server web: hysteresis 2 must be below the quorum (2): 0..1']);
  expect(t, file([`{ name: web, address: 192.0.2.100, port: 80, realServers: [{ address: "2001:db8::11", port: 80 }] }`]),
    ['{ address: "2001', 'virtual server web: real server 2001:db8::11 is IPv6 but the service is IPv4: one family per virtual server']);
  expect(t, file([`{ name: web, address: 192.0.2.100, port: 80, realServers: [{ address: 198.51.100.11 }, { address: 198.51.100.11, port: 80 }] }`]),
    ['{ address: 198.51.100.11, port', 'virtual server web: real server 198.51.100.11 port 80 is listed twice (line 10): remove one']);
  expect(t, file([`{ name: a, address: 192.0.2.100, port: 80, ${RS} }`, `{ name: b, address: 192.0.2.100, port: 80, ${RS} }`]),
    [['{ name: b', 1], 'virtual server b is the same service as a (line 10): tcp 192.0.2.100 port 80 is taken; give another address, port or protocol']);
  expect(t, file([`{ name: web, address: 192.0.2.100, port: 80, persistence: { netmask: 255.0.255.0 }, ${RS} }`]),
    ['255.0', 'virtual server web: persistence.netmask "255.0.255.0" is not a netmask: write a dotted IPv4 mask such as 255.255.255.0, or a prefix length 1..32']);
  expect(t, file([`{ name: web, address: 192.0.2.100, port: 80, notify: { quorumUp: up.sh }, ${RS} }`]),
    ['up.sh', 'virtual server web: notify.quorumUp must be an absolute path of an executable (run without a shell), not "up.sh"']);
  expect(t, file([`{ name: web, address: 192.0.2.100, port: 80, realServers: [{ address: 198.51.100.11, weight: 65536 }] }`]),
    ['65536', 'virtual server web: real server 198.51.100.11: weight 65536 is out of range 0..65535 (IPVS\'s range; 0 takes no new connections)']);
  expect(t, file([`{ name: web, address: 192.0.2.100, port: 80, realServer: [] }`]),
    ['{ name: web, ','virtual server web has no real servers: add "realServers: [{ address: 198.51.100.11, port: 8080, weight: 1, check: web1 }]"'], ['realServer:', 'unknown key "realServer" (did you mean "realServers"?)']);
  expect(t, file([`{ name: web, address: 192.0.2.100, port: 80, ${RS} }`], ['loadBalancer: { table: "my table" }']),
    ['"my table"', 'loadBalancer.table "my table" is not a table name: a letter, then up to 31 letters, digits, "_" or "-"']);
});

t.test('a quorum that could never come back, and unsafe quorum hooks, are refused', async (t) => {
  expect(t, file([`{ name: web, address: 192.0.2.100, port: 80, quorum: 2, hysteresis: 1, ${RS} }`]),
    ['hysteresis: |1', 'virtual server web: quorum 2 + hysteresis 1 = 3 healthy real servers are needed to regain a lost quorum, but there are 2: lower one of them']);
  // A world-writable hook would run as root: the same rule as notify hooks (host/config/security.ts).
  const { mkdtempSync, writeFileSync, chmodSync, rmSync } = await import('node:fs');
  const dir = mkdtempSync('/tmp/vigil-lbhook-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  const hook = `${dir}/down.sh`;
  writeFileSync(hook, '#!/bin/sh\n');
  chmodSync(hook, 0o777);
  const problems = problemsOf(file([`{ name: web, address: 192.0.2.100, port: 80, notify: { quorumDown: ${hook} }, ${RS} }`]));
  t.equal(problems.length, 1);
  t.match(problems[0].message, /writable/, problems[0].message);
});
