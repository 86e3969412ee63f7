// Every key the parser knows, as one tree: a map is an object, a list of maps is a one-element
// array, anything else (a scalar, a list of scalars) is null. The parser refuses any key not
// here; schema/vigil.schema.json must name exactly these (test/config/schema.test.ts walks both).

export type Shape = { readonly [key: string]: Shape | null } | readonly [Shape];

const auth = { type: null, password: null };
const garp = { count: null, interval: null, refresh: null };
const trackInterface = { name: null, weight: null };
const trackCheck = { name: null, weight: null };
const track = { interfaces: [trackInterface] as const, checks: [trackCheck] as const };
const expect = { status: null, body: null, digest: null, banner: null, address: null };
const check = {
  name: null, type: null, target: null, interval: null, timeout: null, rise: null, fall: null,
  method: null, host: null, ca: null, query: null, qtype: null, policy: null, args: null, expect,
  command: null, shell: null, user: null, dynamic: null,                        // exec
  process: null, cmdline: null, paramMatch: null, pidfile: null, min: null, max: null, delay: null, forkDelay: null,   // process
  path: null,                                                                   // file
};
const policy = { name: null, file: null, memory: null, cpu: null };
const notify = { master: null, backup: null, fault: null, stop: null, timeout: null, user: null };

const instance = {
  name: null, interface: null, vrid: null, priority: null, version: null, advertInterval: null,
  preempt: null, preemptDelay: null, acceptMode: null, virtualAddresses: null,
  unicastPeers: null, unicastSource: null, auth, vmac: null, garp, track, notify,
};

const realServer = { address: null, port: null, weight: null, check: null, inhibitOnFailure: null };
const persistence = { timeout: null, netmask: null };
const lbNotify = { quorumUp: null, quorumDown: null };
const virtualServer = {
  name: null, address: null, port: null, fwmark: null, protocol: null, scheduler: null, forwarding: null,
  interface: null, persistence, quorum: null, hysteresis: null, sorryServer: null, alpha: null,
  flushOnFailure: null, notify: lbNotify, realServers: [realServer] as const,
};
const loadBalancer = { table: null, removeOnStop: null };

const syncGroup = { name: null, instances: null };
const status = { listen: null, target: null };
const realtime = { priority: null };   // or a bare true / false
const security = { allowUnsafeScripts: null };

export const SHAPE = {
  instances: [instance] as const,
  checks: [check] as const,
  policies: [policy] as const,
  syncGroups: [syncGroup] as const,
  virtualServers: [virtualServer] as const,
  loadBalancer,
  status,
  realtime,
  security,
};

// The maps by name, for the parser's unknown-key check.
export const MAPS = { top: SHAPE, instance, auth, garp, track, trackInterface, trackCheck, check, policy, expect, notify, syncGroup, status, realtime, security, virtualServer, realServer, persistence, lbNotify, loadBalancer };
export type MapKind = keyof typeof MAPS;

// keepalived's keywords, for people bringing a keepalived.conf along: what vigil calls them.
const KEEPALIVED: Record<string, string> = {
  vrrp_instance: 'instances', vrrp_sync_group: 'syncGroups', group: 'instances',
  virtual_router_id: 'vrid', advert_int: 'advertInterval', virtual_ipaddress: 'virtualAddresses',
  unicast_peer: 'unicastPeers', unicast_src_ip: 'unicastSource', preempt_delay: 'preemptDelay',
  track_interface: 'track', authentication: 'auth', auth_type: 'type', auth_pass: 'password',
  use_vmac: 'vmac', accept: 'acceptMode', vrrp_version: 'version',
  garp_master_repeat: 'garp', garp_master_delay: 'garp', garp_master_refresh: 'garp',
  garp_interval: 'interval', garp_master_refresh_repeat: 'count',
  notify_master: 'notify', notify_backup: 'notify', notify_fault: 'notify', notify_stop: 'notify',
  vrrp_rt_priority: 'realtime', addresses: 'virtualAddresses', vips: 'virtualAddresses',
  peers: 'unicastPeers', advert: 'advertInterval', interval: 'advertInterval',
  track_script: 'track', vrrp_script: 'checks', real_server: 'realServers', virtual_server: 'virtualServers',
  lb_algo: 'scheduler', lvs_sched: 'scheduler', lb_kind: 'forwarding', lvs_method: 'forwarding',
  persistence_timeout: 'persistence', persistence_granularity: 'netmask', sorry_server: 'sorryServer',
  inhibit_on_failure: 'inhibitOnFailure', quorum_up: 'quorumUp', quorum_down: 'quorumDown',
};

// Keys with no counterpart, and what to write instead.
const INSTEAD: Record<string, string> = {
  nopreempt: 'write "preempt: false" instead',
  state: 'vigil has no initial state: the highest priority becomes master; set "priority" instead',
  dont_track_primary: 'vigil does not track the instance\'s own interface separately; remove it',
};

// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

const fold = (s: string) => s.toLowerCase().replace(/[-_\s]/g, '');

// The closest of `known` to `word`, or undefined when nothing is close enough to be a typo.
export function closest(word: string, known: readonly string[]): string | undefined {
  const f = fold(word);
  const same = known.find((k) => fold(k) === f);
  if (same) return same;
  let best: string | undefined, bestD = Infinity;
  for (const k of known) {
    const dist = editDistance(f, fold(k));
    if (dist < bestD) { best = k; bestD = dist; }
  }
  const allowed = f.length <= 3 ? 1 : f.length <= 8 ? 2 : 3;
  return bestD <= allowed ? best : undefined;
}

// The message for an unknown key in a map of the given kind.
export function unknownKeyMessage(key: string, kind: MapKind): string {
  const known = Object.keys(MAPS[kind]);
  const q = JSON.stringify(key);
  if (INSTEAD[key] && kind === 'instance') return `unknown key ${q}: ${INSTEAD[key]}`;
  const alias = KEEPALIVED[key];
  const guess = alias !== undefined && known.includes(alias) ? alias : closest(key, known);
  if (guess !== undefined) return `unknown key ${q} (did you mean ${JSON.stringify(guess)}?)`;
  const where = kind === 'top' ? 'at the top level' : `in ${ARTICLE[kind]}`;
  return `unknown key ${q} ${where}: the keys are ${known.join(', ')}`;
}

const ARTICLE: Record<MapKind, string> = {
  top: 'the file', instance: 'an instance', auth: 'auth', garp: 'garp', track: 'track',
  trackInterface: 'a tracked interface', trackCheck: 'a tracked check', check: 'a check', policy: 'a policy', expect: 'expect', notify: 'notify', syncGroup: 'a sync group',
  status: 'status', realtime: 'realtime', security: 'security', virtualServer: 'a virtual server', realServer: 'a real server',
  persistence: 'persistence', lbNotify: 'notify', loadBalancer: 'loadBalancer',
};
