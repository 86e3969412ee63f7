// keepalived with a config, and vigil with that config imported (`vigil import`), as a VRRP
// pair in namespaces: one master, and the VIP moves both ways. The configs are the shapes the
// real files have: VRRP with scripts and PASS auth (v2), unicast, a sync group, and a
// virtual_server beside its instance.
import t from 'tap';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { nsExec, skipReason } from '../net/netns.ts';
import { holders, lab, until } from '../helpers/agents.ts';
import { needTools } from '../helpers/tools.ts';
import { importKeepalived } from '../../host/import/index.ts';

const skip = skipReason() ?? needTools('keepalived');

interface Side { v4: string; dir: string }
interface Scenario {
  name: string;
  vips: string[];
  takeoverMs: number;
  conf: (priority: number, self: Side, peer: Side) => string;
  // How keepalived is made to lose: its tracked script fails (a file), or it stops.
  lose: 'script' | 'stop';
}

// keepalived refuses to run scripts without script security; weight 0 in a sync group, where
// keepalived ignores a weighted track (and so does the import).
const script = (s: Side, weight = -60) => `vrrp_script chk_app {
  script "/bin/sh -c 'test ! -e ${s.dir}/fail'"
  interval 1
  weight ${weight}
  rise 1
  fall 1
}
`;

const scenarios: Scenario[] = [
  {
    name: 'VRRP v2 with a script and PASS auth', vips: ['192.0.2.100'], takeoverMs: 8000, lose: 'script',
    conf: (p, s) => `global_defs {
  router_id side
  vrrp_garp_master_delay 0
  enable_script_security
  script_user root
}
${script(s)}vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 71
  priority ${p}
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass s3cret
  }
  virtual_ipaddress {
    192.0.2.100/24 dev eth0
  }
  track_script {
    chk_app
  }
}
`,
  },
  {
    name: 'unicast, VRRPv3', vips: ['192.0.2.100'], takeoverMs: 4000, lose: 'stop',
    conf: (p, s, peer) => `global_defs {
  vrrp_version 3
}
vrrp_instance VI_U {
  state MASTER
  interface eth0
  virtual_router_id 72
  priority ${p}
  advert_int 0.1
  unicast_src_ip ${s.v4}
  unicast_peer {
    ${peer.v4}
  }
  virtual_ipaddress {
    192.0.2.100/24
  }
}
`,
  },
  {
    name: 'a sync group: both addresses move together', vips: ['192.0.2.100', '192.0.2.101'], takeoverMs: 4000, lose: 'script',
    conf: (p, s) => `global_defs {
  vrrp_version 3
  enable_script_security
  script_user root
}
${script(s, 0)}vrrp_sync_group G {
  group {
    VI_A
    VI_B
  }
}
vrrp_instance VI_A {
  interface eth0
  virtual_router_id 73
  priority ${p}
  advert_int 0.1
  virtual_ipaddress {
    192.0.2.100/24
  }
  track_script {
    chk_app
  }
}
vrrp_instance VI_B {
  interface eth0
  virtual_router_id 74
  priority ${p}
  advert_int 0.1
  virtual_ipaddress {
    192.0.2.101/24
  }
}
`,
  },
  {
    // vigil lists excluded addresses in its adverts, keepalived does not: each must still take
    // the other's adverts.
    name: 'virtual_ipaddress_excluded, VRRPv2', vips: ['192.0.2.100', '192.0.2.102'], takeoverMs: 8000, lose: 'stop',
    conf: (p) => `vrrp_instance VI_X {
  interface eth0
  virtual_router_id 76
  priority ${p}
  advert_int 1
  virtual_ipaddress {
    192.0.2.100/24
  }
  virtual_ipaddress_excluded {
    192.0.2.102/24
  }
}
`,
  },
  {
    name: 'an instance with a virtual_server', vips: ['192.0.2.100'], takeoverMs: 4000, lose: 'stop',
    conf: (p) => `global_defs {
  vrrp_version 3
}
vrrp_instance VI_LB {
  interface eth0
  virtual_router_id 75
  priority ${p}
  advert_int 0.1
  virtual_ipaddress {
    192.0.2.100/24
  }
}
virtual_server 192.0.2.100 80 {
  delay_loop 5
  lb_algo wrr
  lb_kind DR
  protocol TCP
  real_server 192.0.2.21 80 {
    weight 2
    TCP_CHECK {
      connect_timeout 2
    }
  }
}
`,
  },
];

scenarios.forEach((s, n) => {
  t.test(`keepalived and imported vigil side by side: ${s.name}`, { skip, timeout: 120_000 }, async (t) => {
    const l = lab(t, `vsb${n}-`, ['k', 'v']);
    const [k, v] = l.hosts;
    const side = (h: { v4: string }, name: string): Side => {
      const dir = join(l.work.dir, name);
      mkdirSync(dir);
      chmodSync(l.work.dir, 0o755); chmodSync(dir, 0o755);
      return { v4: h.v4, dir };
    };
    const K = side(k, 'k'), V = side(v, 'v');
    const one = (who: string) => s.vips.every((vip) => { const h = holders(l.ns, vip); return h.length === 1 && h[0] === who; });

    // vigil's file: keepalived's config at priority 100, imported.
    const original = l.work.file('vigil-side.conf', s.conf(100, V, K));
    const imported = importKeepalived(original);
    t.equal(imported.template, undefined);
    t.comment(`imported with ${imported.left.length} line(s) left out${imported.left.length ? `: ${imported.left.join('; ')}` : ''}`);
    const yaml = l.work.file('vigil.yaml', imported.yaml);

    let ka = l.keepalived(k, 'ka', s.conf(150, K, V));
    await until(() => one(k.ns), s.takeoverMs + 4000, 'keepalived (150) to hold the VIP');
    const vg = l.vigilFile(v, yaml);
    await vg.waitLine(/"to":"backup"/, 15_000);
    await new Promise((r) => setTimeout(r, 1500));
    t.ok(one(k.ns), 'keepalived master, vigil backup: one holder of each VIP');
    t.notOk(vg.lines.some((x) => /"to":"master"/.test(x)), 'vigil stayed backup');

    // keepalived loses: the VIP moves to vigil.
    if (s.lose === 'script') writeFileSync(join(K.dir, 'fail'), '');
    else await ka.stop();
    const toVigil = await until(() => one(v.ns), s.takeoverMs, 'the VIP to move to vigil', 20);
    t.pass(`keepalived ${s.lose === 'script' ? 'tracked script failed' : 'stopped'}: vigil took the VIP in ${(toVigil / 1000).toFixed(1)} s`);

    // keepalived back at 50 stays backup behind vigil: it takes vigil's adverts.
    if (s.lose === 'stop') {
      const low = l.keepalived(k, 'ka50', s.conf(50, K, V));
      await low.waitLine(/Entering BACKUP STATE/, 10_000);
      await new Promise((r) => setTimeout(r, 3500));
      t.ok(one(v.ns), 'keepalived (50) backup behind vigil (100): one holder');
      t.notOk(low.lines.some((x) => /Entering MASTER STATE/.test(x)), 'keepalived never became master');
      await low.stop();
    }
    // And back: keepalived at 150 again preempts vigil (100).
    if (s.lose === 'script') rmSync(join(K.dir, 'fail'));
    else ka = l.keepalived(k, 'ka2', s.conf(150, K, V));
    const back = await until(() => one(k.ns), s.takeoverMs + 4000, 'the VIP to move back to keepalived', 20);
    t.pass(`and back to keepalived in ${(back / 1000).toFixed(1)} s`);
    await new Promise((r) => setTimeout(r, 1000));
    t.ok(one(k.ns), 'one master still');
  });
});

// Two of the real files (../shared/kaconf/, read in place), with only what ties them to their
// network changed: the virtual address, and the script path to one of the test's.
const corpus = fileURLToPath(new URL('../../../shared/kaconf/', import.meta.url));
const real: { file: string; edit: (text: string, s: Side, priority: number) => string; lose: 'script' | 'stop' }[] = [
  {
    // vrrp_script (weight 0: FAULT), nopreempt, PASS auth, notify hooks; v2.
    file: '36-ceph-nfs-ha.conf', lose: 'script',
    // (keepalived's own --config-test refuses its empty notification_email block: gone.)
    edit: (x, s, p) => x.replace(/notification_email \{\s*\}/, '').replace('192.168.1.13/24', '192.0.2.100/24').replace('"/etc/keepalived/check_nfs.sh"', `"/bin/sh -c 'test ! -e ${s.dir}/fail'"`)
      .replace('priority 100', `priority ${p}`).replace('router_id NFS_HA_222', 'router_id NFS_HA_222\n    enable_script_security\n    script_user root'),
  },
  // A bare use_vmac: both routers' VIP on a VMAC (macvlan) interface; v2.
  { file: '34-vmac-minimal.conf', lose: 'stop', edit: (x, _s, p) => x.replace('10.0.1.1', '192.0.2.100').replace('priority 10', `priority ${p}`) },
];

real.forEach((f, n) => {
  const why = !existsSync(join(corpus, f.file)) ? `${corpus} is absent: the real keepalived configs live outside the project` : undefined;
  t.test(`keepalived and imported vigil side by side, a real file: ${f.file}`, { skip: skip ?? why, timeout: 120_000 }, async (t) => {
    const l = lab(t, `vsr${n}-`, ['k', 'v']);
    const [k, v] = l.hosts;
    chmodSync(l.work.dir, 0o755);
    const side = (name: string): Side => { const dir = join(l.work.dir, name); mkdirSync(dir); chmodSync(dir, 0o755); return { v4: '', dir }; };
    const K = side('k'), V = side('v');
    const text = readFileSync(join(corpus, f.file), 'utf8');
    // On any interface: with use_vmac the VIP is on the VMAC one.
    const has = (ns: string) => (JSON.parse(nsExec(ns, 'ip', '-j', 'addr', 'show')) as { addr_info?: { local: string }[] }[]).some((i) => (i.addr_info ?? []).some((a) => a.local === '192.0.2.100'));
    const one = (who: string) => { const h = l.ns.filter(has); return h.length === 1 && h[0] === who; };
    const imported = importKeepalived(l.work.file('vigil-side.conf', f.edit(text, V, 100)));
    t.comment(`imported with ${imported.left.length} line(s) left out`);
    const vg = l.vigilFile(v, l.work.file('vigil.yaml', imported.yaml));
    let ka = l.keepalived(k, 'ka', f.edit(text, K, 150));
    await until(() => one(k.ns) || one(v.ns), 15_000, 'a master');
    await vg.waitLine(/checker running|"to":"(backup|master)"/, 15_000);
    // nopreempt (36): whoever came first may hold it; keepalived at 150 takes it when vigil stops.
    if (!one(k.ns)) {
      await vg.stop();
      await until(() => one(k.ns), 8000, 'keepalived to hold the VIP');
      t.fail('vigil held the VIP before keepalived: restarted it');
      return;
    }
    t.ok(one(k.ns), 'keepalived master, vigil backup: one holder');
    if (f.lose === 'script') writeFileSync(join(K.dir, 'fail'), '');
    else await ka.stop();
    const to = await until(() => one(v.ns), 10_000, 'the VIP to move to vigil', 20);
    t.pass(`keepalived ${f.lose === 'script' ? 'script failed (FAULT)' : 'stopped'}: vigil took the VIP in ${(to / 1000).toFixed(1)} s`);
    if (f.lose === 'script') rmSync(join(K.dir, 'fail'));
    else ka = l.keepalived(k, 'ka2', f.edit(text, K, 150));
    if (/nopreempt/.test(text)) {
      // keepalived stays backup (nopreempt); it takes the VIP back when vigil goes.
      await new Promise((r) => setTimeout(r, 3000));
      t.ok(one(v.ns), 'nopreempt: keepalived back, vigil keeps the VIP');
      await vg.stop();
    }
    const back = await until(() => one(k.ns), 12_000, 'the VIP to move back to keepalived', 20);
    t.pass(`and back to keepalived in ${(back / 1000).toFixed(1)} s`);
  });
});
