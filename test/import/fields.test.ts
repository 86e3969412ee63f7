// vigil import, keyword by keyword, on keepalived configs written here: each value lands where
// it should, the grammar's corners read as keepalived reads them, what cannot map is listed.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { importKeepalived } from '../../host/import/index.ts';
import { parseConfig } from '../../host/config/load.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-import-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => { const p = join(dir, name); mkdirSync(join(p, '..'), { recursive: true }); writeFileSync(p, text); return p; };
type Any = Record<string, any>;   // eslint-disable-line @typescript-eslint/no-explicit-any
const imp = (text: string, name = 'keepalived.conf', configId = 'lb1') => {
  const r = importKeepalived(file(name, text), { configId });
  return { ...r, doc: parse(r.yaml) as Any };
};

const VRRP = `! Configuration File for keepalived
global_defs{
   router_id LB1   # the id
   vrrp_version 2
   script_user keepalived_script
}
$IFACE=eth1
$VIP=192.0.2.100
vrrp_script chk_haproxy {
    script "/usr/bin/pidof haproxy"
    interval 2
    timeout 1
    weight -20
    rise 2
    fall 3
}
vrrp_script chk_pipe {
\tscript "/bin/sh -c 'ss -ltn | grep -q \\":80 \\"'"
\tinterval 5
\tweight 10
}
vrrp_track_process haproxy_up {
    process haproxy
    quorum 1
    quorum_max 4
    delay 2.5
}
track_file maint {
    file /run/maint
    weight -5
}
vrrp_instance VI_1
{
    state MASTER
    priority 150
    interface \${IFACE}
    virtual_router_id 01
    advert_int 1
    nopreempt
    authentication {
        auth_type PASS
        auth_pass s3cret
    }
    unicast_src_ip 192.0.2.1
    unicast_peer {
        192.0.2.2
    }
    virtual_ipaddress {
        \${VIP}/24 dev eth1
        192.0.2.101 label eth1:vip
    }
    virtual_ipaddress_excluded {
        192.0.2.102
    }
    track_interface eth2
    track_script {
        chk_haproxy
        chk_pipe
    }
    track_process {
        haproxy_up weight -30
    }
    track_file {
        maint
    }
    garp_master_repeat 3
    garp_master_refresh 60
    notify_master "/etc/keepalived/master.sh"
    notify_backup /etc/keepalived/backup.sh backup
    @lb2 priority 50
    @^lb2 preempt_delay 0
}
vrrp_instance VI_2 {
    interface eth1
    virtual_router_id 2
    use_vmac
    virtual_ipaddress {
        198.51.100.10
    }
    track_interface {
        eth3 weight 15
    }
}
vrrp_sync_group G1 {
    group {
        VI_1
        VI_2
    }
    sync_group_tracking_weight
    notify_master /etc/keepalived/group.sh
}`.replace(/\n/g, '\r\n');

t.test('vrrp: every field where it belongs, CRLF, tabs, no final newline', async (t) => {
  const r = imp(VRRP);
  t.equal(r.template, undefined);
  const [i1, i2] = r.doc.instances;
  t.match(i1, {
    name: 'VI_1', interface: 'eth1', vrid: 1, version: 2, preempt: false,
    virtualAddresses: ['192.0.2.100/24', '192.0.2.101', '192.0.2.102'],
    unicastPeers: ['192.0.2.2'], unicastSource: '192.0.2.1',
    auth: { type: 'pass', password: 's3cret' },
    garp: { count: 3, refresh: '60s' },
    notify: { master: '/etc/keepalived/master.sh' },
  });
  // chk_pipe's +10 is in the base, taken off while it fails.
  t.equal(i1.priority, 160, '150 + the positive weight 10');
  t.strictSame(i1.track.interfaces, [{ name: 'eth2', weight: 0 }], 'track_interface on one line; no weight = FAULT');
  t.strictSame(i1.track.checks, [
    { name: 'chk_haproxy', weight: -20 }, { name: 'chk_pipe', weight: -10 }, { name: 'haproxy_up', weight: -30 }, { name: 'maint', weight: -5 },
  ]);
  t.notOk('preemptDelay' in i1, '@^lb2 line read for config id lb1 (preempt_delay 0), @lb2 line skipped');
  t.match(i2, { name: 'VI_2', interface: 'eth1', vrid: 2, priority: 115, vmac: true, version: 2, track: { interfaces: [{ name: 'eth3', weight: -15 }] } });
  t.strictSame(r.doc.syncGroups, [{ name: 'G1', instances: ['VI_1', 'VI_2'] }]);
  const checks = Object.fromEntries(r.doc.checks.map((c: Any) => [c.name, c]));
  t.strictSame(checks.chk_haproxy, { name: 'chk_haproxy', type: 'exec', command: ['/usr/bin/pidof', 'haproxy'], user: 'keepalived_script', interval: '2s', timeout: '1s', rise: 2, fall: 3 });
  t.match(checks.chk_pipe, { type: 'exec', shell: true, command: [`/bin/sh -c 'ss -ltn | grep -q ":80 "'`], interval: '5s', timeout: '5s', rise: 1, fall: 1 });
  t.strictSame(checks.haproxy_up, { name: 'haproxy_up', type: 'process', process: 'haproxy', min: 1, max: 4, delay: '2500ms', forkDelay: '2500ms' });
  t.strictSame(checks.maint, { name: 'maint', type: 'file', path: '/run/maint' });
  // Where each came from.
  t.match(r.yaml, /# from keepalived\.conf:32 vrrp_instance VI_1\n/);
  t.match(r.yaml, /# from keepalived\.conf:9 vrrp_script chk_haproxy\n/);
  // What is left out, each at its line:col.
  t.strictSame(r.left.map((l) => l.replace(/ \(.*/, '')), [
    'keepalived.conf:3:4: router_id: not supported',
    'keepalived.conf:50:21: label: not supported',
    'keepalived.conf:69:5: notify_backup: not supported',
    'keepalived.conf:90:5: notify_master: not supported',
  ]);
  // And vigil takes it.
  const c = parseConfig(r.yaml, 'imported.yaml');
  t.equal(c.instances.length, 2);
  t.equal(c.checks.length, 4);
});

t.test('a sync group without sync_group_tracking_weight: weighted tracks ignored, as keepalived does', async (t) => {
  const r = imp(VRRP.replace('    sync_group_tracking_weight\r\n', ''));
  const [i1, i2] = r.doc.instances;
  t.equal(i1.priority, 150, 'no positive weight added');
  t.strictSame(i1.track, { interfaces: [{ name: 'eth2', weight: 0 }] }, 'only weight-0 tracks stay');
  t.notOk(i2.track, 'VI_2\'s eth3 weight 15 went');
  t.match(r.yaml, /# chk_haproxy \(weight -20\) left out, as keepalived ignores a weighted track in a sync group/);
});

t.test('@id lines: kept or left out by the config id, a block with its opening line', async (t) => {
  const text = `@lb1 vrrp_instance ONE {
  interface e0
  virtual_router_id 1
  virtual_ipaddress {
    192.0.2.1
  }
}
@^lb1 vrrp_instance TWO {
  interface e0
  virtual_router_id 2
  virtual_ipaddress {
    192.0.2.2
  }
}
`;
  t.strictSame(imp(text, 'cond.conf', 'lb1').doc.instances.map((i: Any) => i.name), ['ONE']);
  t.strictSame(imp(text, 'cond.conf', 'lb2').doc.instances.map((i: Any) => i.name), ['TWO']);
  t.strictSame(imp(text, 'cond.conf', 'lb2').left, [], 'nothing of ONE read for lb2');
});

t.test('parameters: recursive, redefined, and a definition of several lines holding a block (keepalived.conf(5))', async (t) => {
  const r = imp(`$BASE=192.0.2.\${SUB}
$SUB=1
$INSTANCE= \\
vrrp_instance VI_\${NUM} { \\
    interface e\${NUM} \\
    virtual_router_id \${NUM} \\
    @lb1 priority 130 \\
    @lb2 priority 120 \\
    virtual_ipaddress { \\
        \${BASE}0\${NUM}/24 \\
    } \\
}
$NUM=1
$INSTANCE
$SUB=2
$NUM=2
$INSTANCE
`, 'params.conf', 'lb2');
  t.equal(r.template, undefined);
  t.strictSame(r.doc.instances.map((i: Any) => [i.name, i.interface, i.vrid, i.priority, i.virtualAddresses]), [
    ['VI_1', 'e1', 1, 120, ['192.0.2.101/24']],
    ['VI_2', 'e2', 2, 120, ['192.0.2.202/24']],
  ]);
  t.strictSame(r.left, []);
});

t.test('two keywords on one line: keepalived reads the first and ignores the rest; so does vigil, and says so', async (t) => {
  // keepalived 2.2.7 runs this instance at priority 255 (MASTER without a priority).
  const r = imp('vrrp_instance V {\n  interface e0\n  state MASTER priority 200\n  virtual_router_id 9\n  virtual_ipaddress {\n    192.0.2.9\n  }\n}\n', 'two.conf');
  t.equal(r.doc.instances[0].priority, 255);
  t.match(r.left, [/^two\.conf:3:16: priority: not supported \(keepalived reads one keyword a line and ignores this one after "state"/]);
});

t.test('a comment may start inside a word, as keepalived reads it', async (t) => {
  const r = imp('vrrp_instance V {\n  interface e0\n  priority 150#x\n  virtual_router_id 7\n  authentication {\n    auth_type PASS\n    auth_pass ab!cd\n  }\n  virtual_ipaddress {\n    192.0.2.7\n  }\n}\n', 'cm.conf');
  t.match(r.doc.instances[0], { priority: 150, auth: { password: 'ab' } });
});

t.test('include with a relative glob, read in place', async (t) => {
  file('inc/conf.d/a.conf', 'vrrp_instance A {\n interface e0\n virtual_router_id 7\n virtual_ipaddress {\n  203.0.113.7\n }\n}\n');
  file('inc/conf.d/b.conf', 'vrrp_instance B {\n interface e0\n virtual_router_id 8\n virtual_ipaddress {\n  203.0.113.8\n }\n}\n');
  const r = imp('global_defs {\n}\ninclude conf.d/*.conf\n', 'inc/keepalived.conf');
  t.strictSame(r.doc.instances.map((i: Any) => i.name), ['A', 'B']);
  t.match(r.yaml, /# from conf\.d\/a\.conf:1 vrrp_instance A/);
  t.strictSame(r.left, []);
  const none = imp('include nothing/*.conf\n', 'inc/none.conf');
  t.match(none.left[0], /^none\.conf:1:1: include: not supported \(nothing\/\*\.conf matches no file/);
});

t.test('virtual_server: addresses, groups, fwmark, checks and their timing', async (t) => {
  const r = imp(`virtual_server_group WEB {
  192.0.2.10-11 80
  fwmark 3
}
virtual_server group WEB {
  delay_loop 10
  lvs_sched wrr
  lvs_method dr
  protocol TCP
  persistence_timeout
  persistence_granularity 255.255.255.0
  quorum 2
  hysteresis 1
  alpha
  quorum_up /etc/keepalived/up.sh
  sorry_server 198.51.100.99 8080
  real_server 198.51.100.1 80 {
    weight 3
    inhibit_on_failure
    HTTP_GET {
      url {
        path /health
        status_code 200
        digest 640205b7b0fc66c1ea91c463fac6334d
      }
      connect_timeout 2
      retry 2
      delay_before_retry 1
    }
  }
  real_server 198.51.100.2 80 {
    SSL_GET {
      url {
        path /
      }
      connect_port 8443
    }
  }
}
virtual_server 192.0.2.20 25 {
  lb_algo rr
  lb_kind NAT
  real_server 198.51.100.3 25 {
    SMTP_CHECK {
      connect_timeout 3
    }
  }
  real_server 198.51.100.4 25 {
    MISC_CHECK {
      misc_path "/usr/local/bin/check_smtp --port 25"
      misc_timeout 5
      misc_dynamic
    }
  }
  real_server 198.51.100.5 25 {
    TCP_CHECK {
      connect_timeout 1
    }
  }
}
virtual_server 192.0.2.30 53 {
  protocol UDP
  lb_kind TUN
}
`);
  const vs = r.doc.virtualServers;
  t.strictSame(vs.map((v: Any) => [v.address ?? `fwmark ${v.fwmark}`, v.port]), [['192.0.2.10', 80], ['192.0.2.11', 80], ['fwmark 3', undefined], ['192.0.2.20', 25]]);
  t.match(vs[0], {
    protocol: 'tcp', scheduler: 'wrr', forwarding: 'dr', persistence: { timeout: '360s', netmask: '255.255.255.0' },
    quorum: 2, hysteresis: 1, alpha: true, notify: { quorumUp: '/etc/keepalived/up.sh' }, sorryServer: '198.51.100.99:8080',
  });
  t.match(vs[0].realServers, [{ address: '198.51.100.1', port: 80, weight: 3, inhibitOnFailure: true }, { address: '198.51.100.2', port: 80, weight: 1 }]);
  t.notOk('port' in vs[2].realServers[0] && vs[2].realServers[0].port === undefined);
  t.match(vs[3], { scheduler: 'rr', forwarding: 'nat' });
  const checks = Object.fromEntries(r.doc.checks.map((c: Any) => [c.name, c]));
  const http = checks[vs[0].realServers[0].check];
  t.match(http, { type: 'http', target: 'http://198.51.100.1:80/health', interval: '10s', timeout: '2s', rise: 1, fall: 3, expect: { status: [200], digest: 'md5:640205b7b0fc66c1ea91c463fac6334d' } });
  t.match(checks[vs[0].realServers[1].check], { type: 'http', target: 'https://198.51.100.2:8443/', timeout: '5s', interval: '10s', fall: 2 });
  const [smtp, misc, tcp] = vs[3].realServers.map((x: Any) => checks[x.check]);
  t.match(smtp, { type: 'tcp', target: '198.51.100.3:25', expect: { banner: '^220' }, interval: '60s', timeout: '3s' });
  t.match(misc, { type: 'exec', command: ['/usr/local/bin/check_smtp', '--port', '25'], dynamic: true, timeout: '5s', fall: 1 });
  t.match(tcp, { type: 'tcp', target: '198.51.100.5:25', timeout: '1s', fall: 2 });
  t.match(r.left.join('\n'), /keepalived\.conf:63:3: lb_kind: not supported \(TUN: vigil forwards by nat or dr/);
  t.match(r.left.join('\n'), /keepalived\.conf:61:1: virtual_server: not supported/);
});

t.test('templates are refused at their line:col', async (t) => {
  const cases: [string, string, number, number][] = [
    ['vrrp_instance X {\n  interface {{ iface }}\n}\n', '{{ iface }}', 2, 13],
    ['{% for i in x %}\n', '{% for i in x %}', 1, 1],
    ['vrrp_instance X {\n  virtual_ipaddress {\n    <VIP>\n  }\n}\n', '<VIP>', 3, 5],
    ['vrrp_instance X {\n  interface #IFACE#\n}\n', '#IFACE#', 2, 13],
    ['vrrp_instance X {\n  virtual_ipaddress {\n    ${vip}\n  }\n}\n', '${vip}', 3, 5],
    ['vrrp_instance X {\n  interface SET_DEV\n  virtual_router_id SET_VRID\n  virtual_ipaddress {\n 192.0.2.1\n }\n}\n', 'SET_DEV', 2, 13],
  ];
  for (const [text, token, line, col] of cases) {
    const r = imp(text, 'tpl.conf');
    t.match(r.template, { token, line, col }, token);
  }
  t.match(imp('  {# a Jinja comment #}\n', 'tpl.conf').template, { token: '{# a Jinja comment #}', line: 1, col: 3 });
  t.equal(imp('global_defs {#keepalived\'s brace, then a comment\n}\n', 'ok.conf').template, undefined, '"{#" after a keyword is a brace and a comment');
  t.equal(imp('$V=eth0\nvrrp_instance X {\n interface ${V}\n virtual_router_id 1\n virtual_ipaddress {\n  192.0.2.1\n }\n}\n').template, undefined, 'a defined ${NAME} is no template');
});

t.test('what keepalived does that vigil cannot: listed with the reason, never dropped', async (t) => {
  const r = imp(`vrrp_instance V {
  interface e0
  virtual_router_id 300
  virtual_ipaddress {
    not-an-address
  }
  track_script {
    missing
  }
  authentication {
    auth_type AH
    auth_pass x
  }
  smtp_alert
  dont_track_primary
  mcast_src_ip 192.0.2.9
}
static_routes {
  192.0.2.0/24 via 192.0.2.254
}
`);
  t.strictSame(r.counts.instances, 0);
  const l = r.left.join('\n');
  for (const re of [/:3:3: virtual_router_id: not supported \(300 is not a VRID/, /:5:5: virtual_ipaddress: not supported \(not-an-address is not an IP address\)/,
    /:8:5: track_script: not supported \(missing is not defined/, /:10:3: auth_type AH: not supported/, /:14:3: smtp_alert: not supported/,
    /:15:3: dont_track_primary: not supported/, /:16:3: mcast_src_ip: not supported/, /:18:1: static_routes: not supported/, /:1:1: vrrp_instance V: not supported/]) {
    t.match(l, re);
  }
});
