// vigil against the real Debian keepalived (2.2.7), in both roles and both directions:
// VRRP v2 (PASS auth), v3 IPv4 and IPv6, multicast and unicast. One master at a time, and the
// VIP follows the priorities.
import t from 'tap';
import { skipReason, nsExec } from '../net/netns.ts';
import { holders, until, lab } from '../helpers/agents.ts';
import { needTools } from '../helpers/tools.ts';

const skip = skipReason() ?? needTools('keepalived');

interface Scenario {
  name: string; version: 2 | 3; family: 4 | 6; unicast?: boolean; interval: string; kaInterval: string; vrid: number;
  kaExtra?: string;   // more lines in keepalived's vrrp_instance
}
const scenarios: Scenario[] = [
  { name: 'v3 IPv4 multicast', version: 3, family: 4, interval: '100ms', kaInterval: '0.1', vrid: 61 },
  { name: 'v3 IPv4 unicast', version: 3, family: 4, unicast: true, interval: '100ms', kaInterval: '0.1', vrid: 62 },
  { name: 'v3 IPv6 multicast', version: 3, family: 6, interval: '100ms', kaInterval: '0.1', vrid: 63 },
  // Unicast over IPv6 to the hosts' global addresses (2001:db8::/64). keepalived sends its IPv6
  // unicast adverts with the kernel's default hop limit, 64 (keepalived.conf(5): "unicast_ttl:
  // Specify the unicast TTL/HLIM for sending unicast adverts"; for IPv4 it sends 255), and
  // accepts any on receipt unless min_ttl / max_ttl are set. vigil takes less than 255 on a
  // unicast instance from a configured peer only (core-wasm/assembly/fsm.ts ttlAccepted), so
  // both work, with keepalived's default and with unicast_ttl 255:
  { name: 'v3 IPv6 unicast', version: 3, family: 6, unicast: true, interval: '100ms', kaInterval: '0.1', vrid: 65, kaExtra: '  unicast_ttl 255\n' },
  { name: 'v3 IPv6 unicast, keepalived\'s default hop limit', version: 3, family: 6, unicast: true, interval: '100ms', kaInterval: '0.1', vrid: 66 },
  { name: 'v2 IPv4 PASS auth', version: 2, family: 4, interval: '1s', kaInterval: '1', vrid: 64 },
];

// The unicast addresses: IPv4, or the hosts' global IPv6 ones.
const unicastAddr = (s: Scenario, h: { v4: string; v6: string }) => s.family === 6 ? h.v6 : h.v4;

function kaConf(s: Scenario, priority: number, self: { v4: string; v6: string }, peer: { v4: string; v6: string }): string {
  const vip = s.family === 6 ? '2001:db8::100/64' : '192.0.2.100/24';
  return `global_defs {
  router_id ka
  vrrp_version ${s.version}
  vrrp_garp_master_delay 0
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id ${s.vrid}
  priority ${priority}
  advert_int ${s.kaInterval}
${s.kaExtra ?? ''}${s.version === 2 ? '  authentication {\n    auth_type PASS\n    auth_pass s3cret\n  }\n' : ''}${s.unicast ? `  unicast_src_ip ${unicastAddr(s, self)}\n  unicast_peer {\n    ${unicastAddr(s, peer)}\n  }\n` : ''}  virtual_ipaddress {
    ${vip}
  }
}
`;
}

for (const s of scenarios) {
  t.test(`interop with keepalived: ${s.name}`, { skip, timeout: 120_000 }, async (t) => {
    const l = lab(t, `vka${s.vrid}-`, ['k', 'v']);
    const [k, v] = l.hosts;
    const ns = l.ns;
    const VIP = s.family === 6 ? '2001:db8::100' : '192.0.2.100';
    const takeoverMs = s.version === 2 ? 6000 : 2000;
    const vigil = (priority: number) => l.vigil(v, `v${priority}.yaml`, {
      priority, version: s.version, interval: s.interval, vrid: s.vrid, family: s.family,
      vips: [s.family === 6 ? '2001:db8::100/64' : '192.0.2.100/24'],
      peers: s.unicast ? [unicastAddr(s, k)] : undefined, auth: s.version === 2 ? 's3cret' : undefined,
    });

    // Phase 1: keepalived (150) is master, vigil (100) backs it up.
    let ka = l.keepalived(k, 'ka150', kaConf(s, 150, k, v));
    await until(() => holders(ns, VIP).length === 1 && holders(ns, VIP)[0] === k.ns, takeoverMs + 3000, 'keepalived to hold the VIP');
    let vg = vigil(100);
    await vg.waitLine(/"to":"backup"/, 10_000);
    await new Promise((r) => setTimeout(r, s.version === 2 ? 4000 : 1000));
    t.same(holders(ns, VIP), [k.ns], 'keepalived master, vigil backup: one VIP holder');
    t.notOk(vg.lines.some((l) => /"to":"master"/.test(l)), 'vigil stayed backup');
    t.ok(vg.lines.every((l) => !/"level":"(warn|error)"/.test(l)), 'vigil logged no warning');
    // It heard keepalived, and dropped none of its adverts (drops are counted, not logged).
    const st = JSON.parse(nsExec(v.ns, 'curl', '-sf', '--max-time', '3', 'http://127.0.0.1:9110/status'));
    t.ok(st.instances[0].counters.advertsReceived > 0, `vigil received ${st.instances[0].counters.advertsReceived} adverts`);
    t.same(st.drops, {}, 'vigil dropped no packet');

    // keepalived stops (priority 0): vigil takes over.
    await ka.stop();
    await until(() => holders(ns, VIP).length === 1 && holders(ns, VIP)[0] === v.ns, takeoverMs, 'vigil to take over from keepalived');
    t.pass('vigil took over when keepalived stopped');

    // Phase 2: keepalived comes back at 50: it must stay backup behind vigil (100).
    ka = l.keepalived(k, 'ka50', kaConf(s, 50, k, v));
    await ka.waitLine(/Entering BACKUP STATE/, 10_000);
    await new Promise((r) => setTimeout(r, s.version === 2 ? 4000 : 1000));
    t.same(holders(ns, VIP), [v.ns], 'vigil master, keepalived backup: one VIP holder');
    t.notOk(ka.lines.some((l) => /Entering MASTER STATE/.test(l)), 'keepalived stayed backup');

    // vigil stops: keepalived takes over, and vigil left nothing behind.
    t.equal(await vg.stop(), 0, 'vigil exited 0 on SIGTERM');
    await until(() => holders(ns, VIP).length === 1 && holders(ns, VIP)[0] === k.ns, takeoverMs, 'keepalived to take over from vigil');
    t.pass('keepalived took over when vigil stopped');

    // Phase 3: vigil at 200 preempts keepalived.
    vg = vigil(200);
    await until(() => holders(ns, VIP).length === 1 && holders(ns, VIP)[0] === v.ns, takeoverMs + 5000, 'vigil (200) to preempt keepalived (50)');
    await ka.waitLine(/Entering BACKUP STATE/, 3000);
    t.pass('vigil preempted keepalived, which went back to backup');
    // keepalived's adverts from before the preemption: counted, none dropped.
    const end = JSON.parse(nsExec(v.ns, 'curl', '-sf', '--max-time', '3', 'http://127.0.0.1:9110/status'));
    t.same(end.drops, {}, 'vigil (200) dropped no packet');
  });
}
