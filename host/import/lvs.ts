// virtual_server (and virtual_server_group) into vigil's virtualServers, and each real server's
// checker into a check of the top-level checks: list.
import type { Stmt, Word } from './lex.ts';
import { Ctx, int, num, placeholder, secs, vigilName, type Item } from './context.ts';
import { parseKaAddr, hookPath } from './vrrp.ts';
import { commandOf, type Globals } from './scripts.ts';

const SCHEDULERS = new Set(['rr', 'wrr', 'sh', 'dh', 'mh', 'lc', 'wlc']);
export const VS_REFUSED: Record<string, string> = {
  ha_suspend: 'vigil keeps the virtual server whether or not this node holds its address',
  virtualhost: 'moved into each HTTP check\'s host',
  snmp_name: 'vigil has no SNMP', smtp_alert: 'vigil sends no e-mail',
  ip_family: 'the family follows the addresses', nat_mask: 'an old keyword keepalived ignores',
  laddr_group_name: 'a DPVS (FNAT) keyword: not keepalived\'s', daddr_group_name: 'a DPVS keyword: not keepalived\'s',
  establish_timeout: 'a DPVS keyword: not keepalived\'s', persistence_engine: 'not implemented in vigil',
  ops: 'one-packet scheduling is not implemented in vigil', retry: 'set on each check (fall)',
  'sh-port': 'scheduler flags are not implemented in vigil', 'sh-fallback': 'scheduler flags are not implemented in vigil',
  'mh-port': 'scheduler flags are not implemented in vigil', 'mh-fallback': 'scheduler flags are not implemented in vigil',
  'flag-1': 'scheduler flags are not implemented in vigil', 'flag-2': 'scheduler flags are not implemented in vigil', 'flag-3': 'scheduler flags are not implemented in vigil',
  sorry_server_inhibit: 'not implemented in vigil', sorry_server_lvs_method: 'the sorry server uses the virtual server\'s forwarding',
  warmup: 'vigil spreads checks over their interval itself',
};

interface Vip { address?: string; port?: number; fwmark?: number; w: Stmt | Word }

const hostPort = (a: string, p: number | undefined) => p === undefined ? a : a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`;

// The entries of a virtual_server_group: "ADDR PORT", "A.B.C.D-N PORT" (a range in the last
// part), "fwmark N".
export function readGroup(ctx: Ctx, s: Stmt): Vip[] {
  const out: Vip[] = [];
  for (const k of s.kids ?? []) {
    if (k.key === 'fwmark') { const n = int(k.args[0]); if (n !== undefined && n > 0) out.push({ fwmark: n, w: k }); else ctx.skip(k, 'fwmark', `${k.args[0]?.text} is not a mark`); continue; }
    const port = int(k.args[0]);
    const range = /^(.*[.:])([0-9a-fA-F]+)-([0-9a-fA-F]+)$/.exec(k.key);
    if (range) {
      const v6 = k.key.includes(':'), base = v6 ? 16 : 10;
      const lo = Number.parseInt(range[2], base), hi = Number.parseInt(range[3], base);
      if (!(hi >= lo && hi - lo < 256) || port === undefined) { ctx.skip(k, k.key, 'not a range of at most 256 addresses with a port'); continue; }
      for (let i = lo; i <= hi; i++) {
        const a = parseKaAddr(range[1] + i.toString(base));
        if (a) out.push({ address: a.address, port, w: k });
      }
      continue;
    }
    const a = parseKaAddr(k.key);
    if (!a || port === undefined) { ctx.skip(k, k.key, 'not "ADDRESS PORT" or "fwmark N"'); continue; }
    out.push({ address: a.address, port, w: k });
  }
  return out;
}

export function readVirtualServer(ctx: Ctx, s: Stmt, groups: Map<string, Vip[]>, g: Globals, checks: Item[], names: Set<string>): Item[] {
  const a0 = s.args[0];
  let vips: Vip[] = [];
  let label = s.args.map((w) => w.text).join(' ');
  if (!a0 || !s.kids) { ctx.skip(s, s.key, 'needs ADDRESS PORT, fwmark N or group NAME and a { } block'); return []; }
  if (a0.text === 'group') {
    const grp = groups.get(s.args[1]?.text ?? '');
    if (!grp) { ctx.skip(s, 'virtual_server group', `${s.args[1]?.text ?? 'nothing'} is not a virtual_server_group of the file`); return []; }
    vips = grp;
  } else if (a0.text === 'fwmark') {
    const n = int(s.args[1]);
    if (n === undefined || n < 1) { ctx.skip(s, 'virtual_server fwmark', `${s.args[1]?.text} is not a mark`); return []; }
    vips = [{ fwmark: n, w: s }];
  } else {
    const a = parseKaAddr(a0.text), port = int(s.args[1]);
    if (placeholder(a0.text)) ctx.placeholders.push({ ...a0, token: a0.text });
    if (!a || port === undefined || port < 1 || port > 65535) { ctx.skip(s, 'virtual_server', `${label}: not ADDRESS PORT`); return []; }
    vips = [{ address: a.address, port, w: s }];
  }
  if (!vips.length) { ctx.skip(s, 'virtual_server', `${label}: its group has no entry vigil can use`); return []; }
  const base: Item = {};
  let protocol = 'tcp', scheduler: string | undefined, forwarding = 'nat', ok = true;
  let delayLoop = 60, connectTimeout: number | undefined, retry: number | undefined, vhost: string | undefined;
  const real: Stmt[] = [];
  const notify: Item = {};
  let sorry: Stmt | undefined, inhibitAll = false;
  for (const k of s.kids) {
    const v = k.args[0];
    const vt = v?.text;
    switch (k.key) {
      case 'delay_loop': { const n = num(v); if (n !== undefined && n > 0) delayLoop = n; else ctx.skip(k, k.key, 'not a number of seconds'); break; }
      case 'lb_algo': case 'lvs_sched': {
        const x = vt?.toLowerCase();
        if (x && SCHEDULERS.has(x)) scheduler = x;
        else { ctx.skip(k, k.key, `${vt}: vigil schedules with ${[...SCHEDULERS].join(', ')}`); if (k.args.length > 1) ctx.skip(k.args[1], k.key, 'scheduler flags are not implemented in vigil'); }
        if (k.args.length > 1 && scheduler) ctx.skip(k.args[1], k.key, 'scheduler flags are not implemented in vigil');
        break;
      }
      case 'lb_kind': case 'lvs_method': {
        const x = vt?.toLowerCase();
        if (x === 'nat' || x === 'dr') forwarding = x;
        else { ctx.skip(k, k.key, `${vt}: vigil forwards by nat or dr (${x === 'tun' ? 'tunnels are not implemented' : x === 'fnat' ? 'FNAT is a DPVS fork\'s, not Linux IPVS\'s' : 'unknown'}); the virtual server is left out`); ok = false; }
        break;
      }
      case 'protocol': {
        const x = vt?.toLowerCase();
        if (x === 'tcp' || x === 'udp') protocol = x; else { ctx.skip(k, k.key, `${vt}: vigil balances tcp or udp; the virtual server is left out`); ok = false; }
        break;
      }
      case 'persistence_timeout': {
        const n = v ? int(v) : 360;   // keepalived: 6 minutes when no value
        if (n === undefined || n < 1) ctx.skip(k, k.key, `${vt} is not a number of seconds`);
        else base.persistence = { ...(base.persistence as Item ?? {}), timeout: secs(n) };
        break;
      }
      case 'persistence_granularity': {
        if (vt && /^\d+\.\d+\.\d+\.\d+$|^\d+$/.test(vt)) base.persistence = { ...(base.persistence as Item ?? {}), netmask: vt };
        else ctx.skip(k, k.key, `${vt} is not a netmask`);
        break;
      }
      case 'quorum': case 'hysteresis': { const n = int(v); if (n !== undefined && n >= 0) base[k.key] = n; else ctx.skip(k, k.key, 'not a count'); break; }
      case 'alpha': base.alpha = true; break;
      case 'omega': ctx.skip(k, k.key, 'vigil runs no quorum or real server hooks at shutdown'); break;
      case 'quorum_up': case 'quorum_down': { const h = hookPath(ctx, k); if (h) notify[k.key === 'quorum_up' ? 'quorumUp' : 'quorumDown'] = h; break; }
      case 'sorry_server': sorry = k; break;
      case 'inhibit_on_failure': inhibitAll = true; break;
      case 'virtualhost': vhost = vt; break;
      case 'real_server': real.push(k); break;
      case 'connect_timeout': { const n = num(v); if (n !== undefined && n > 0) connectTimeout = n; break; }
      case 'retry': case 'nb_get_retry': { const n = int(v); if (n !== undefined && n >= 0) retry = n; break; }
      case 'delay_before_retry': break;   // vigil retries at the check's interval
      default: ctx.skip(k, k.key, VS_REFUSED[k.key] ?? 'not a virtual_server keyword vigil knows');
    }
  }
  if (!ok) { ctx.skip(s, 'virtual_server', `${label} is left out (see the lines above)`); return []; }
  const realServers: Item[] = [];
  for (const r of real) {
    const rs = readRealServer(ctx, r, { delayLoop, connectTimeout, retry, vhost, inhibitAll, fwmark: vips[0].fwmark !== undefined, vsPort: vips[0].port, g, vsName: label }, checks, names);
    if (rs) realServers.push(rs);
  }
  const out: Item[] = [];
  vips.forEach((vip, i) => {
    const vs: Item = { '#': [`from ${ctx.from(s)} virtual_server ${label}${vips.length > 1 ? ` (group entry ${ctx.from(vip.w as Stmt)})` : ''}`] };
    vs.name = uniq(names, vigilName(vip.fwmark !== undefined ? `fwmark_${vip.fwmark}` : `vs_${vip.address}_${vip.port}`, `vs_${s.line}_${i}`));
    if (vip.fwmark !== undefined) vs.fwmark = vip.fwmark; else { vs.address = vip.address!; vs.port = vip.port!; }
    vs.protocol = protocol;
    if (scheduler) vs.scheduler = scheduler;
    vs.forwarding = forwarding;
    Object.assign(vs, base);
    if (sorry) {
      const a = parseKaAddr(sorry.args[0]?.text ?? ''), p = int(sorry.args[1]) ?? vip.port;
      if (a) vs.sorryServer = hostPort(a.address, p); else if (i === 0) ctx.skip(sorry, 'sorry_server', `${sorry.args[0]?.text} is not an address`);
    }
    if (Object.keys(notify).length) vs.notify = notify;
    vs.realServers = realServers.map((r) => ({ ...r, ...(r.port === undefined && vip.port !== undefined && vip.fwmark === undefined ? { port: vip.port } : {}) }));
    out.push(vs);
  });
  return out;
}

function uniq(names: Set<string>, n: string): string {
  let x = n;
  for (let i = 2; names.has(x); i++) x = `${n}_${i}`;
  names.add(x);
  return x;
}

interface RsCtx { delayLoop: number; connectTimeout?: number; retry?: number; vhost?: string; inhibitAll: boolean; fwmark: boolean; vsPort?: number; g: Globals; vsName: string }

const CHECKERS = new Set(['TCP_CHECK', 'HTTP_GET', 'SSL_GET', 'SMTP_CHECK', 'DNS_CHECK', 'MISC_CHECK']);

function readRealServer(ctx: Ctx, r: Stmt, o: RsCtx, checks: Item[], names: Set<string>): Item | undefined {
  const a = parseKaAddr(r.args[0]?.text ?? '');
  if (!a) { ctx.skip(r, 'real_server', `${r.args[0]?.text ?? 'nothing'} is not an IP address`); return undefined; }
  const port = int(r.args[1]);
  const rs: Item = { address: a.address };
  if (port !== undefined) rs.port = port;
  let weight = 1, inhibit = o.inhibitAll;
  const checkers: Stmt[] = [];
  for (const k of r.kids ?? []) {
    if (CHECKERS.has(k.key)) { checkers.push(k); continue; }
    switch (k.key) {
      case 'weight': { const n = int(k.args[0]); if (n !== undefined && n >= 0 && n <= 65535) weight = n; else ctx.skip(k, k.key, 'not a weight (0..65535)'); break; }
      case 'inhibit_on_failure': inhibit = true; break;
      case 'notify_up': case 'notify_down': ctx.skip(k, k.key, 'vigil runs no per-real-server hooks: /status and /metrics carry each real server\'s state'); break;
      default: ctx.skip(k, k.key, k.key.endsWith('_CHECK') ? `${k.key}: vigil has no such check` : 'not a real_server keyword vigil knows');
    }
  }
  rs.weight = weight;
  if (inhibit) rs.inhibitOnFailure = true;
  if (checkers.length > 1) for (const c of checkers.slice(1)) ctx.skip(c, c.key, 'vigil takes one check per real server: the first is kept');
  const c = checkers[0] && readChecker(ctx, checkers[0], a.address, port ?? o.vsPort, o);
  if (c) {
    c.name = uniq(names, vigilName(`${o.vsName}_${a.address}_${port ?? ''}`.replace(/[^A-Za-z0-9_.-]+/g, '_'), `rs_${r.line}`));
    checks.push(c);
    rs.check = c.name as string;
  }
  return rs;
}

function readChecker(ctx: Ctx, k: Stmt, host: string, port: number | undefined, o: RsCtx): Item | undefined {
  let delayLoop = o.delayLoop, timeout = o.connectTimeout ?? 5, retry = o.retry ?? (k.key === 'DNS_CHECK' ? 3 : k.key === 'MISC_CHECK' ? 0 : 1);
  let cport = port, chost = host, path: string | undefined, status: number[] = [], digest: string | undefined, vhost = o.vhost;
  let misc: Word | undefined, miscTimeout: number | undefined, dynamic = false, user = o.g.scriptUser ?? undefined;
  let qtype = 'SOA', qname = '.';
  const comments = [`from ${ctx.from(k)} ${k.key}`];
  for (const x of k.kids ?? []) {
    const v = x.args[0];
    switch (x.key) {
      case 'connect_timeout': { const n = num(v); if (n !== undefined && n > 0) timeout = n; break; }
      case 'retry': case 'nb_get_retry': { const n = int(v); if (n !== undefined && n >= 0) retry = n; break; }
      case 'delay_before_retry': comments.push('delay_before_retry: vigil retries at the check\'s interval'); break;
      case 'delay_loop': { const n = num(v); if (n !== undefined && n > 0) delayLoop = n; break; }
      case 'connect_port': { const n = int(v); if (n !== undefined) cport = n; break; }
      case 'connect_ip': { const a = parseKaAddr(v?.text ?? ''); if (a) chost = a.address; else ctx.skip(x, x.key, 'not an address'); break; }
      case 'virtualhost': vhost = v?.text; break;
      case 'url':
        if (path !== undefined) { ctx.skip(x, 'url', 'vigil checks one URL per check: the first is kept'); break; }
        for (const u of x.kids ?? []) {
          if (u.key === 'path') path = u.args[0]?.text;
          else if (u.key === 'status_code') { for (const w of u.args) { const n = int(w); if (n !== undefined && n >= 100 && n <= 599) status.push(n); else ctx.skip(w, 'status_code', `${w.text}: vigil takes single codes`); } }
          else if (u.key === 'digest') digest = u.args[0]?.text.toLowerCase();
          else ctx.skip(u, u.key, 'not a url keyword vigil knows');
        }
        break;
      case 'misc_path': misc = v; break;
      case 'misc_timeout': { const n = num(v); if (n !== undefined && n > 0) miscTimeout = n; break; }
      case 'misc_dynamic': dynamic = true; break;
      case 'user': user = v?.text ?? user; break;
      case 'type': qtype = (v?.text ?? '').toUpperCase(); break;
      case 'name': qname = v?.text ?? qname; break;
      case 'helo_name': ctx.skip(x, x.key, 'vigil reads the SMTP 220 greeting and sends no HELO'); break;
      case 'host': ctx.skip(x, x.key, 'vigil checks the real server itself: one target per check'); break;
      default: ctx.skip(x, x.key, x.key === 'bindto' || x.key === 'bind_port' ? 'vigil connects from the address the kernel picks' : `not a ${k.key} keyword vigil knows`);
    }
  }
  if (k.key === 'MISC_CHECK' && miscTimeout !== undefined) timeout = miscTimeout;
  const interval = delayLoop;
  if (timeout >= interval) { comments.push(`connect_timeout ${timeout}s is not shorter than delay_loop ${interval}s: cut`); timeout = interval * 0.9; }
  const c: Item = { '#': comments, name: '', type: 'tcp', target: '', interval: secs(interval), timeout: secs(Math.round(timeout * 1000) / 1000), rise: 1, fall: Math.min(100, retry + 1) };
  const hp = (p: number | undefined) => (p === undefined ? undefined : chost.includes(':') ? `[${chost}]:${p}` : `${chost}:${p}`);
  switch (k.key) {
    case 'TCP_CHECK': case 'SMTP_CHECK': {
      const t = hp(cport ?? (k.key === 'SMTP_CHECK' ? 25 : undefined));
      if (!t) { ctx.skip(k, k.key, 'no port (real_server or connect_port)'); return undefined; }
      c.target = t;
      if (k.key === 'SMTP_CHECK') c.expect = { banner: '^220' };
      return c;
    }
    case 'HTTP_GET': case 'SSL_GET': {
      const scheme = k.key === 'SSL_GET' ? 'https' : 'http';
      const p = cport ?? (scheme === 'https' ? 443 : 80);
      c.type = 'http';
      c.target = `${scheme}://${chost.includes(':') ? `[${chost}]` : chost}:${p}${path?.startsWith('/') ? path : `/${path ?? ''}`}`;
      if (vhost) c.host = vhost;
      const expect: Item = {};
      if (status.length) expect.status = status;
      else if (digest === undefined) comments.push('no status_code: keepalived takes any 2xx; vigil expects 200');
      if (digest) expect.digest = `md5:${digest}`;
      if (Object.keys(expect).length) c.expect = expect;
      return c;
    }
    case 'DNS_CHECK': {
      if (qtype !== 'A' && qtype !== 'AAAA') { ctx.skip(k, k.key, `type ${qtype}: vigil asks A or AAAA (keepalived's default is SOA)`); return undefined; }
      c.type = 'dns';
      c.target = hp(cport ?? 53)!;
      c.query = qname;
      c.qtype = qtype;
      return c;
    }
    case 'MISC_CHECK': {
      if (!misc) { ctx.skip(k, k.key, 'no misc_path'); return undefined; }
      const { command, shell } = commandOf(misc.text);
      delete c.target;
      c.type = 'exec';
      c.command = command;
      if (shell) c.shell = true;
      if (user) c.user = user;
      if (dynamic) c.dynamic = true;
      return c;
    }
  }
  return undefined;
}
