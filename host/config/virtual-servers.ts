// `virtualServers:` and `loadBalancer:` — keepalived's virtual_server / real_server blocks as
// vigil writes them (docs/lb.md). Like the rest of the parser, every problem is reported with
// its place and fix, and nothing half-read is returned.
import { familyOf } from '../core/addr.ts';
import { at, boolean, Ctx, durationIn, Fields, integer, itemMap, list, map, string, uniqueName, type Entry, type YNode } from './reader.ts';
import { closest } from './keys.ts';
import { DEFAULTS, LIMITS } from './types.ts';
import { SCHEDULERS, type LoadBalancerSpec, type Persistence, type RealServerSpec, type Scheduler, type VirtualServerSpec } from './lb-types.ts';
import { ifnameProblem, parseAddr, parseAddrPort, specialAddress } from './values.ts';
import { parseDuration } from '../duration.ts';

const VS_EXAMPLE = '{ name: web, address: 192.0.2.100, port: 80, realServers: [{ address: 198.51.100.11, port: 8080 }] }';
const RS_EXAMPLE = '{ address: 198.51.100.11, port: 8080, weight: 1, check: web1 }';

// What the rest of the file tells this part: the checks by name, and which instance's interface
// holds each virtual address (a DR service's default ingress).
export interface LbContext {
  checks: readonly string[];
  brokenChecks: ReadonlySet<string>;
  vipInterfaces: ReadonlyMap<string, string>;
  scripts: { path: string; node: YNode }[];     // out: the quorum hooks, for the scripts' safety check
}

export function readVirtualServers(ctx: Ctx, e: Entry, lbc: LbContext): VirtualServerSpec[] {
  const items = list(ctx, e, `virtual servers, e.g. [${VS_EXAMPLE}]`);
  if (!items) return [];
  const out: VirtualServerSpec[] = [];
  const names = new Map<string, YNode>();
  const services = new Map<string, { name: string; node: YNode }>();
  items.forEach((item, i) => {
    if (i === LIMITS.virtualServers) ctx.report(item, `${items.length} virtual servers; at most ${LIMITS.virtualServers}`);
    const vs = readVirtualServer(ctx, item, i, names, lbc);
    if (!vs) return;
    // One service per address . protocol . port, or per fwmark: the dispatch map's key.
    const key = vs.fwmark !== null ? `fwmark ${vs.fwmark}` : `${vs.address} ${vs.protocol} ${vs.port}`;
    const first = services.get(key);
    if (first) {
      ctx.report(item, `virtual server ${vs.name} is the same service as ${first.name} (line ${ctx.pos(first.node).line}): `
        + `${vs.fwmark !== null ? `fwmark ${vs.fwmark}` : `${vs.protocol} ${vs.address} port ${vs.port}`} is taken; give another address, port or protocol`);
      return;
    }
    services.set(key, { name: vs.name, node: item });
    out.push(vs);
  });
  return out;
}

function readVirtualServer(ctx: Ctx, item: YNode, i: number, names: Map<string, YNode>, lbc: LbContext): VirtualServerSpec | undefined {
  const f = itemMap(ctx, item, 'virtualServer', `virtual server ${i + 1}`, VS_EXAMPLE);
  if (!f) return undefined;
  let ok = true;
  const bad = (node: YNode, message: string) => { ctx.report(node, message); ok = false; };
  const name = uniqueName(ctx, f, item, i, 'virtual server', 'web', names);
  if (name === undefined) ok = false;
  const label = `virtual server ${name ?? i + 1}`;

  // The service: address + port, or fwmark.
  const aE = f.get('address'), pE = f.get('port'), mE = f.get('fwmark');
  let address: string | null = null, port = 0, fwmark: number | null = null, family: 4 | 6 | undefined;
  const fam = (a: string) => familyOf(a) as 4 | 6;
  if (aE && mE) bad(mE.key, `${label}: give address and port, or fwmark, not both`);
  else if (mE) {
    fwmark = integer(ctx, mE, 1, 0xffffffff) ?? null;
    if (fwmark === null) ok = false;
    if (pE) bad(pE.key, `${label}: a fwmark service takes no port (the mark selects the packets): remove it`);
  } else if (aE) {
    const text = string(ctx, aE, 'an IP address such as 192.0.2.100');
    const a = text === undefined ? undefined : parseAddr(text.trim(), 'refused');
    if (typeof a === 'string') bad(at(aE), `${label}: address ${a}`);
    else if (a === undefined) ok = false;
    else {
      const special = specialAddress(a);
      if (special) bad(at(aE), `${label}: address ${a.address} is ${special}: give the virtual address clients connect to`);
      else { address = a.address; family = a.family; }
    }
    if (!pE) bad(item, `${label} has no port: add "port: 80" (or use fwmark: N for a service of many ports)`);
    else port = integer(ctx, pE, 1, 65535) ?? (ok = false, 0);
  } else bad(item, `${label} has no address: add "address: 192.0.2.100" and "port: 80", or "fwmark: 1"`);

  const protocol = oneOf(ctx, f.get('protocol'), ['tcp', 'udp'], DEFAULTS.lb.protocol, label, bad);
  const scheduler = oneOf(ctx, f.get('scheduler'), SCHEDULERS, DEFAULTS.lb.scheduler, label, bad,
    { wlc: 'wlc', lblc: 'lc: nftables has no locality-based scheduler; lc is the nearest', lblcr: 'lc', sed: 'wlc', nq: 'wlc', fo: 'wrr', ovf: 'wrr', twos: 'wlc' }) as Scheduler | undefined;
  const forwarding = oneOf(ctx, f.get('forwarding'), ['nat', 'dr'], DEFAULTS.lb.forwarding, label, bad,
    { tun: 'nat or dr: tunnelling needs ipip/gre devices, which this kernel lacks, and nftables cannot encapsulate', masq: 'nat', route: 'dr', direct: 'dr', gate: 'dr' });

  const iE = f.get('interface');
  let iface: string | null = null;
  if (iE) {
    const t = string(ctx, iE, 'an interface name such as eth0');
    const why = t === undefined ? undefined : ifnameProblem(`${label}: interface`, t);
    if (why) bad(at(iE), why); else if (t === undefined) ok = false; else iface = t;
    if (forwarding === 'nat') bad(iE.key, `${label}: interface is for forwarding: dr (the interface client packets come in on); a nat service needs none: remove it`);
  }
  if (forwarding === 'dr' && iface === null && ok) {
    iface = address !== null ? lbc.vipInterfaces.get(address) ?? null : null;
    if (iface === null) bad(iE?.key ?? item, `${label}: forwarding dr needs the interface client packets come in on: add "interface: eth0" (no instance holds ${address ?? 'a fwmark service'} as a virtual address)`);
  }

  // persistence.
  let persistence: Persistence | null = null;
  const perE = f.get('persistence');
  if (perE) persistence = readPersistence(ctx, perE, label, family) ?? (ok = false, null);

  // Real servers.
  const realServers: RealServerSpec[] = [];
  const rsE = f.get('realServers');
  if (!rsE) bad(item, `${label} has no real servers: add "realServers: [${RS_EXAMPLE}]"`);
  else {
    const items = list(ctx, rsE, `real servers, e.g. [${RS_EXAMPLE}]`);
    if (items && items.length > LIMITS.realServers) bad(at(rsE), `${label}: ${items.length} real servers; at most ${LIMITS.realServers}`);
    const seen = new Map<string, YNode>();
    for (const rsItem of items ?? []) {
      const rs = readRealServer(ctx, rsItem, label, { port, fwmark, forwarding, lbc });
      if (!rs) { ok = false; continue; }
      const rsFam = fam(rs.address);
      if (family === undefined) family = rsFam;
      if (rsFam !== family) { bad(rsItem, `${label}: real server ${rs.address} is IPv${rsFam} but the service is IPv${family}: one family per virtual server`); continue; }
      const key = `${rs.address} ${rs.port}`;
      const first = seen.get(key);
      if (first) { bad(rsItem, `${label}: real server ${rs.address} port ${rs.port} is listed twice (line ${ctx.pos(first).line}): remove one`); continue; }
      seen.set(key, rsItem);
      realServers.push(rs);
    }
  }

  const qE = f.get('quorum');
  const quorum = qE ? integer(ctx, qE, 1, LIMITS.realServers) : DEFAULTS.lb.quorum;
  if (quorum === undefined) ok = false;
  else if (ok && quorum > realServers.length) bad(qE ? at(qE) : item, `${label}: quorum ${quorum} but ${realServers.length} real server(s): the service could never be up; lower the quorum or add real servers`);
  const hE = f.get('hysteresis');
  const hysteresis = hE ? integer(ctx, hE, 0, Math.max(0, (quorum ?? 1) - 1), (v) => `${label}: hysteresis ${v} must be below the quorum (${quorum}): 0..${Math.max(0, (quorum ?? 1) - 1)}`) : DEFAULTS.lb.hysteresis;
  if (hysteresis === undefined) ok = false;
  else if (ok && quorum !== undefined && quorum + hysteresis > realServers.length) bad(at(hE!), `${label}: quorum ${quorum} + hysteresis ${hysteresis} = ${quorum + hysteresis} healthy real servers are needed to regain a lost quorum, but there are ${realServers.length}: lower one of them`);

  let sorryServer: VirtualServerSpec['sorryServer'] = null;
  const sE = f.get('sorryServer');
  if (sE) {
    const text = string(ctx, sE, 'ADDRESS:PORT, e.g. 198.51.100.99:80');
    const r = text === undefined ? undefined : parseAddrPort(text.trim(), true);
    if (r === undefined) ok = false;
    else if ('problem' in r) bad(at(sE), `${label}: sorryServer ${JSON.stringify(text)} ${r.problem}`);
    else if (family !== undefined && r.addr.family !== family) bad(at(sE), `${label}: sorryServer ${r.addr.address} is IPv${r.addr.family} but the service is IPv${family}`);
    else sorryServer = { address: r.addr.address, port: r.port ?? port };
  }
  const alpha = flag(ctx, f.get('alpha'), false, () => { ok = false; });
  const flushOnFailure = flag(ctx, f.get('flushOnFailure'), true, () => { ok = false; });
  const notify = { quorumUp: null as string | null, quorumDown: null as string | null };
  const nE = f.get('notify');
  const nf = nE ? map(ctx, nE, 'lbNotify', '{ quorumUp: /etc/vigil/up.sh, quorumDown: /etc/vigil/down.sh }') : undefined;
  for (const k of ['quorumUp', 'quorumDown'] as const) {
    const ke = nf?.get(k);
    if (!ke) continue;
    const p = string(ctx, ke, 'the absolute path of an executable');
    if (p !== undefined && !/^\/\S*$/.test(p)) bad(at(ke), `${label}: notify.${k} must be an absolute path of an executable (run without a shell), not ${JSON.stringify(p)}`);
    else if (p === undefined) ok = false;
    else { notify[k] = p; lbc.scripts.push({ path: p, node: at(ke) }); }
  }
  if (!ok || name === undefined || family === undefined || protocol === undefined || scheduler === undefined || forwarding === undefined) return undefined;
  return {
    name, ...ctx.pos(item), family, address, port, fwmark, protocol: protocol as 'tcp' | 'udp', scheduler, forwarding: forwarding as 'nat' | 'dr',
    interface: iface, persistence, quorum: quorum!, hysteresis: hysteresis!, sorryServer, alpha, flushOnFailure, notify, realServers,
  };
}

function readRealServer(ctx: Ctx, item: YNode, label: string, vs: { port: number; fwmark: number | null; forwarding: string | undefined; lbc: LbContext }): RealServerSpec | undefined {
  const f = itemMap(ctx, item, 'realServer', `${label}: a real server`, RS_EXAMPLE);
  if (!f) return undefined;
  let ok = true;
  const bad = (node: YNode, message: string) => { ctx.report(node, message); ok = false; };
  const aE = f.get('address');
  let address: string | undefined;
  if (!aE) bad(item, `${label}: a real server has no address: add "address: 198.51.100.11"`);
  else {
    const text = string(ctx, aE, 'an IP address such as 198.51.100.11');
    const a = text === undefined ? undefined : parseAddr(text.trim(), 'refused');
    if (typeof a === 'string') bad(at(aE), `${label}: real server address ${a}`);
    else if (a === undefined) ok = false;
    else if (specialAddress(a)) bad(at(aE), `${label}: real server address ${a.address} is ${specialAddress(a)}`);
    else address = a.address;
  }
  const rl = `${label}: real server ${address ?? '?'}`;
  const pE = f.get('port');
  let port = vs.fwmark !== null ? 0 : vs.port;
  if (pE) {
    const p = integer(ctx, pE, 1, 65535);
    if (p === undefined) ok = false;
    else if (vs.forwarding === 'dr' && vs.fwmark === null && p !== vs.port) bad(at(pE), `${rl}: port ${p} differs from the service's ${vs.port}, and direct routing cannot change ports: use forwarding: nat, or port ${vs.port}`);
    else port = p;
  }
  const wE = f.get('weight');
  const weight = wE ? integer(ctx, wE, ...LIMITS.poolWeight, (v) => `${rl}: weight ${v} is out of range ${LIMITS.poolWeight.join('..')} (IPVS's range; 0 takes no new connections)`) : DEFAULTS.lb.weight;
  if (weight === undefined) ok = false;
  let check: string | null = null;
  const cE = f.get('check');
  if (cE) {
    const c = string(ctx, cE, 'the name of a check');
    if (c === undefined) ok = false;
    else if (!vs.lbc.checks.includes(c) && !vs.lbc.brokenChecks.has(c)) {
      const guess = closest(c, [...vs.lbc.checks]);
      bad(at(cE), `${rl}: check "${c}" is not defined` + (guess ? ` (did you mean "${guess}"?)` : vs.lbc.checks.length ? `: the checks are ${vs.lbc.checks.join(', ')}` : ': add it to a top-level "checks:" list'));
    } else check = c;
  }
  const inhibitOnFailure = flag(ctx, f.get('inhibitOnFailure'), false, () => { ok = false; });
  if (!ok || address === undefined) return undefined;
  return { address, port, weight: weight!, check, inhibitOnFailure, ...ctx.pos(item) };
}

// persistence: { timeout: 300s, netmask: 255.255.255.0 | /24 | 64 }.
function readPersistence(ctx: Ctx, e: Entry, label: string, family: 4 | 6 | undefined): Persistence | undefined {
  const f = map(ctx, e, 'persistence', '{ timeout: 300s, netmask: 255.255.255.255 }');
  if (!f) return undefined;
  const tE = f.get('timeout');
  const timeoutUs = tE ? durationIn(ctx, tE, ...LIMITS.persistenceUs, 1e6) : parseDuration(DEFAULTS.lb.persistenceTimeout);
  if (timeoutUs === undefined) return undefined;
  const max = family === 6 ? 128 : 32;
  let prefixLen = max;
  const mE = f.get('netmask');
  if (mE) {
    const v = (ctx.deref(mE.value) as { value?: unknown } | null)?.value;
    const text = String(v ?? '').trim().replace(/^\//, '');
    const p = /^\d{1,3}$/.test(text) ? Number(text) : family !== 6 ? maskToPrefix(text) : undefined;
    if (p === undefined || p < 1 || p > max) {
      ctx.report(at(mE), `${label}: persistence.netmask ${JSON.stringify(v ?? null)} is not a netmask: write a dotted IPv4 mask such as 255.255.255.0, or a prefix length 1..${max}`);
      return undefined;
    }
    prefixLen = p;
  }
  return { timeoutUs, prefixLen };
}

// 255.255.255.0 -> 24; undefined unless the ones are contiguous.
function maskToPrefix(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const n = m.slice(1).reduce((acc, o) => (Number(o) > 255 ? NaN : acc * 256 + Number(o)), 0);
  if (!Number.isFinite(n)) return undefined;
  const bits = n.toString(2).padStart(32, '0');
  return /^1*0*$/.test(bits) ? bits.indexOf('0') === -1 ? 32 : bits.indexOf('0') : undefined;
}

// A word out of a fixed set (case folded: keepalived writes TCP, RR, DR). `instead` names what to
// write for IPVS words nftables cannot do.
function oneOf(ctx: Ctx, e: Entry | undefined, allowed: readonly string[], dflt: string, label: string,
  bad: (n: YNode, m: string) => void, instead: Record<string, string> = {}): string | undefined {
  if (!e) return dflt;
  const t = string(ctx, e, allowed.join(' | '));
  if (t === undefined) return undefined;
  const w = t.trim().toLowerCase();
  if (allowed.includes(w)) return w;
  const alt = instead[w];
  bad(at(e), `${label}: ${e.label} ${JSON.stringify(t)} is not supported` + (alt ? ` on nftables: use ${alt}` : `: write one of ${allowed.join(', ')}`));
  return undefined;
}

function flag(ctx: Ctx, e: Entry | undefined, dflt: boolean, fail: () => void): boolean {
  if (!e) return dflt;
  const b = boolean(ctx, e);
  if (b === undefined) { fail(); return dflt; }
  return b;
}

// loadBalancer: { table: vigil, removeOnStop: true }.
export function readLoadBalancer(ctx: Ctx, e: Entry): LoadBalancerSpec | undefined {
  const f: Fields | undefined = map(ctx, e, 'loadBalancer', '{ table: vigil, removeOnStop: true }');
  if (!f) return undefined;
  const spec: LoadBalancerSpec = { table: DEFAULTS.lb.table, removeOnStop: true };
  const tE = f.get('table');
  if (tE) {
    const t = string(ctx, tE, 'an nftables table name such as vigil');
    if (t === undefined) return undefined;
    if (!/^[A-Za-z][A-Za-z0-9_-]{0,31}$/.test(t)) { ctx.report(at(tE), `loadBalancer.table ${JSON.stringify(t)} is not a table name: a letter, then up to 31 letters, digits, "_" or "-"`); return undefined; }
    spec.table = t;
  }
  const rE = f.get('removeOnStop');
  if (rE) {
    const b = boolean(ctx, rE);
    if (b === undefined) return undefined;
    spec.removeOnStop = b;
  }
  return spec;
}
