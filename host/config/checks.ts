// The top-level `checks:` list: health checks whose results feed VRRP priorities through
// `track.checks` of the instances. Every key read and checked here; the names the instances
// track are matched in load.ts.
import type { Ctx, Entry, Fields, YNode } from './reader.ts';
import { at, describe, durationIn, integer, itemMap, itemString, list, map, string, fmtUs, uniqueName } from './reader.ts';
import { isMap, isScalar } from 'yaml';
import { DEFAULTS, LIMITS, type CheckSpec, type CheckType } from './types.ts';
import { parseAddr, parseAddrPort, parseDigest } from './values.ts';
import { parseDuration } from '../duration.ts';
import { LOCAL_KEYS, LOCAL_TYPES, readLocal, type LocalType } from './local-checks.ts';

const TYPES = ['icmp', 'tcp', 'http', 'dns', 'policy', 'exec', 'process', 'file'] as const;
const EXAMPLE = '{ name: web, type: http, target: "http://198.51.100.10:8080/health" }';
const TARGET_EXAMPLE: Record<CheckType, string> = {
  icmp: '198.51.100.10', tcp: '198.51.100.10:25 (IPv6: [2001:db8::10]:25)',
  http: 'http://198.51.100.10:8080/health', dns: '198.51.100.53 or 198.51.100.53:5353',
  policy: '198.51.100.10 or 198.51.100.10:8080 (the address the policy\'s probes may reach)',
  exec: '', process: '', file: '',
};
// Which check-level and expect keys belong to which type.
const ONLY: Record<string, CheckType[]> = { method: ['http'], host: ['http', 'policy'], ca: ['http', 'policy'], query: ['dns'], qtype: ['dns'], policy: ['policy'], args: ['policy'] };
const EXPECT_ONLY: Record<string, CheckType> = { status: 'http', body: 'http', digest: 'http', banner: 'tcp', address: 'dns' };

// scriptAt: an exec check run as root, where its program is written (load.ts checks it is safe).
export interface ReadCheck { spec: CheckSpec; nameAt: YNode; policyAt: YNode; scriptAt?: YNode }

export function readChecks(ctx: Ctx, e: Entry): ReadCheck[] {
  const items = list(ctx, e, `checks, e.g. [${EXAMPLE}]`);
  const out: ReadCheck[] = [];
  const names = new Map<string, YNode>();
  items?.forEach((item, i) => {
    if (i === LIMITS.checks) ctx.report(item, `${items.length} checks; vigil runs at most ${LIMITS.checks}`);
    const f = itemMap(ctx, item, 'check', `check ${i + 1}`, EXAMPLE);
    if (!f) return;
    const c = readCheck(ctx, f, item, i, names);
    if (c) out.push(c);
  });
  return out;
}

function readCheck(ctx: Ctx, f: Fields, item: YNode, i: number, names: Map<string, YNode>): ReadCheck | undefined {
  let ok = true;
  const bad = (node: YNode, message: string) => { ctx.report(node, message); ok = false; };

  const name = uniqueName(ctx, f, item, i, 'check', 'web', names);
  if (name === undefined) ok = false;
  const label = name !== undefined ? `check ${name}` : `check ${i + 1}`;

  const tE = f.get('type');
  let type: CheckType | undefined;
  if (!tE) bad(item, `${label} has no type: add "type: http" (icmp, tcp, http, dns, policy, exec, process or file)`);
  else {
    const t = string(ctx, tE, 'icmp, tcp, http, dns, policy, exec, process or file');
    if (t === 'https') bad(at(tE), `${label}: write type: http with an https:// target`);
    else if (t !== undefined && !(TYPES as readonly string[]).includes(t)) bad(at(tE), `${label}: type ${JSON.stringify(t)} is not a check type: write icmp, tcp, http, dns, policy, exec, process or file`);
    else if (t !== undefined) type = t as CheckType;
    else ok = false;
  }

  // Timing.
  const ivE = f.get('interval');
  const intervalUs = ivE ? durationIn(ctx, ivE, ...LIMITS.checkIntervalUs, 1e3) : parseDuration(DEFAULTS.check.interval);
  const toE = f.get('timeout');
  const timeoutUs = toE ? durationIn(ctx, toE, ...LIMITS.checkTimeoutUs, 1e3) : parseDuration(DEFAULTS.check.timeout);
  // A command may run its whole interval (keepalived's script timeout is the interval by default).
  // process and file checks are watched, not run in rounds: no timeout.
  if (intervalUs !== undefined && timeoutUs !== undefined && type !== 'process' && type !== 'file' && (type === 'exec' ? timeoutUs > intervalUs : timeoutUs >= intervalUs)) {
    bad(toE ? at(toE) : at(ivE!), `${label}: timeout ${fmtUs(timeoutUs)} must be shorter than interval ${fmtUs(intervalUs)}`
      + (toE ? '' : ` (the default timeout is ${DEFAULTS.check.timeout}: set a longer interval or a shorter timeout)`));
  }
  const rE = f.get('rise');
  const rise = rE ? integer(ctx, rE, ...LIMITS.checkRiseFall) : DEFAULTS.check.rise;
  const fE = f.get('fall');
  const fall = fE ? integer(ctx, fE, ...LIMITS.checkRiseFall) : DEFAULTS.check.fall;
  if (intervalUs === undefined || timeoutUs === undefined || rise === undefined || fall === undefined) ok = false;

  // Keys of another type.
  for (const [k, only] of Object.entries(ONLY)) {
    const e = f.get(k);
    if (e && type !== undefined && !only.includes(type)) bad(e.key, `${label}: ${k} is for ${only.join(' and ')} checks, not ${type}: remove it`);
  }
  const spec: CheckSpec = {
    name: name ?? '', ...ctx.pos(item), type: type ?? 'tcp', target: '', host: '', port: 0, url: null,
    intervalUs: intervalUs ?? 0, timeoutUs: timeoutUs ?? 0, rise: rise ?? 0, fall: fall ?? 0,
    method: DEFAULTS.check.method, hostHeader: null, ca: null, query: null, qtype: DEFAULTS.check.qtype, policy: null, args: [],
    expect: { status: [...DEFAULTS.check.status], body: null, banner: null, address: [], digest: null },
    exec: null, process: null, file: null,
  };

  // exec, process and file: their own keys, and no target.
  for (const [k, only] of Object.entries(LOCAL_KEYS)) {
    const e = f.get(k);
    if (e && type !== undefined && !(only as string[]).includes(type)) bad(e.key, `${label}: ${k} is for ${only.join(' and ')} checks, not ${type}: remove it`);
  }
  if (type !== undefined && (LOCAL_TYPES as readonly string[]).includes(type)) {
    const tgE = f.get('target');
    if (tgE) bad(tgE.key, `${label}: ${type === 'exec' ? 'an' : 'a'} ${type} check has no target: remove it`);
    const l = readLocal(ctx, f, type as LocalType, label, item);
    if (l) Object.assign(spec, l); else ok = false;
    spec.target = l?.exec ? l.exec.command.join(' ') : l?.process ? (l.process.process ?? l.process.cmdline?.join(' ') ?? l.process.pidfile ?? '') : l?.file?.path ?? '';
    const root = l?.exec && (l.exec.user === 'root' || l.exec.user === '0');
    return ok && name !== undefined ? { spec, nameAt: at(f.get('name')!), policyAt: undefined, ...(root ? { scriptAt: at(f.get('command')!) } : {}) } : undefined;
  }

  // Target.
  const targetE = f.get('target');
  if (!targetE) bad(item, `${label} has no target: add "target: ${type ? TARGET_EXAMPLE[type] : TARGET_EXAMPLE.http}"`);
  else {
    const text = string(ctx, targetE, type ? TARGET_EXAMPLE[type] : 'what to check');
    if (text === undefined) ok = false;
    else if (type !== undefined) {
      spec.target = text;
      const why = parseTarget(type, text.trim(), spec);
      if (why) bad(at(targetE), `${label}: target ${JSON.stringify(text)} ${why}`);
    }
  }

  // http.
  const mE = f.get('method');
  if (mE && type === 'http') {
    const m = string(ctx, mE, 'an HTTP method such as GET or HEAD');
    if (m !== undefined && !/^[A-Z]{1,16}$/.test(m)) bad(at(mE), `${label}: method ${JSON.stringify(m)} is not an HTTP method: write GET, HEAD, POST... in capitals`);
    else if (m !== undefined) spec.method = m;
  }
  const hE = f.get('host');
  if (hE && (type === 'http' || type === 'policy')) {
    const h = string(ctx, hE, 'a host name such as www.example.com');
    if (h !== undefined && !/^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$/.test(h)) bad(at(hE), `${label}: host ${JSON.stringify(h)} is not a host name (letters, digits, "." and "-", an optional :port)`);
    else if (h !== undefined) spec.hostHeader = h;
  }
  const caE = f.get('ca');
  if (caE && (type === 'http' || type === 'policy')) {
    const ca = string(ctx, caE, 'the absolute path of a PEM file');
    if (ca !== undefined && !/^\/[^\s]*[^/\s]$/.test(ca)) bad(at(caE), `${label}: ca ${JSON.stringify(ca)} must be the absolute path of a PEM file of CA certificates`);
    else if (ca !== undefined && spec.url !== null && !spec.url.startsWith('https:')) bad(at(caE), `${label}: ca is for https:// targets: remove it, or use https`);
    else if (ca !== undefined) spec.ca = ca;
  }
  // policy.
  const pE = f.get('policy');
  if (type === 'policy') {
    if (!pE) bad(item, `${label} has no policy: add "policy: NAME" (one of the top-level policies: list)`);
    else {
      const p = string(ctx, pE, 'the name of a policy');
      if (p !== undefined) spec.policy = p; else ok = false;
    }
  }
  const aE = f.get('args');
  if (aE && type === 'policy') {
    const args = readArgs(ctx, aE, label);
    if (args) spec.args = args; else ok = false;
  }
  // dns.
  const qE = f.get('query');
  if (type === 'dns') {
    if (!qE) bad(item, `${label} has no query: add "query: www.example.com" (the name the server must answer)`);
    else {
      const q = string(ctx, qE, 'a domain name such as www.example.com');
      const name = q?.replace(/\.$/, '');
      if (name !== undefined && (!/^[A-Za-z0-9_-]{1,63}(\.[A-Za-z0-9_-]{1,63})*$/.test(name) || name.length > 253)) {
        bad(at(qE), `${label}: query ${JSON.stringify(q)} is not a domain name: labels of 1..63 letters, digits, "-" or "_", joined by "."`);
      } else if (name !== undefined) spec.query = name;
      else ok = false;
    }
  }
  const qtE = f.get('qtype');
  if (qtE && type === 'dns') {
    const qt = string(ctx, qtE, 'A or AAAA');
    if (qt !== undefined && qt !== 'A' && qt !== 'AAAA') bad(at(qtE), `${label}: qtype ${JSON.stringify(qt)} is not supported: write A or AAAA`);
    else if (qt !== undefined) spec.qtype = qt;
  }

  // expect.
  const xE = f.get('expect');
  const xf = xE ? map(ctx, xE, 'expect', '{ status: [200] }') : undefined;
  if (xf) {
    for (const [k, only] of Object.entries(EXPECT_ONLY)) {
      const e = xf.get(k);
      if (!e) continue;
      if (type !== undefined && type !== only) { bad(e.key, `${label}: expect.${k} is for ${only} checks, not ${type}: remove it`); continue; }
      if (k === 'status') {
        const codes = list(ctx, e, 'HTTP status codes, e.g. [200, 204]');
        if (codes && codes.length === 0) bad(at(e), `${label}: expect.status is empty: list at least one status code`);
        const seen: number[] = [];
        for (const node of codes ?? []) {
          const v = (ctx.deref(node) as { value?: unknown } | null)?.value;
          if (typeof v !== 'number' || !Number.isInteger(v) || v < 100 || v > 599) { bad(node, `${label}: expect.status ${JSON.stringify(v ?? null)} is not an HTTP status code (100..599)`); continue; }
          if (seen.includes(v)) { bad(node, `${label}: status ${v} is listed twice in expect.status: remove one`); continue; }
          seen.push(v);
        }
        if (codes) spec.expect.status = seen;
      } else if (k === 'body' || k === 'banner') {
        const re = string(ctx, e, 'a regular expression');
        if (re !== undefined) {
          try { new RegExp(re); spec.expect[k] = re; } catch (err) { bad(at(e), `${label}: expect.${k} is not a regular expression: ${(err as Error).message}`); }
        } else ok = false;
      } else if (k === 'digest') {
        const text = string(ctx, e, 'a digest such as sha256:<64 hex digits> or md5:<32 hex digits>');
        const d = text === undefined ? undefined : parseDigest(text);
        if (typeof d === 'string') bad(at(e), `${label}: expect.digest ${d}`);
        else if (d !== undefined) spec.expect.digest = d;
        else ok = false;
      } else {
        const addrs = list(ctx, e, 'IP addresses, e.g. [198.51.100.5]');
        if (addrs && addrs.length === 0) bad(at(e), `${label}: expect.address is empty: list the addresses the answer may hold, or remove the key`);
        for (const node of addrs ?? []) {
          const text = itemString(ctx, node, 'an IP address');
          if (text === undefined) { ok = false; continue; }
          const a = parseAddr(text, 'refused');
          if (typeof a === 'string') { bad(node, `${label}: expect.address ${a}`); continue; }
          if (type === 'dns' && (a.family === 6) !== (spec.qtype === 'AAAA')) {
            bad(node, `${label}: expect.address ${a.address} is ${a.family === 6 ? 'IPv6' : 'IPv4'} but qtype is ${spec.qtype}: an ${spec.qtype} answer never holds it`);
            continue;
          }
          spec.expect.address.push(a.address);
        }
      }
    }
  }
  return ok && name !== undefined ? { spec, nameAt: at(f.get('name')!), policyAt: pE ? at(pE) : undefined } : undefined;
}

// args: a flat map of scalars, handed to the policy as strings, in the order written.
function readArgs(ctx: Ctx, e: Entry, label: string): [string, string][] | undefined {
  const node = ctx.deref(e.value);
  if (!isMap(node)) { ctx.report(at(e), `${label}: args must be a map such as { path: /health, budgetMs: 200 }, not ${describe(ctx, e.value)}`); return undefined; }
  const out: [string, string][] = [];
  let ok = true;
  for (const pair of node.items) {
    const k = ctx.deref(pair.key as YNode), v = ctx.deref(pair.value as YNode);
    const key = isScalar(k) ? String(k.value) : undefined;
    if (key === undefined || !/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/.test(key)) { ctx.report((pair.key as YNode) ?? at(e), `${label}: args key ${JSON.stringify(key ?? describe(ctx, k))} must be a name (a letter, then letters, digits, "_", "-" or ".")`); ok = false; continue; }
    if (out.some(([x]) => x === key)) { ctx.report(pair.key as YNode, `${label}: args.${key} is given twice: remove one`); ok = false; continue; }
    if (!isScalar(v) || v.value === null || typeof v.value === 'object') { ctx.report((pair.value as YNode) ?? (pair.key as YNode), `${label}: args.${key} must be a plain value (text, a number or true/false), not ${describe(ctx, v)}`); ok = false; continue; }
    const text = String(v.value);
    if (text.length > 1024) { ctx.report(pair.value as YNode, `${label}: args.${key} is ${text.length} characters long: at most 1024`); ok = false; continue; }
    out.push([key, text]);
  }
  if (out.length > LIMITS.policyArgs) { ctx.report(at(e), `${label}: ${out.length} args: at most ${LIMITS.policyArgs}`); ok = false; }
  return ok ? out : undefined;
}

// The target's parts into spec, or why it is not one.
function parseTarget(type: CheckType, text: string, spec: CheckSpec): string | undefined {
  if (type === 'http') {
    let u: URL;
    try { u = new URL(text); } catch { return 'is not a URL: write e.g. http://198.51.100.10:8080/health'; }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return `has scheme ${u.protocol.replace(':', '')}: write http:// or https://`;
    if (u.username || u.password) return 'has credentials in it: leave them out (they would end up in logs and /status)';
    if (u.hash) return 'has a #fragment: leave it out';
    spec.url = u.href;
    spec.host = u.hostname.replace(/^\[|\]$/g, '');
    spec.port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
    return undefined;
  }
  if (type === 'icmp') {
    const a = parseAddr(text, 'refused');
    if (typeof a === 'string') return 'is not an IP address (vigil resolves no names): write e.g. 198.51.100.10';
    if (a.family !== 4) return 'is IPv6: ICMP checks are IPv4 only for now';
    spec.host = a.address;
    return undefined;
  }
  // tcp, dns and policy: ADDRESS:PORT, [IPv6]:PORT; dns's port defaults to 53, a policy's to
  // none (its probes name their ports).
  const r = parseAddrPort(text, false);
  if ('problem' in r) return r.problem;
  if (r.port === undefined && type === 'tcp') return 'has no port: write ADDRESS:PORT, e.g. 198.51.100.10:25';
  spec.host = r.addr.address;
  spec.port = r.port ?? (type === 'dns' ? DEFAULTS.check.dnsPort : 0);
  return undefined;
}
