// One VRRP instance: every key read, checked and normalized. What needs the other instances
// (unique names, VRIDs, addresses, sync groups) is load.ts's job; this returns what it needs.
import { isAlias, isScalar, isSeq } from 'yaml';
import type { Family } from '../core/addr.ts';
import { parseDuration } from '../duration.ts';
import type { Ctx, Entry, Fields, YNode } from './reader.ts';
import { at, boolean, durationIn, duration, integer, itemMap, itemString, list, map, string, fmtUs } from './reader.ts';
import { DEFAULTS, LIMITS, type Address, type Auth, type InstanceSpec, type Notify, type TrackInterface } from './types.ts';
import { hostBitsProblem, ifnameProblem, nameProblem, parseAddr, specialAddress, type Addr } from './values.ts';
import { lookupUser, type RunAs } from './security.ts';

export interface Draft {
  spec: InstanceSpec;          // complete only when the file has no problems
  node: YNode;
  // Undefined when missing or wrong (a problem is already reported), so cross-checks skip them.
  name?: string;
  nameAt?: YNode;
  vrid?: number;
  vridAt?: YNode;
  iface?: string;
  family?: Family;
  vips: { addr: Addr; node: YNode }[];
  // track.checks as written: load.ts checks the names against the checks: list.
  checkRefs: { name: string; weight: number; node: YNode }[];
  // The scripts it runs and as whom: load.ts judges them (host/config/security.ts).
  scripts: { path: string; node: YNode; runAs?: RunAs }[];
}

const EXAMPLE = '{ name: VI_1, interface: eth0, vrid: 51, virtualAddresses: [192.0.2.100/24] }';
const NOTIFY_EVENTS = ['master', 'backup', 'fault', 'stop'] as const;

export function readInstance(ctx: Ctx, item: YNode, index: number): Draft | undefined {
  const f = itemMap(ctx, item, 'instance', `instance ${index + 1}`, EXAMPLE);
  if (!f) return undefined;
  const d: Draft = { spec: undefined as unknown as InstanceSpec, node: item, vips: [], checkRefs: [], scripts: [] };
  const missing = (key: string, example: string) =>
    ctx.report(item, `${d.name !== undefined ? `instance ${d.name}` : `instance ${index + 1}`} has no ${key}: add "${key}: ${example}"`);

  // Identity.
  const nameE = f.get('name');
  if (nameE) {
    const name = string(ctx, nameE, 'a name such as VI_1');
    const bad = name === undefined ? undefined : nameProblem('name', name);
    if (bad) ctx.report(at(nameE), bad);
    else if (name !== undefined) { d.name = name; d.nameAt = at(nameE); }
  } else {
    missing('name', 'VI_1');
  }

  const ifE = f.get('interface');
  if (ifE) {
    const iface = string(ctx, ifE, 'an interface name such as eth0');
    const bad = iface === undefined ? undefined : ifnameProblem('interface', iface);
    if (bad) ctx.report(at(ifE), bad);
    else d.iface = iface;
  } else {
    missing('interface', 'eth0');
  }

  const vridE = f.get('vrid');
  if (vridE) { d.vrid = integer(ctx, vridE, 1, 255); d.vridAt = at(vridE); } else missing('vrid', '51');

  const versionE = f.get('version');
  let version: 2 | 3 | undefined = DEFAULTS.version;
  if (versionE) {
    const v = integer(ctx, versionE, 2, 3, (x) => `version ${x} is not a VRRP version: write 3 (RFC 5798, IPv4 and IPv6) or 2 (RFC 3768, IPv4)`);
    version = v === 2 || v === 3 ? v : undefined;
  }

  // Virtual addresses: one family per instance, the first address's.
  const vipsE = f.get('virtualAddresses');
  const vipSet = new Map<string, YNode>();
  if (vipsE) {
    const items = list(ctx, vipsE, 'addresses, e.g. [192.0.2.100/24]');
    // A list used through an alias: a clash with another instance is at the use, not the anchor.
    const viaAlias = isAlias(vipsE.value) ? vipsE.value : undefined;
    if (items && items.length === 0) ctx.report(at(vipsE), 'virtualAddresses is empty: list at least one address, e.g. [192.0.2.100/24]');
    items?.forEach((node, i) => {
      if (i === LIMITS.virtualAddresses) {
        ctx.report(node, `virtualAddresses has ${items.length} addresses; an instance carries at most ${LIMITS.virtualAddresses}: split them across instances`);
      }
      const text = itemString(ctx, node, 'an IP address (write e.g. 192.0.2.100/24)');
      if (text === undefined) return;
      const a = parseAddr(text, 'allowed');
      if (typeof a === 'string') { ctx.report(node, `virtual address ${a}`); return; }
      const special = specialAddress(a);
      if (special) { ctx.report(node, `virtual address ${a.address} is ${special}`); return; }
      const hostBits = hostBitsProblem(a);
      if (hostBits) { ctx.report(node, hostBits); return; }
      const first = vipSet.get(a.address);
      if (first !== undefined) { ctx.report(node, `virtual address ${a.address} is listed twice (first on line ${ctx.pos(first).line}): remove one`); return; }
      vipSet.set(a.address, node);
      if (d.family === undefined) d.family = a.family;
      else if (a.family !== d.family) {
        ctx.report(node, `virtualAddresses mixes IPv4 and IPv6: one family per instance; make a second instance for ${a.address}`);
        return;
      }
      d.vips.push({ addr: a, node: viaAlias ?? node });
    });
  } else {
    missing('virtualAddresses', '[192.0.2.100/24]');
  }
  if (version === 2 && d.family === 6) {
    ctx.report(at(versionE!), 'version 2 cannot carry IPv6 addresses (VRRPv2 is IPv4 only): set version: 3');
  }

  // Election.
  const priorityE = f.get('priority');
  const priority = priorityE ? integer(ctx, priorityE, 1, 255) : DEFAULTS.priority;

  const intervalE = f.get('advertInterval');
  let intervalUs: number | undefined = parseDuration(DEFAULTS.advertInterval);
  if (intervalE) {
    const iv = duration(ctx, intervalE);
    intervalUs = iv?.us;
    if (iv && version === 3) {
      const [lo, hi] = LIMITS.v3IntervalUs;
      if (iv.us < lo || iv.us > hi || iv.us % 10e3 !== 0) {
        ctx.report(at(intervalE), `advertInterval ${iv.text}: VRRPv3 intervals are 10ms..40.95s in steps of 10ms`);
        intervalUs = undefined;
      }
    } else if (iv && version === 2) {
      const [lo, hi] = LIMITS.v2IntervalUs;
      if (iv.us < lo || iv.us > hi || iv.us % 1e6 !== 0) {
        ctx.report(at(intervalE), `advertInterval ${iv.text}: VRRPv2 intervals are whole seconds (1s..255s)`);
        intervalUs = undefined;
      }
    }
  }

  const preemptE = f.get('preempt');
  const preempt = preemptE ? boolean(ctx, preemptE) : DEFAULTS.preempt;
  const delayE = f.get('preemptDelay');
  const delayUs = delayE ? durationIn(ctx, delayE, ...LIMITS.preemptDelayUs, 10e3) : parseDuration(DEFAULTS.preemptDelay);
  if (preempt === false && delayE && delayUs !== undefined && delayUs > 0) {
    ctx.report(delayE.key, `preemptDelay has no effect with preempt: false: remove it, or set preempt: true`);
  }
  if (preempt === false && priority === 255) {
    ctx.report(at(preemptE!), 'priority 255 is the address owner, which always preempts (RFC 5798 §6.1, Preempt_Mode): remove "preempt: false" or lower the priority');
  }
  const acceptE = f.get('acceptMode');
  const acceptMode = acceptE ? boolean(ctx, acceptE) : DEFAULTS.acceptMode;

  // Unicast: absent = multicast; an empty list is refused, never a silent fallback.
  const peersE = f.get('unicastPeers');
  let peers: string[] | null = null;
  if (peersE) {
    const n = ctx.deref(peersE.value);
    const empty = n == null || (isScalar(n) && n.value === null) || (isSeq(n) && n.items.length === 0);
    if (ctx.unresolved(peersE.value)) {
      // reported
    } else if (empty) {
      ctx.report(at(peersE), 'unicastPeers is empty: list at least one peer, or remove the key for multicast');
    } else {
      const items = list(ctx, peersE, 'peer addresses, e.g. [192.0.2.2]');
      if (items) peers = readPeers(ctx, d, items, vipSet);
    }
  }
  const sourceE = f.get('unicastSource');
  let source: string | null = null;
  if (sourceE) {
    const text = string(ctx, sourceE, 'an address such as 192.0.2.1');
    const a = text === undefined ? undefined : parseAddr(text, 'refused');
    if (typeof a === 'string') ctx.report(at(sourceE), `unicastSource ${a}`);
    else if (a) {
      const special = specialAddress(a);
      if (special) ctx.report(at(sourceE), `unicastSource ${a.address} is ${special}`);
      else if (d.family !== undefined && a.family !== d.family) {
        ctx.report(at(sourceE), `unicastSource ${a.address} is ${fam(a.family)} but the virtual addresses are ${fam(d.family)}: use an address of this interface in ${fam(d.family)}`);
      } else if (vipSet.has(a.address)) {
        ctx.report(at(sourceE), `unicastSource ${a.address} is one of this instance's virtual addresses: adverts must leave from an address the host always has`);
      } else {
        source = a.address;
      }
    }
    if (!peersE) ctx.report(sourceE.key, 'unicastSource without unicastPeers: add unicastPeers, or remove unicastSource (multicast adverts leave from the interface\'s own address)');
    else if (source !== null && peers?.includes(source)) {
      const i = peers.indexOf(source);
      ctx.report(at(sourceE), `unicastSource ${source} is also listed in unicastPeers (item ${i + 1}): list only the other routers as peers`);
    }
  }

  // VRRPv2 authentication.
  const authE = f.get('auth');
  let auth: Auth = { type: 'none' };
  if (authE && version === 3) {
    ctx.report(authE.key, 'auth is VRRPv2 only (VRRPv3 has no authentication, RFC 5798): remove it, or set version: 2');
  } else if (authE) {
    auth = readAuth(ctx, authE) ?? auth;
  }

  const vmacE = f.get('vmac');
  const vmac = vmacE ? boolean(ctx, vmacE) : DEFAULTS.vmac;

  // Announcements.
  const garp = { count: DEFAULTS.garp.count, intervalUs: parseDuration(DEFAULTS.garp.interval), refreshUs: parseDuration(DEFAULTS.garp.refresh) };
  const garpE = f.get('garp');
  const gf = garpE ? map(ctx, garpE, 'garp', '{ count: 5, interval: 10ms, refresh: 60s }') : undefined;
  if (gf) {
    const c = gf.get('count');
    if (c) garp.count = integer(ctx, c, ...LIMITS.garpCount) ?? garp.count;
    const i = gf.get('interval');
    if (i) garp.intervalUs = durationIn(ctx, i, ...LIMITS.garpIntervalUs) ?? garp.intervalUs;
    const r = gf.get('refresh');
    if (r) {
      const rd = duration(ctx, r);
      const [lo, hi] = LIMITS.garpRefreshUs;
      if (rd && rd.us !== 0 && (rd.us < lo || rd.us > hi)) {
        ctx.report(at(r), `garp.refresh ${rd.text} is out of range: 0s (off) or ${fmtUs(lo)}..${fmtUs(hi)}`);
      } else if (rd) garp.refreshUs = rd.us;
    }
  }

  // Tracking.
  const tracked: TrackInterface[] = [];
  const trackE = f.get('track');
  const tf = trackE ? map(ctx, trackE, 'track', '{ interfaces: [{ name: eth1, weight: -50 }], checks: [{ name: web, weight: -60 }] }') : undefined;
  const ifsE = tf?.get('interfaces');
  if (ifsE) {
    const items = list(ctx, ifsE, 'interfaces, e.g. [{ name: eth1, weight: -50 }]');
    trackedItems(ctx, items, {
      key: 'trackInterface', what: 'a tracked interface', example: '{ name: eth1, weight: -50 }',
      noName: 'a tracked interface has no name: add "name: eth1"', nameHint: 'an interface name such as eth1',
      problem: ifnameProblem, noun: 'interface',
      limit: (node, i) => {
        if (i === LIMITS.trackInterfaces) ctx.report(node, `track.interfaces has ${items!.length} interfaces; at most ${LIMITS.trackInterfaces}`);
      },
      add: (name, weight) => tracked.push({ name, weight }),
    });
  }

  const checksE = tf?.get('checks');
  if (checksE) {
    const items = list(ctx, checksE, 'checks, e.g. [{ name: web, weight: -60 }]');
    trackedItems(ctx, items, {
      key: 'trackCheck', what: 'a tracked check', example: '{ name: web, weight: -60 }',
      noName: 'a tracked check has no name: add "name: web" (a check of the top-level checks: list)',
      nameHint: 'a check name such as web', problem: nameProblem, noun: 'check',
      limit: (node, i) => {
        if (tracked.length + i === LIMITS.tracks) {
          ctx.report(node, `${tracked.length} tracked interfaces and ${items!.length} tracked checks; an instance tracks at most ${LIMITS.tracks} in all`);
        }
      },
      add: (name, weight, node) => d.checkRefs.push({ name, weight, node }),
    });
  }

  // Notification scripts.
  const notify: Notify = { master: null, backup: null, fault: null, stop: null, timeoutUs: parseDuration(DEFAULTS.notifyTimeout) };
  const notifyE = f.get('notify');
  const nf = notifyE ? map(ctx, notifyE, 'notify', '{ master: /etc/vigil/master.sh }') : undefined;
  if (nf) {
    const userE = nf.get('user');
    let runAs: RunAs | undefined;
    if (userE) {
      const name = string(ctx, userE, 'the name of a local user, e.g. vigil-hooks');
      if (name !== undefined) {
        runAs = lookupUser(name);
        if (!runAs) ctx.report(at(userE), `notify.user ${JSON.stringify(name)} is not a local user: create it (useradd --system ${name}) or name another`);
        else if (runAs.uid === 0) ctx.report(at(userE), `notify.user ${JSON.stringify(name)} is root (uid 0): name an unprivileged user, or remove the key (hooks run as root by default)`);
        else notify.user = name;
      }
    }
    for (const ev of NOTIFY_EVENTS) {
      const e = nf.get(ev);
      if (e) notify[ev] = scriptPath(ctx, e) ?? null;
      if (e && notify[ev]) d.scripts.push({ path: notify[ev]!, node: at(e), runAs: notify.user ? runAs : undefined });
    }
    const t = nf.get('timeout');
    if (t) notify.timeoutUs = durationIn(ctx, t, ...LIMITS.notifyTimeoutUs) ?? notify.timeoutUs;
  }

  d.spec = {
    name: d.name ?? '',
    ...ctx.pos(item),
    interface: d.iface ?? '',
    vrid: d.vrid ?? 0,
    version: version ?? 3,
    family: d.family ?? 4,
    priority: priority ?? 0,
    advertIntervalUs: intervalUs ?? 0,
    advertIntervalCs: (intervalUs ?? 0) / 1e4,
    preempt: preempt ?? true,
    preemptDelayUs: delayUs ?? 0,
    acceptMode: acceptMode ?? false,
    virtualAddresses: d.vips.map(({ addr }): Address => ({ address: addr.address, prefixLen: addr.prefixLen ?? (addr.family === 4 ? 32 : 128) })),
    unicastPeers: peers,
    unicastSource: source,
    auth,
    vmac: vmac ?? false,
    garp,
    track: { interfaces: tracked, checks: d.checkRefs.map(({ name, weight }) => ({ name, weight })) },
    notify,
    syncGroup: null,
  };
  return d;
}

const fam = (f: Family) => (f === 4 ? 'IPv4' : 'IPv6');

function readPeers(ctx: Ctx, d: Draft, items: YNode[], vips: Map<string, YNode>): string[] {
  const peers: string[] = [];
  const seen = new Map<string, YNode>();
  items.forEach((node, i) => {
    if (i === LIMITS.unicastPeers) ctx.report(node, `unicastPeers has ${items.length} peers; at most ${LIMITS.unicastPeers}`);
    const text = itemString(ctx, node, 'a peer address (write e.g. 192.0.2.2)');
    if (text === undefined) return;
    const a = parseAddr(text, 'refused');
    if (typeof a === 'string') { ctx.report(node, `unicast peer ${a}`); return; }
    const special = specialAddress(a);
    if (special) { ctx.report(node, `unicast peer ${a.address} is ${special}: list the other routers' own addresses`); return; }
    if (d.family !== undefined && a.family !== d.family) {
      ctx.report(node, `unicast peer ${a.address} is ${fam(a.family)} but the virtual addresses are ${fam(d.family)}: peers must be of the instance's family`);
      return;
    }
    if (vips.has(a.address)) {
      ctx.report(node, `unicast peer ${a.address} is one of this instance's virtual addresses: list the other routers' own addresses`);
      return;
    }
    const first = seen.get(a.address);
    if (first !== undefined) { ctx.report(node, `unicast peer ${a.address} is listed twice (first on line ${ctx.pos(first).line}): remove one`); return; }
    seen.set(a.address, node);
    peers.push(a.address);
  });
  return peers;
}

function readAuth(ctx: Ctx, e: Entry): Auth | undefined {
  const f: Fields | undefined = map(ctx, e, 'auth', '{ type: pass, password: s3cret }');
  if (!f) return undefined;
  const typeE = f.get('type');
  const pwE = f.get('password');
  let type: string | undefined;
  if (!typeE) ctx.report(at(e), 'auth has no type: add "type: pass" (or remove auth)');
  else {
    type = string(ctx, typeE, 'pass or none');
    if (type !== undefined && type !== 'pass' && type !== 'none') {
      ctx.report(at(typeE), `auth.type ${JSON.stringify(type)} is not supported: write pass or none`);
      type = undefined;
    }
  }
  if (type === 'none') {
    if (pwE) ctx.report(pwE.key, 'auth.password is set but auth.type is none: remove it, or set type: pass');
    return { type: 'none' };
  }
  if (type === 'pass' && !pwE) {
    ctx.report(at(e), 'auth type pass needs a password: add "password: ..." (1..8 characters)');
    return undefined;
  }
  if (!pwE) return undefined;
  const pw = string(ctx, pwE, 'a password of 1..8 characters');
  if (pw === undefined) return undefined;
  if (pw.length === 0) { ctx.report(at(pwE), 'auth.password is empty: give 1..8 characters'); return undefined; }
  if (!/^[\x21-\x7e]+$/.test(pw)) {
    ctx.report(at(pwE), 'auth.password must be printable ASCII without spaces (VRRPv2 carries it as 8 bytes)');
    return undefined;
  }
  if (pw.length > 8) {
    ctx.report(at(pwE), `auth.password is ${pw.length} characters; VRRPv2 carries at most 8: shorten it (vigil does not cut it for you)`);
    return undefined;
  }
  return type === 'pass' ? { type: 'pass', password: pw } : undefined;
}

function scriptPath(ctx: Ctx, e: Entry): string | undefined {
  const p = string(ctx, e, 'the absolute path of an executable');
  if (p === undefined) return undefined;
  const q = JSON.stringify(p);
  let why: string | undefined;
  if (p.length === 0) why = `${e.label} is empty: give the absolute path of an executable, or remove the key`;
  else if (!p.startsWith('/')) why = `${e.label} ${q} is not an absolute path: write the full path, e.g. /etc/vigil/${p.replace(/^\.\//, '')}`;
  else if (/[\s\x00-\x1f]/.test(p)) why = `${e.label} ${q} contains white space: give the path of one executable (it runs without a shell, so no arguments here)`;
  else if (p.length > 4095) why = `${e.label} is ${p.length} characters long; a path is at most 4095`;
  else if (p.endsWith('/')) why = `${e.label} ${q} is a directory: give the path of an executable`;
  if (why) { ctx.report(at(e), why); return undefined; }
  return p;
}

// One list of `{ name, weight }` under track: (interfaces or checks): each name valid and listed
// once, the weight -254..254 (default DEFAULTS.trackWeight), every problem at its node.
function trackedItems(ctx: Ctx, items: YNode[] | undefined, k: {
  key: 'trackInterface' | 'trackCheck'; what: string; example: string; noName: string; nameHint: string; noun: string;
  problem: (key: string, name: string) => string | undefined;
  limit: (node: YNode, i: number) => void;
  add: (name: string, weight: number, nameNode: YNode) => void;
}): void {
  const seen = new Map<string, YNode>();
  items?.forEach((node, i) => {
    k.limit(node, i);
    const t = itemMap(ctx, node, k.key, k.what, k.example);
    if (!t) return;
    const nE = t.get('name');
    let name: string | undefined;
    if (!nE) ctx.report(node, k.noName);
    else {
      name = string(ctx, nE, k.nameHint);
      const bad = name === undefined ? undefined : k.problem('name', name);
      if (bad) { ctx.report(at(nE), bad); name = undefined; }
      if (name !== undefined && seen.has(name)) {
        ctx.report(at(nE), `${k.noun} ${name} is tracked twice (first on line ${ctx.pos(seen.get(name)).line}): keep one`);
        name = undefined;
      } else if (name !== undefined) seen.set(name, at(nE));
    }
    const wE = t.get('weight');
    const weight = wE ? integer(ctx, wE, -254, 254) : DEFAULTS.trackWeight;
    if (name !== undefined && weight !== undefined) k.add(name, weight, at(nE!));
  });
}
