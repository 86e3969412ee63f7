// The load balancer's desired state: a pure function of the virtual servers, each real
// server's effective weight, each service's quorum and the DR egress devices, as the nftables
// objects vigil owns (named chains, maps, sets and counters of one inet table, and of one
// netdev table for DR services). host/lb/diff.ts turns two of these into one transaction.
//
// The shape follows kube-proxy's nftables proxier: one dispatch verdict map keyed on
// address . protocol . port (and one on the packet mark), a chain per virtual server that picks
// a real server through a slot map, and a chain per real server that does the forwarding.
import type { VirtualServerSpec, RealServerSpec } from '../config/lb-types.ts';
import { hashBuckets, maglevTable, serverKeys, updateBuckets, wrrSlots, WRR_CAP, type BucketTable } from './tables.ts';
import { alignSlots } from './slots.ts';

export interface TableState {
  family: 'inet' | 'netdev';
  name: string;
  chains: Map<string, string[]>;      // chain -> its lines: a base chain's "type ... hook ..." first, then rules
  maps: Map<string, { decl: string; elements: Map<string, string> }>;
  sets: Map<string, string>;          // dynamic sets (persistence): their declaration; their elements are the kernel's
  counters: Set<string>;              // named counters, one per real server
}

export interface Plan { inet: TableState; netdev: TableState | null; fragments: Map<string, Fragment> }

// One virtual server's objects, made again only when its inputs change: a real server's check
// flapping re-plans its own service, whatever the others hold (10,000 real servers elsewhere
// cost a string compare, not a table). `inputs` says what it was made from.
export interface Fragment {
  spec: VirtualServerSpec;
  inputs: string;
  objects: TableState;
  dispatch: [map: string, key: string, value: string];
  counters: [mark: string, counter: string][];
  targets: [map: string, mark: string, target: string][];
  buckets: BucketTable | null;
  full: string[] | null;          // counting schedulers: the full table as laid, and the ideal it was laid from
  fullIdeal: string[] | null;
}

// What the reconciler knows of each real server (by rsId) and service (by name).
export interface Runtime {
  weight: ReadonlyMap<string, number>;        // effective weight; absent or 0: no new connections
  quorumUp: ReadonlyMap<string, boolean>;     // absent: up
  egress: ReadonlyMap<string, string>;        // dr: real server address -> the device toward it
  marks: ReadonlyMap<string, number>;         // nat: the ct mark of each real server (assignMarks)
}

// sh / dh buckets: at 4,096 each server's share is within about 2% of its weight's (at 256, 9%).
export const BUCKETS = 4096;
// mh: a prime; at 4,093 one server's change moves about 6.5% of the others' entries too (251,
// IPVS's default: 29%): docs/lb-tables.md.
export const MAGLEV = 4093;
const PERSIST_SIZE = 1 << 20;           // clients remembered per real server

/** A real server's stable id, readable in the table: its virtual server, address and port. */
export function rsId(vs: VirtualServerSpec, rs: RealServerSpec): string {
  let id = ids.get(rs);
  if (id === undefined) ids.set(rs, id = `${vs.name}-${rs.address.replace(/[.:]/g, '_')}-${rs.port}`);
  return id;
}
// Per parsed real server (a reload parses anew): computed once however often a sync asks.
const ids = new WeakMap<RealServerSpec, string>();
const keysOf = new WeakMap<VirtualServerSpec, Uint32Array>();

/**
 * A real server's persistence set. The timeout is in its name: nft cannot change a set's timeout,
 * and a set in use cannot be deleted before the rules using it, so a new timeout is a new set
 * (the rules move to it in the same transaction, then the old one goes).
 */
export function affSet(id: string, vs: VirtualServerSpec): string {
  return `aff-${id}-${vs.persistence ? vs.persistence.timeoutUs / 1e6 : 0}s`;
}

/**
 * The ct mark each NAT real server's connections carry (counters, connection counts and flushes
 * find them by it): a hash of its id in 0x40000000..0x7fffffff, moved on past a taken one. Marks
 * already given (`keep`) stay, so a reload never renumbers a running server.
 */
export function assignMarks(ids: readonly string[], keep: ReadonlyMap<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  const used = new Set<number>();
  for (const id of ids) { const m = keep.get(id); if (m !== undefined && !used.has(m)) { out.set(id, m); used.add(m); } }
  for (const id of ids) {
    if (out.has(id)) continue;
    let m = (0x40000000 | (fnv1a(id) & 0x3fffffff)) >>> 0;
    while (used.has(m)) m = (0x40000000 | ((m + 1) & 0x3fffffff)) >>> 0;
    out.set(id, m);
    used.add(m);
  }
  return out;
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
const ipf = (vs: VirtualServerSpec) => (vs.family === 4 ? 'ip' : 'ip6');
const addrType = (vs: VirtualServerSpec) => (vs.family === 4 ? 'ipv4_addr' : 'ipv6_addr');
const hostport = (vs: VirtualServerSpec, a: string, port: number) => (vs.family === 4 ? a : `[${a}]`) + (port ? `:${port}` : '');

function emptyTable(family: 'inet' | 'netdev', name: string): TableState {
  return { family, name, chains: new Map(), maps: new Map(), sets: new Map(), counters: new Set() };
}

export function plan(services: readonly VirtualServerSpec[], table: string, rt: Runtime, cache: ReadonlyMap<string, Fragment> = new Map()): Plan {
  const inet = emptyTable('inet', table);
  const nat = services.filter((v) => v.forwarding === 'nat');
  const dr = services.filter((v) => v.forwarding === 'dr');
  const dispatch = ['ip daddr . meta l4proto . th dport vmap @svc4', 'ip6 daddr . meta l4proto . th dport vmap @svc6', 'meta mark vmap @marks'];
  inet.maps.set('svc4', { decl: 'type ipv4_addr . inet_proto . inet_service : verdict', elements: new Map() });
  inet.maps.set('svc6', { decl: 'type ipv6_addr . inet_proto . inet_service : verdict', elements: new Map() });
  inet.maps.set('marks', { decl: 'type mark : verdict', elements: new Map() });
  // Packets and bytes per NAT real server, both directions, found by the connection's ct mark.
  inet.maps.set('rs-counters', { decl: 'type mark : counter', elements: new Map() });
  // Where each NAT real server's connections go, by their ct mark (services without chains per
  // real server: see fragmentOf).
  inet.maps.set('rs-targets4', { decl: 'type mark : ipv4_addr . inet_service', elements: new Map() });
  inet.maps.set('rs-targets6', { decl: 'type mark : ipv6_addr . inet_service', elements: new Map() });
  inet.chains.set('prerouting', ['type nat hook prerouting priority dstnat; policy accept;', ...dispatch]);
  inet.chains.set('output', ['type nat hook output priority -100; policy accept;', ...dispatch]);
  inet.chains.set('counting', ['type filter hook forward priority filter; policy accept;', 'ct mark and 0xc0000000 == 0x40000000 counter name ct mark map @rs-counters']);
  // DR's replies go from the real server to the client, past the director when it is their
  // router: untracked, or conntrack keeps each as a half connection picked up mid-stream (60 s
  // of CLOSE_WAIT) that later traffic on the same tuple meets (docs/lb.md).
  inet.maps.set('dr-replies4', { decl: 'type ipv4_addr . inet_proto . inet_service : verdict', elements: new Map() });
  inet.maps.set('dr-replies6', { decl: 'type ipv6_addr . inet_proto . inet_service : verdict', elements: new Map() });
  inet.chains.set('dr-replies', ['type filter hook prerouting priority raw; policy accept;', 'ip saddr . meta l4proto . th sport vmap @dr-replies4', 'ip6 saddr . meta l4proto . th sport vmap @dr-replies6']);
  inet.chains.set('untracked', ['notrack']);
  for (const vs of dr) if (vs.address !== null) inet.maps.get(vs.family === 4 ? 'dr-replies4' : 'dr-replies6')!.elements.set(`${vs.address} . ${vs.protocol} . ${vs.port}`, 'goto untracked');
  const fragments = new Map<string, Fragment>();
  for (const vs of nat) merge(inet, fragmentOf(vs, rt, cache), fragments);

  let netdev: TableState | null = null;
  if (dr.length) {
    netdev = emptyTable('netdev', table);
    // One ingress chain per device client packets come in on; each dispatches through the same maps.
    netdev.maps.set('svc4', { decl: 'type ipv4_addr . inet_proto . inet_service : verdict', elements: new Map() });
    netdev.maps.set('svc6', { decl: 'type ipv6_addr . inet_proto . inet_service : verdict', elements: new Map() });
    netdev.maps.set('marks', { decl: 'type mark : verdict', elements: new Map() });
    for (const dev of new Set(dr.map((v) => v.interface!))) {
      netdev.chains.set(`ingress-${dev}`, [`type filter hook ingress device ${JSON.stringify(dev)} priority 0; policy accept;`, ...dispatch]);
    }
    for (const vs of dr) merge(netdev, fragmentOf(vs, rt, cache), fragments);
  }
  return { inet, netdev, fragments };
}

// The objects of one service in one table: shared maps (dispatch, counters) get their entries.
function merge(t: TableState, f: Fragment, fragments: Map<string, Fragment>): void {
  for (const [k, v] of f.objects.chains) t.chains.set(k, v);
  for (const [k, v] of f.objects.maps) t.maps.set(k, v);
  for (const [k, v] of f.objects.sets) t.sets.set(k, v);
  for (const c of f.objects.counters) t.counters.add(c);
  t.maps.get(f.dispatch[0])!.elements.set(f.dispatch[1], f.dispatch[2]);
  for (const [mark, counter] of f.counters) t.maps.get('rs-counters')!.elements.set(mark, counter);
  for (const [map, mark, target] of f.targets) t.maps.get(map)!.elements.set(mark, target);
  fragments.set(f.spec.name, f);
}

function fragmentOf(vs: VirtualServerSpec, rt: Runtime, cache: ReadonlyMap<string, Fragment>): Fragment {
  const ids = vs.realServers.map((rs) => rsId(vs, rs));
  const weights = ids.map((id) => rt.weight.get(id) ?? 0);
  const dr = vs.forwarding === 'dr';
  const inputs = [weights.join(','), rt.quorumUp.get(vs.name) !== false, dr ? vs.realServers.map((r) => rt.egress.get(r.address)).join(',') : ids.map((id) => rt.marks.get(id)).join(','),
    dr && vs.sorryServer ? rt.egress.get(vs.sorryServer.address) : ''].join('|');
  const old = cache.get(vs.name);
  if (old && old.spec === vs && old.inputs === inputs) return old;
  const t: TableState = { family: dr ? 'netdev' : 'inet', name: '', chains: new Map(), maps: new Map(), sets: new Map(), counters: new Set() };
  const ip = ipf(vs);
  const vsChain = `vs-${vs.name}`;
  const per = vs.persistence;
  const mask = per ? ` & ${maskText(vs, per.prefixLen)}` : '';
  const counters: [string, string][] = [];
  const targets: Fragment['targets'] = [];
  // A NAT service without persistence needs no chain per real server: the slot map gives the
  // connection its real server's ct mark, and one map turns the mark into the DNAT target. nft
  // loads a table's chains for every transaction (1,000 of them: ~14 ms more each, measured), so
  // this keeps a flap's transaction as cheap at 1,000 real servers as at 3.
  const direct = !dr && !per && vs.realServers.every((r) => r.port > 0);

  // Otherwise one chain (and counter, and persistence set) per real server: it does the forwarding.
  vs.realServers.forEach((rs, i) => {
    const id = ids[i];
    const lines: string[] = [];
    t.counters.add(`c-${id}`);
    if (!dr) counters.push([hex(rt.marks.get(id)!), `"c-${id}"`]);
    if (direct) {
      targets.push([vs.family === 4 ? 'rs-targets4' : 'rs-targets6', hex(rt.marks.get(id)!), `${rs.address} . ${rs.port}`]);
      return;
    }
    if (dr) lines.push(`counter name "c-${id}"`);
    else lines.push(`ct mark set ${hex(rt.marks.get(id)!)}`);
    if (per) {
      t.sets.set(affSet(id, vs), `type ${addrType(vs)}; flags dynamic,timeout; timeout ${per.timeoutUs / 1e6}s; size ${PERSIST_SIZE};`);
      lines.push(`update @${affSet(id, vs)} { ${ip} saddr${mask} }`);
    }
    lines.push(forward(vs, rs.address, rs.port, dr ? rt.egress.get(rs.address) : undefined));
    // The same rule as before keeps its array: the diff passes it over by reference.
    const line = lines.join(' ');
    const was = old?.objects.chains.get(`rs-${id}`);
    t.chains.set(`rs-${id}`, was?.[0] === line ? was : [line]);
  });

  // The service chain: a persistent client first, then the scheduler's pick over the slots.
  const rules: string[] = [];
  // Every server that can ever serve keeps its lookup, up or down: a failed one's set is flushed
  // in the same transaction, so the rule stays and the chain is not rewritten on a flap.
  if (per) ids.forEach((id, i) => { if (vs.realServers[i].weight > 0) rules.push(`${ip} saddr${mask} @${affSet(id, vs)} goto rs-${id}`); });
  let keys = keysOf.get(vs);
  if (!keys) keysOf.set(vs, keys = serverKeys(vs.realServers));
  const prevBuckets = old?.spec.scheduler === vs.scheduler ? old.buckets : null;
  // Counting schedulers may lay their slots anywhere; hashing ones may not (a bucket is a hash).
  const counting = vs.scheduler === 'rr' || vs.scheduler === 'wrr' || vs.scheduler === 'lc' || vs.scheduler === 'wlc';
  const table = counting ? countingSlots(vs, weights) : slotTable(vs, keys, weights, prevBuckets);
  const ideal = [...table].map((i) => ids[i]);
  // Counting: the full table (every server in, configured weights) is laid once and kept; a
  // reload that changes it is laid over the old one (one weight up by one: one element and the
  // modulus). The table served is the full one with the slots of servers that lost share given
  // to those that gained it, interleaved; a server back gets its own slots back.
  let full: string[] | null = null;
  let fullIdeal: string[] | null = null;
  let slots = ideal;
  if (counting) {
    fullIdeal = countingSlots(vs, vs.realServers.map((r) => r.weight)).map((i) => ids[i]);
    const same = old?.spec.scheduler === vs.scheduler && old.full !== null;
    full = same && old!.fullIdeal!.join() === fullIdeal.join() ? old!.full! : same ? alignSlots(old!.full!, fullIdeal) : fullIdeal;
    slots = ideal.length === 0 ? [] : ideal.length === full.length ? alignSlots(full, ideal) : ideal;
  }
  // A map's type cannot change: the two kinds have two names (a reload from one to the other
  // adds the new map, moves the rule to it, then drops the old one).
  const slotMap = direct ? `marks-${vs.name}` : `slots-${vs.name}`;
  if (direct) {
    t.maps.set(slotMap, { decl: 'typeof numgen inc mod 2 : ct mark', elements: new Map(slots.map((id, k) => [String(k), hex(rt.marks.get(id)!)])) });
    if (slots.length) rules.push(`ct mark set ${selector(vs, slots.length)} map @${slotMap}`, `meta l4proto ${vs.protocol} dnat ${ip} to ct mark map @rs-targets${vs.family}`);
  } else {
    t.maps.set(slotMap, { decl: 'typeof numgen inc mod 2 : verdict', elements: new Map(slots.map((id, k) => [String(k), `goto rs-${id}`])) });
    if (slots.length) rules.push(`${selector(vs, slots.length)} vmap @${slotMap}`);
  }
  t.chains.set(vsChain, rules);

  // While the quorum is lost: the sorry server, or nothing (the director's own stack answers:
  // a TCP reset or a port unreachable, since nothing listens there).
  const sorryChain = `sorry-${vs.name}`;
  if (vs.sorryServer) {
    const egress = dr ? rt.egress.get(vs.sorryServer.address) : undefined;
    t.chains.set(sorryChain, [`counter ${forward(vs, vs.sorryServer.address, vs.sorryServer.port, egress)}`]);
  } else t.chains.set(sorryChain, ['counter']);
  const target = rt.quorumUp.get(vs.name) === false ? sorryChain : vsChain;
  // The dispatch element: the one element a quorum change swaps.
  const dispatch: Fragment['dispatch'] = vs.fwmark !== null ? ['marks', hex(vs.fwmark), `goto ${target}`]
    : [vs.family === 4 ? 'svc4' : 'svc6', `${vs.address} . ${vs.protocol} . ${vs.port}`, `goto ${target}`];
  const hashing = vs.scheduler === 'sh' || vs.scheduler === 'dh';
  return { spec: vs, inputs, objects: t, dispatch, counters, targets, buckets: hashing ? { keys, weights, table: table as Uint16Array } : null,
    full, fullIdeal };
}

function forward(vs: VirtualServerSpec, address: string, port: number, egress: string | undefined): string {
  const ip = ipf(vs);
  if (vs.forwarding === 'dr') return `fwd ${ip} to ${address} device ${JSON.stringify(egress ?? 'lo')}`;
  // A port in the DNAT target needs the protocol known first (nft 1.0.6).
  return port ? `meta l4proto ${vs.protocol} dnat ${ip} to ${hostport(vs, address, port)}` : `dnat ${ip} to ${address}`;
}

// The expression that picks a slot. NAT sees the first packet of a connection only (conntrack
// keeps the rest on its server), so rr and wrr count with numgen. DR runs before conntrack on
// every packet, so there it hashes the client's address and port: per connection the same slot.
function selector(vs: VirtualServerSpec, n: number): string {
  const ip = ipf(vs);
  const seed = ` seed ${hex(fnv1a(vs.name))}`;
  switch (vs.scheduler) {
    case 'sh': case 'mh': return `jhash ${ip} saddr mod ${n}${seed}`;
    case 'dh': return `jhash ${ip} daddr mod ${n}${seed}`;
    default: return vs.forwarding === 'dr' ? `jhash ${ip} saddr . th sport mod ${n}${seed}` : `numgen inc mod ${n}`;
  }
}

// A counting scheduler's table keeps one length, set by the configured weights (the round of
// wrr's interleave, repeated to at least PAD_SLOTS): a real server going down or up, or lc/wlc's
// weights following the connections, changes slot elements only, never the modulus in the
// rule, so the transaction is a few element swaps (nft's cheapest). The shares then follow the
// effective weights to within one slot in PAD_SLOTS or more; with every server in, exactly.
const PAD_SLOTS = 64;

export function countingSlots(vs: VirtualServerSpec, effective: readonly number[]): number[] {
  const one = (w: number) => (w > 0 ? 1 : 0);
  const configured = vs.realServers.map((r) => (vs.scheduler === 'rr' ? one(r.weight) : r.weight));
  const eff = effective.map((w) => (vs.scheduler === 'rr' ? one(w) : w));
  if (!configured.some((w) => w > 0) || !eff.some((w) => w > 0)) return [];
  const round = [...wrrSlots(configured)];
  const reps = Math.max(1, Math.min(Math.floor(WRR_CAP / round.length), Math.ceil(PAD_SLOTS / round.length)));
  const length = round.length * reps;
  const share = eff.every((w, i) => w === configured[i]) ? round : quotaRound(eff, length);
  const out: number[] = [];
  while (out.length < length) out.push(...share);
  return out.slice(0, length);
}

// One interleaved round of `length` slots shared by weight (largest remainder), or a round that
// divides it evenly.
function quotaRound(weights: readonly number[], length: number): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (length * w) / total);
  const quota = exact.map(Math.floor);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0, left = length - quota.reduce((a, b) => a + b, 0); k < left; k++) quota[order[k][1]]++;
  return [...wrrSlots(quota)];
}

// Slot k -> index of the real server it goes to.
export function slotTable(vs: VirtualServerSpec, keys: Uint32Array, weights: readonly number[], prev: BucketTable | null = null): Uint16Array | number[] {
  if (!weights.some((w) => w > 0)) return [];
  switch (vs.scheduler) {
    case 'sh': case 'dh': return prev ? updateBuckets(prev, keys, weights, BUCKETS) : hashBuckets(keys, weights, BUCKETS);
    case 'mh': return maglevTable(keys, weights, MAGLEV);
    case 'rr': {
      const out: number[] = [];
      weights.forEach((w, i) => { if (w > 0) out.push(i); });
      return out;
    }
    default: return wrrSlots(weights);
  }
}

function maskText(vs: VirtualServerSpec, prefixLen: number): string {
  if (vs.family === 4) {
    const m = prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0;
    return [24, 16, 8, 0].map((s) => (m >>> s) & 255).join('.');
  }
  const groups: string[] = [];
  for (let g = 0; g < 8; g++) {
    const bits = Math.max(0, Math.min(16, prefixLen - g * 16));
    groups.push(((0xffff << (16 - bits)) & 0xffff).toString(16));
  }
  return groups.join(':');
}

/** The whole table as nft text (`vigil lb dump` of a plan, and the first apply). */
export function render(t: TableState): string {
  const out = [`table ${t.family} ${t.name} {`];
  for (const c of [...t.counters].sort()) out.push(`\tcounter ${c} {\n\t}`);
  for (const [name, decl] of t.sets) out.push(`\tset ${name} {\n\t\t${decl.split('; ').join(';\n\t\t')}\n\t}`);
  for (const [name, m] of t.maps) {
    const els = [...m.elements].map(([k, v]) => `${k} : ${v}`);
    out.push(`\tmap ${name} {\n\t\t${m.decl};` + (els.length ? `\n\t\telements = { ${els.join(',\n\t\t\t')} }` : '') + '\n\t}');
  }
  // Every chain declared before any rule, so each goto names a chain that exists.
  for (const [name, lines] of t.chains) out.push(`\tchain ${name} {` + (lines[0]?.startsWith('type ') ? `\n\t\t${lines[0]}` : '') + '\n\t}');
  out.push('}');
  for (const [name, lines] of t.chains) for (const l of lines) if (!l.startsWith('type ')) out.push(ruleLine(t, name, l));
  return out.join('\n') + '\n';
}

export function ruleLine(t: TableState, chain: string, rule: string): string {
  return `add rule ${t.family} ${t.name} ${chain} ${rule}`;
}
