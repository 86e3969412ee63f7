// vrrp_instance, vrrp_sync_group and global_defs into vigil's instances, syncGroups and defaults.
import type { Stmt, Word } from './lex.ts';
import { ARITY, Ctx, int, num, placeholder, secs, splitLine, vigilName, type Item } from './context.ts';
import type { Globals, Tracked } from './scripts.ts';
import { commandOf } from './scripts.ts';

const INSTANCE_KEYS = new Set([
  'state', 'interface', 'virtual_router_id', 'priority', 'advert_int', 'nopreempt', 'preempt', 'preempt_delay',
  'authentication', 'unicast_src_ip', 'unicast_peer', 'virtual_ipaddress', 'virtual_ipaddress_excluded', 'use_vmac',
  'accept', 'no_accept', 'version', 'garp_master_delay', 'garp_master_repeat', 'garp_master_refresh',
  'garp_master_refresh_repeat', 'garp_interval', 'gna_interval', 'track_interface', 'track_script', 'track_process',
  'track_file', 'notify_master', 'notify_backup', 'notify_fault', 'notify_stop', 'notify', 'smtp_alert',
  'dont_track_primary', 'mcast_src_ip', 'debug', 'lvs_sync_daemon_interface',
]);

// Why the rest are left out: what keepalived does with them, and what to do in vigil.
export const INSTANCE_REFUSED: Record<string, string> = {
  smtp_alert: 'vigil sends no e-mail: run a notify hook that does',
  dont_track_primary: 'vigil always tracks the instance\'s own interface (down = FAULT)',
  mcast_src_ip: 'multicast adverts leave from the interface\'s own primary address',
  lvs_sync_daemon_interface: 'vigil does not run the IPVS sync daemon',
  lvs_sync_daemon_inteface: 'vigil does not run the IPVS sync daemon',
  debug: 'logging is set with vigil run --debug',
  garp_master_delay: 'vigil sends one burst on becoming master (garp.count), then garp.refresh: no delayed second burst',
  virtual_routes: 'vigil manages addresses only: add routes from a notify hook',
  virtual_rules: 'vigil manages addresses only: add rules from a notify hook',
  vmac_xmit_base: 'vigil sends adverts from the VMAC interface',
  notify: 'the generic notify gets "TYPE NAME STATE PRIORITY" arguments: vigil runs notify.master/backup/fault without arguments (the state is in the environment); point them at a wrapper',
  higher_prio_send_advert: 'not implemented in vigil',
  garp_lower_prio_repeat: 'not implemented in vigil',
  garp_lower_prio_delay: 'not implemented in vigil',
  strict_mode: 'vigil has no strict mode',
  native_ipv6: 'the address family follows the virtual addresses',
  promote_secondaries: 'not implemented in vigil',
  unicast_ttl: 'not implemented in vigil',
  unicast_fault_no_peer: 'not implemented in vigil',
  dpdk_interface: 'a DPVS fork keyword: not keepalived\'s',
  track_bfd: 'vigil has no BFD',
  kernel_rx_buf_size: 'not needed by vigil',
};

export interface Instance {
  item: Item;
  name: string;               // keepalived's
  vname: string;              // vigil's
  stmt: Stmt;
  vips: number;
}

function addr(text: string): { address: string; len: number | undefined; family: 4 | 6 } | undefined {
  const m = /^([0-9a-fA-F:.]+)(?:\/(\d{1,3}))?$/.exec(text);
  if (!m) return undefined;
  const a = m[1];
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(a);
  if (v4 && v4.slice(1).every((o) => Number(o) <= 255)) {
    const len = m[2] === undefined ? undefined : Number(m[2]);
    return len !== undefined && len > 32 ? undefined : { address: a, len, family: 4 };
  }
  if (a.includes(':') && /^[0-9a-fA-F:]+$/.test(a) && URL.canParse(`http://[${a}]/`)) {
    const len = m[2] === undefined ? undefined : Number(m[2]);
    return len !== undefined && len > 128 ? undefined : { address: a.toLowerCase(), len, family: 6 };
  }
  return undefined;
}
export { addr as parseKaAddr };

// Clear the host bits vigil refuses (keepalived keeps them as the address, with the prefix as
// its subnet): 192.0.2.5/24 stays 192.0.2.5/24 in vigil too, so this only checks the form.
function vipText(a: { address: string; len: number | undefined }): string {
  return a.len === undefined ? a.address : `${a.address}/${a.len}`;
}

export function readGlobals(ctx: Ctx, s: Stmt, g: Globals): void {
  for (const k of s.kids ?? []) {
    const v = k.args[0];
    switch (k.key) {
      case 'vrrp_version': { const n = int(v); if (n === 2 || n === 3) g.version = n; else ctx.skip(k, k.key, `${v?.text} is not 2 or 3`); break; }
      case 'script_user': g.scriptUser = v?.text ?? null; if (k.args[1]) ctx.skip(k.args[1], k.key, 'vigil runs scripts with the user\'s own group'); break;
      case 'enable_script_security': break;   // vigil checks every script it runs as root (exec checks)
      case 'default_interface': g.defaultInterface = v?.text ?? null; break;
      case 'vrrp_garp_master_repeat': { const n = int(v); if (n !== undefined && n >= 1) g.garp.count = n; else ctx.skip(k, k.key, 'not a count'); break; }
      case 'vrrp_garp_interval': case 'vrrp_gna_interval': { const n = num(v); if (n !== undefined) g.garp.interval = secs(n); else ctx.skip(k, k.key, 'not a number of seconds'); break; }
      case 'vrrp_garp_master_refresh': { const n = int(v); if (n !== undefined) g.garp.refresh = secs(n); else ctx.skip(k, k.key, 'not a number of seconds'); break; }
      case 'vrrp_garp_master_refresh_repeat': {
        const n = int(v);
        if (n === undefined || n !== (g.garp.count ?? 5)) ctx.skip(k, k.key, `vigil repeats the whole burst (garp.count ${g.garp.count ?? 5}) at each refresh, not ${v?.text ?? 'nothing'}`);
        break;
      }
      default: ctx.skip(k, k.key, GLOBAL_REFUSED[k.key] ?? INSTANCE_REFUSED[k.key] ?? 'a global_defs keyword with no meaning in vigil');
    }
  }
}

export const GLOBAL_REFUSED: Record<string, string> = {
  router_id: 'vigil has no router id: its logs and /status carry the host name',
  notification_email: 'vigil sends no e-mail: run a notify hook that does',
  notification_email_from: 'vigil sends no e-mail', smtp_server: 'vigil sends no e-mail', smtp_connect_timeout: 'vigil sends no e-mail',
  smtp_alert: 'vigil sends no e-mail',
  lvs_id: 'vigil has no LVS sync id',
  vrrp_strict: 'vigil has no strict mode: VRRPv3 without auth is RFC 5798 as is',
  vrrp_skip_check_adv_addr: 'vigil always checks adverts the RFC\'s way',
  vrrp_iptables: 'vigil sets no iptables rules for VIPs',
  vrrp_garp_master_delay: 'vigil sends one burst on becoming master, then garp.refresh: no delayed second burst',
  notify_fifo: 'vigil has no notify FIFO: /status and /metrics carry state changes',
  notify_fifo_script: 'vigil has no notify FIFO',
  vrrp_notify_fifo: 'vigil has no notify FIFO', vrrp_notify_fifo_script: 'vigil has no notify FIFO',
  max_auto_priority: 'the VRRP process\'s priority is realtime.priority',
  vrrp_startup_delay: 'not implemented in vigil',
  dynamic_interfaces: 'not implemented in vigil',
};

// What the instances may track, by keepalived name.
export interface Trackables {
  scripts: Map<string, Tracked>; processes: Map<string, Tracked>; files: Map<string, Tracked>;
  // Instances in a sync group -> whether the group keeps track weights (sync_group_tracking_weight).
  grouped: Map<string, boolean>;
}

export function readInstance(ctx: Ctx, s: Stmt, g: Globals, t: Trackables, taken: Set<string>): Instance | undefined {
  const nameW = s.args[0];
  if (!nameW || !s.kids) { ctx.skip(s, s.key, 'a vrrp_instance needs a name and a { } block'); return undefined; }
  const comments = [`from ${ctx.from(s)} vrrp_instance ${nameW.text}`];
  let vname = vigilName(nameW.text, `VI_${s.line}`);
  if (/^\d/.test(vname)) vname = `VI_${vname}`;
  for (let i = 2; taken.has(vname); i++) vname = `${vigilName(nameW.text, 'VI')}_${i}`;
  taken.add(vname);
  // Two keywords on one line ("state MASTER priority 200"): keepalived reads the first and
  // ignores the rest (2.2.7: priority stays unset, so 255 for a MASTER). The same here, said.
  const kids = s.kids.map((k) => {
    const [head, ...rest] = splitLine(k, INSTANCE_KEYS, ARITY[k.key] ?? 1);
    for (const x of rest) ctx.skip(x, x.key, `keepalived reads one keyword a line and ignores this one after "${k.key}" (so does vigil): put it on a line of its own if it is meant`);
    return head;
  });
  let iface: string | undefined = g.defaultInterface ?? undefined, vrid: number | undefined, priority: number | undefined, state: string | undefined;
  let version: 2 | 3 = g.version, advert = 1, advertW: Word | undefined, preempt: boolean | undefined, preemptDelay: number | undefined, accept: boolean | undefined;
  let auth: Item | undefined, source: string | undefined, vmac = false;
  const peers: string[] = [];
  const vips: { text: string; family: 4 | 6; w: Word; excluded: boolean }[] = [];
  const garp: Item = {};
  if (g.garp.count) garp.count = g.garp.count;
  if (g.garp.interval) garp.interval = g.garp.interval;
  if (g.garp.refresh && g.garp.refresh !== '0s') garp.refresh = g.garp.refresh;
  const trackIfs: { name: string; weight: number; w: Stmt }[] = [];
  const trackChecks: { tr: Tracked; weight: number; reverse: boolean; w: Stmt }[] = [];
  const notify: Item = {};
  let placeholders = 0;
  const ph = (w: Word) => { if (placeholder(w.text)) { ctx.placeholders.push({ file: w.file, line: w.line, col: w.col, token: w.text }); placeholders++; } };
  for (const k of kids) {
    const v = k.args[0];
    switch (k.key) {
      case 'state': {
        const st = v?.text.toUpperCase();
        if (st === 'MASTER' || st === 'BACKUP') state = st;
        else { if (v) ph(v); ctx.skip(k, k.key, `${v?.text ?? 'nothing'} is not MASTER or BACKUP`); }
        break;
      }
      case 'interface': if (v) { ph(v); iface = v.text; } break;
      case 'virtual_router_id': { const n = int(v); if (n !== undefined && n >= 1 && n <= 255) vrid = n; else { if (v) ph(v); ctx.skip(k, k.key, `${v?.text ?? 'nothing'} is not a VRID (1..255)`); } break; }
      case 'priority': { const n = int(v); if (n !== undefined && n >= 1 && n <= 255) priority = n; else { if (v) ph(v); ctx.skip(k, k.key, `${v?.text ?? 'nothing'} is not a priority (1..255)`); } break; }
      case 'advert_int': { const n = num(v); if (n !== undefined && n > 0) { advert = n; advertW = v; } else { if (v) ph(v); ctx.skip(k, k.key, `${v?.text ?? 'nothing'} is not a number of seconds`); } break; }
      case 'version': { const n = int(v); if (n === 2 || n === 3) version = n; else ctx.skip(k, k.key, `${v?.text} is not 2 or 3`); break; }
      case 'nopreempt': preempt = false; break;
      case 'preempt': preempt = true; break;
      case 'preempt_delay': { const n = num(v); if (n !== undefined && n >= 0 && n <= 1000) preemptDelay = n; else ctx.skip(k, k.key, `${v?.text ?? 'nothing'} is not 0..1000 seconds`); break; }
      case 'accept': accept = true; break;
      case 'no_accept': accept = false; break;
      case 'use_vmac': vmac = true; if (v) ctx.skip(v, 'use_vmac', `the name ${v.text}: vigil names the VMAC interface itself (vrrp.VRID, as keepalived does by default)`); break;
      case 'authentication': {
        let type: string | undefined, pass: Word | undefined;
        for (const a of k.kids ?? []) {
          if (a.key === 'auth_type') type = a.args[0]?.text.toUpperCase();
          else if (a.key === 'auth_pass') pass = a.args[0];
          else ctx.skip(a, a.key, 'not an authentication keyword');
        }
        if (type === 'AH') ctx.skip(k, 'auth_type AH', 'IPsec AH authentication was removed from VRRP (RFC 3768): use PASS, or none with VRRPv3');
        else if (type === 'PASS' && pass) {
          if (pass.text.length > 8) comments.push(`auth_pass cut to 8 characters, as keepalived sends it`);
          auth = { type: 'pass', password: pass.text.slice(0, 8) };
        } else ctx.skip(k, k.key, 'needs auth_type PASS and auth_pass');
        break;
      }
      case 'unicast_src_ip': {
        const a = v && addr(v.text);
        if (a) source = a.address; else { if (v) ph(v); ctx.skip(k, k.key, `${v?.text ?? 'nothing'} is not an IP address`); }
        break;
      }
      case 'unicast_peer':
        for (const p of k.kids ?? (v ? [{ ...k, key: v.text, args: k.args.slice(1) }] : [])) {
          const a = addr(p.key);
          if (!a) { ph({ text: p.key, quoted: false, file: p.file, line: p.line, col: p.col }); ctx.skip(p, 'unicast_peer', `${p.key} is not an IP address`); continue; }
          if (p.args.length) ctx.skip(p.args[0], 'unicast_peer', `${p.args.map((x) => x.text).join(' ')}: vigil takes the peer's address only`);
          if (!peers.includes(a.address)) peers.push(a.address);
        }
        break;
      case 'virtual_ipaddress': case 'virtual_ipaddress_excluded':
        for (const p of k.kids ?? []) {
          const a = addr(p.key);
          const w: Word = { text: p.key, quoted: false, file: p.file, line: p.line, col: p.col };
          if (!a) { ph(w); ctx.skip(p, k.key, `${p.key} is not an IP address`); continue; }
          let ok = true;
          for (let i = 0; i < p.args.length; i++) {
            const opt = p.args[i].text, val = p.args[i + 1]?.text;
            if (opt === 'dev') {
              i++;
              if (val !== undefined && val !== (iface ?? val)) { ctx.skip(p.args[i - 1], 'dev', `${p.key} dev ${val}: vigil adds an instance's addresses on its interface (${iface}): make an instance on ${val}`); ok = false; }
            } else if (opt === 'label') { i++; ctx.skip(p.args[i - 1], 'label', `${p.key} label ${val}: vigil sets no address labels`); }
            else if (opt === 'brd' || opt === 'broadcast') i++;
            else if (opt === 'scope') { i++; if (val !== 'global') { ctx.skip(p.args[i - 1], 'scope', `scope ${val}: vigil adds addresses with global scope`); ok = false; } }
            else if (opt === 'no_track') { /* vigil tracks no single address */ }
            else { ctx.skip(p.args[i], k.key, `${opt}: not an address option vigil takes`); break; }
          }
          if (ok) vips.push({ text: vipText(a), family: a.family, w, excluded: k.key === 'virtual_ipaddress_excluded' });
        }
        break;
      case 'garp_master_repeat': { const n = int(v); if (n !== undefined && n >= 1 && n <= 100) garp.count = n; else ctx.skip(k, k.key, 'not a count (1..100)'); break; }
      case 'garp_interval': case 'gna_interval': { const n = num(v); if (n !== undefined && n <= 10) garp.interval = secs(n); else ctx.skip(k, k.key, 'not 0..10 seconds'); break; }
      case 'garp_master_refresh': { const n = int(v); if (n === 0) delete garp.refresh; else if (n !== undefined && n >= 1) garp.refresh = secs(n); else ctx.skip(k, k.key, 'not a number of seconds'); break; }
      case 'garp_master_refresh_repeat': {
        const n = int(v);
        if (n !== undefined && n !== (garp.count ?? 5)) ctx.skip(k, k.key, `vigil repeats the whole burst (garp.count ${garp.count ?? 5}) at each refresh, not ${n}`);
        break;
      }
      case 'track_interface':
        for (const p of k.kids ?? (v ? [{ ...k, key: v.text, args: k.args.slice(1) }] : [])) {
          const w = weightOf(ctx, p, 0, -253, 253);
          if (w !== undefined) trackIfs.push({ name: p.key, weight: w.weight, w: p });
        }
        break;
      case 'track_script': case 'track_process': case 'track_file': {
        const table = k.key === 'track_script' ? t.scripts : k.key === 'track_process' ? t.processes : t.files;
        for (const p of k.kids ?? (v ? [{ ...k, key: v.text, args: k.args.slice(1) }] : [])) {
          const tr = table.get(p.key);
          if (!tr) { ctx.skip(p, k.key, `${p.key} is not defined (no ${k.key === 'track_script' ? 'vrrp_script' : k.key === 'track_process' ? 'vrrp_track_process' : 'track_file'} ${p.key} in the file): keepalived skips it too`); continue; }
          const w = weightOf(ctx, p, tr.weight, -254, 254);
          if (w !== undefined) trackChecks.push({ tr, weight: w.weight, reverse: w.reverse ?? tr.reverse, w: p });
        }
        break;
      }
      case 'notify_master': case 'notify_backup': case 'notify_fault': case 'notify_stop': {
        const hook = hookPath(ctx, k);
        if (hook) notify[k.key.slice(7)] = hook;
        break;
      }
      default:
        ctx.skip(k, k.key, INSTANCE_REFUSED[k.key] ?? 'not a vrrp_instance keyword vigil knows');
    }
  }
  const skipAll = (why: string) => { ctx.skip(s, `vrrp_instance ${nameW.text}`, why); return undefined; };
  if (placeholders) return skipAll('it holds template placeholders');
  if (!iface) return skipAll('it has no interface');
  if (vrid === undefined) return skipAll('it has no virtual_router_id');
  // One family per vigil instance: the first address's. keepalived sends IPv6 instances as v3.
  const fam = vips.find((x) => !x.excluded)?.family ?? vips[0]?.family;
  const kept = vips.filter((x) => {
    if (x.family === fam) return true;
    ctx.skip(x.w, x.excluded ? 'virtual_ipaddress_excluded' : 'virtual_ipaddress', `${x.text} is IPv${x.family} and the instance's other addresses IPv${fam}: vigil keeps one family per instance; make a second instance for it`);
    return false;
  });
  if (!kept.length) return skipAll('no virtual address vigil can add (see the lines above)');
  if (kept.length > 20) { for (const x of kept.slice(20)) ctx.skip(x.w, 'virtual_ipaddress', 'over 20 addresses: vigil carries 20 per instance; split them across instances'); kept.length = 20; }
  if (kept.some((x) => x.excluded)) comments.push('virtual_ipaddress_excluded: vigil lists these in its adverts too');
  if (fam === 6 && version === 2) version = 3;
  if (auth && version === 3) { ctx.skip(s, 'authentication', 'VRRPv3 has no authentication (RFC 5798): keepalived ignores it for v3 too'); auth = undefined; }

  // keepalived ignores a weighted track of an instance in a sync group unless the group says
  // sync_group_tracking_weight: only weight 0 (FAULT) counts there. The same here.
  const strict = t.grouped.get(nameW.text) === false;
  if (strict) {
    for (const x of [...trackIfs, ...trackChecks]) {
      if (x.weight === 0) continue;
      comments.push(`${x.w.key} (weight ${x.weight}) left out, as keepalived ignores a weighted track in a sync group without sync_group_tracking_weight`);
    }
    trackIfs.splice(0, trackIfs.length, ...trackIfs.filter((x) => x.weight === 0));
    trackChecks.splice(0, trackChecks.length, ...trackChecks.filter((x) => x.weight === 0));
  }
  // keepalived adds a positive weight while a track is up; vigil adds a track's weight while
  // it fails. Same priorities: the base goes up by the positive weights, each becomes negative.
  let base = priority ?? (state === 'MASTER' ? 255 : 100);
  if (priority === undefined && state === 'MASTER') comments.push('state MASTER without a priority: keepalived makes it the address owner (255)');
  if (state) comments.push(`state ${state}: vigil has no initial state; the priority decides`);
  const pos = trackIfs.filter((x) => x.weight > 0).reduce((n, x) => n + x.weight, 0)
    + trackChecks.filter((x) => x.tr.kind !== 'file' && x.weight > 0).reduce((n, x) => n + x.weight, 0);
  if (pos && base < 255) {
    comments.push(`priority ${base} + ${pos} (the positive track weights, taken off while a track fails)`);
    if (base + pos > 254) comments.push(`${base + pos} is over 254: capped, so a failing track takes this instance lower than keepalived would (keepalived caps the sum instead)`);
    base = Math.min(254, base + pos);
  }
  const item: Item = { '#': comments, name: vname, interface: iface, vrid, priority: base, version };
  if (version === 2 && (!Number.isInteger(advert) || advert > 255)) {
    ctx.skip(advertW ?? s, 'advert_int', `${advert}s: VRRPv2 adverts are whole seconds (1..255); use vrrp_version 3 for shorter ones`);
  } else if (version === 3 && (advert * 100 % 1 !== 0 || advert > 40.95)) {
    ctx.skip(advertW ?? s, 'advert_int', `${advert}s: VRRPv3 adverts are 0.01..40.95s in steps of 0.01s`);
  } else if (advert !== 1) item.advertInterval = secs(advert);
  if (preempt === false && base !== 255) item.preempt = false;
  else if (preempt === false) ctx.skip(s, 'nopreempt', 'priority 255 is the address owner, which always preempts');
  if (preemptDelay && preempt !== false) item.preemptDelay = secs(preemptDelay);
  if (accept !== undefined) item.acceptMode = accept;
  item.virtualAddresses = kept.map((x) => x.text);
  const famOf = (a: string) => (a.includes(':') ? 6 : 4);
  if (peers.length) {
    const p = peers.filter((a) => famOf(a) === fam);
    for (const a of peers) if (famOf(a) !== fam) ctx.skip(s, 'unicast_peer', `${a} is IPv${famOf(a)} and the virtual addresses IPv${fam}: vigil's peers are of the instance's family`);
    if (p.length) item.unicastPeers = p;
    else ctx.skip(s, 'unicast_peer', 'no peer of the instance\'s family left: vigil sends multicast');
    if (source && p.length) {
      if (famOf(source) !== fam) ctx.skip(s, 'unicast_src_ip', `${source} is IPv${famOf(source)} and the virtual addresses IPv${fam}`);
      else if (p.includes(source)) ctx.skip(s, 'unicast_src_ip', `${source} is also a peer: vigil lists only the other routers`);
      else item.unicastSource = source;
    }
  } else if (source) ctx.skip(s, 'unicast_src_ip', 'without unicast_peer keepalived sends multicast from it: vigil sends multicast from the interface\'s own address');
  if (auth) item.auth = auth;
  if (vmac) item.vmac = true;
  if (Object.keys(garp).length) item.garp = garp;
  const track: Item = {};
  if (trackIfs.length) track.interfaces = trackIfs.map((x) => ({ name: x.name, weight: x.weight > 0 && base < 255 ? -x.weight : x.weight }));
  const checks: Item[] = [];
  for (const x of trackChecks) {
    if (x.reverse) { ctx.skip(x.w, x.w.key, 'reverse: vigil has no reversed tracking'); continue; }
    if (base === 255 && x.weight !== 0) comments.push(`${x.tr.item.name}: the address owner (255) ignores track weights, as keepalived does`);
    x.tr.used = true;
    const weight = x.tr.kind === 'file' ? x.weight : x.weight > 0 && base < 255 ? -x.weight : x.weight;
    if (checks.some((c) => c.name === x.tr.item.name)) { ctx.skip(x.w, x.w.key, `${x.w.key} is tracked twice`); continue; }
    checks.push({ name: x.tr.item.name as string, weight });
  }
  if (checks.length) track.checks = checks;
  if (Object.keys(track).length) item.track = track;
  if (Object.keys(notify).length) item.notify = notify;
  return { item, name: nameW.text, vname, stmt: s, vips: kept.length };
}

// `NAME weight W [reverse]` in a track_* block.
function weightOf(ctx: Ctx, p: Stmt, dflt: number, lo: number, hi: number): { weight: number; reverse?: boolean } | undefined {
  if (!p.args.length) return { weight: dflt };
  if (p.args[0].text !== 'weight') { ctx.skip(p.args[0], p.key, `${p.args[0].text}: expected "weight N"`); return undefined; }
  const n = int(p.args[1]);
  if (n === undefined || n < lo || n > hi) { ctx.skip(p.args[1] ?? p, 'weight', `${p.args[1]?.text ?? 'nothing'} is not a weight (${lo}..${hi})`); return undefined; }
  const r = p.args[2]?.text;
  return { weight: n, reverse: r === 'reverse' ? true : r === 'noreverse' || r === 'no_reverse' ? false : undefined };
}

// A notify hook: vigil runs one executable by its absolute path, without a shell or arguments.
export function hookPath(ctx: Ctx, k: Stmt): string | undefined {
  const v = k.args[0];
  if (!v) { ctx.skip(k, k.key, 'names no script'); return undefined; }
  const words = v.quoted ? commandOf(v.text).command : k.args.map((w) => w.text);
  const extra = v.quoted ? k.args.slice(1) : [];
  if (commandOf(v.text).shell && v.quoted) { ctx.skip(k, k.key, 'a shell command: vigil runs a hook without a shell; put it in a script'); return undefined; }
  if (words.length !== 1) { ctx.skip(k, k.key, `"${words.join(' ')}" has arguments: vigil runs a hook without arguments (the state is in its environment); put them in a wrapper script`); return undefined; }
  if (!words[0].startsWith('/')) { ctx.skip(k, k.key, `${words[0]} is not an absolute path`); return undefined; }
  if (extra.length) ctx.skip(extra[0], k.key, `${extra.map((w) => w.text).join(' ')}: vigil runs hooks as root; drop privileges in the script`);
  return words[0];
}

export function readSyncGroup(ctx: Ctx, s: Stmt, byName: Map<string, Instance>): Item | undefined {
  const nameW = s.args[0];
  if (!nameW || !s.kids) { ctx.skip(s, s.key, 'a vrrp_sync_group needs a name and a { } block'); return undefined; }
  const members: string[] = [];
  for (const k of s.kids) {
    if (k.key === 'group') {
      for (const m of k.kids ?? k.args.map((w) => ({ key: w.text, args: [], kids: null, file: w.file, line: w.line, col: w.col }))) {
        const inst = byName.get(m.key);
        if (!inst) { ctx.skip(m, 'group', `${m.key} is not an instance vigil imported`); continue; }
        if (inst.item.__group) { ctx.skip(m, 'group', `${m.key} is already in sync group ${inst.item.__group}`); continue; }
        members.push(inst.vname);
      }
    } else if (k.key === 'sync_group_tracking_weight') { /* read with the members (index.ts) */ } else ctx.skip(k, k.key, k.key.startsWith('notify') ? 'vigil has no sync group hooks: each instance\'s notify runs, and its members move together' : 'not a vrrp_sync_group keyword vigil knows');
  }
  if (!members.length) { ctx.skip(s, `vrrp_sync_group ${nameW.text}`, 'no member left'); return undefined; }
  const name = vigilName(nameW.text, `G_${s.line}`);
  for (const m of members) [...byName.values()].find((i) => i.vname === m)!.item.__group = name;
  return { '#': [`from ${ctx.from(s)} vrrp_sync_group ${nameW.text}`], name, instances: members };
}
