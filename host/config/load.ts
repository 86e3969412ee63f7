// Reading vigil's configuration file. A bad file is refused whole: every problem is collected
// (YAML syntax first; the rest once the YAML reads), sorted by place and thrown as one
// ConfigError, each problem `file:line:col: what is wrong and the fix`.
import { readFileSync, statSync } from 'node:fs';
import { isMap, LineCounter, parseDocument } from 'yaml';
import { ConfigError, type ConfigProblem } from './errors.ts';
import { VigilError } from '../errors.ts';
import { readInstance, type Draft } from './instance.ts';
import { readChecks } from './checks.ts';
import { readPolicies } from './policies.ts';
import { readLoadBalancer, readVirtualServers } from './virtual-servers.ts';
import { closest } from './keys.ts';
import { at, boolean, Ctx, describe, Fields, integer, itemMap, itemString, list, map, string, uniqueName, MAX_PROBLEMS, TooManyProblems, type Entry, type YNode } from './reader.ts';
import { MAX_DEPTH, tooDeep } from './depth.ts';
import { scriptProblem } from './security.ts';
import { DEFAULTS, LIMITS, type AgentConfig, type RealtimeSpec, type StatusSpec, type SyncGroupSpec } from './types.ts';
import { parseListen } from './values.ts';

export function loadConfig(path: string): AgentConfig {
  return parseConfig(readConfigText(path), path);
}

// The file's text, or a ConfigError that says why not (the supervisor keeps the text it parsed:
// host/agent/accepted.ts).
export function readConfigText(path: string): string {
  const whole = (message: string) => new ConfigError([{ file: path, line: 0, col: 0, message }]);
  let text: string;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw whole('is a directory: give the path of the YAML file');
    if (st.size > LIMITS.fileBytes) throw whole(`is ${st.size} bytes; a vigil config is at most ${LIMITS.fileBytes} bytes`);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file (ENOENT)' : e.code === 'EACCES' ? 'permission denied (EACCES)' : e.message;
    throw whole(`cannot read it: ${why}`);
  }
  return text;
}

export function parseConfig(text: string, file: string): AgentConfig {
  if (text.length > LIMITS.fileBytes) {
    throw new ConfigError([{ file, line: 0, col: 0, message: `is ${text.length} characters; a vigil config is at most ${LIMITS.fileBytes}` }]);
  }
  const deep = tooDeep(text);
  if (deep !== undefined) {
    const before = text.slice(0, deep);
    const line = before.split('\n').length, col = deep - before.lastIndexOf('\n');
    throw new ConfigError([{ file, line, col, message: `nested more than ${MAX_DEPTH} levels deep here: a vigil config needs a handful; check the brackets and the indentation` }]);
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lc, prettyErrors: false, uniqueKeys: false, merge: false, strict: true, version: '1.2', schema: 'core',
  });
  const ctx = new Ctx(file, lc, doc);
  try {
    return readChecked(ctx, text, doc);
  } catch (err) {
    if (!(err instanceof TooManyProblems)) throw err;
    const problems = sorted(ctx.problems);
    problems.push({ file, line: 0, col: 0, message: `${MAX_PROBLEMS} problems, and more not listed: fix these first` });
    throw new ConfigError(problems);
  }
}

function readChecked(ctx: Ctx, text: string, doc: ReturnType<typeof parseDocument>): AgentConfig {
  for (const e of [...doc.errors, ...doc.warnings]) {
    // An unclosed quote is found at the end of the file; the fix is where the quote opens.
    const quote = e.code === 'MISSING_CHAR' && /closing (["'])quote/.exec(e.message)?.[1];
    const open = quote ? text.lastIndexOf(quote, e.pos[0] - 1) : -1;
    if (quote && open >= 0) ctx.report(open, `YAML: the quoted string that starts here never closes: add the closing ${quote}`);
    else ctx.report(e.pos[0], `YAML: ${yamlMessage(e.code, e.message)}`);
  }
  if (ctx.problems.length) throw new ConfigError(sorted(ctx.problems));
  const config = readTop(ctx, doc.contents as YNode);
  if (ctx.problems.length) throw new ConfigError(sorted(ctx.problems));
  const unread = ctx.maps.flatMap((m) => m.unread());
  if (unread.length) throw new VigilError('VIGIL_EINTERNAL', `internal: accepted but never read: ${unread.join(', ')} (a bug in host/config)`);
  return config;
}

// The yaml library's message, with the fix where the library's words do not give it.
function yamlMessage(code: string, message: string): string {
  const m = message.replace(/\s+/g, ' ').trim();
  switch (code) {
    case 'MULTIPLE_DOCS': return 'the file holds more than one YAML document (a second "---"): keep one';
    case 'TAB_AS_INDENT': return `${m}: indent with spaces`;
    case 'BAD_ALIAS': return `${m}: define the anchor (&name) before its use (*name)`;
    default: return m;
  }
}

function sorted(problems: ConfigProblem[]): ConfigProblem[] {
  return problems
    .map((p, i) => [p, i] as const)
    .sort(([a, i], [b, j]) => a.line - b.line || a.col - b.col || i - j)
    .map(([p]) => p);
}

function readTop(ctx: Ctx, root: YNode): AgentConfig {
  const config: AgentConfig = {
    file: ctx.file,
    instances: [],
    syncGroups: [],
    checks: [],
    policies: [],
    status: statusFrom(DEFAULTS.statusListen),
    realtime: { enabled: true, priority: DEFAULTS.realtimePriority },
    virtualServers: [],
    loadBalancer: { table: DEFAULTS.lb.table, removeOnStop: true },
  };
  if (root == null || (!isMap(root) && describe(ctx, root) === 'empty')) {
    ctx.report(0, 'the file is empty: it needs an "instances:" list with at least one instance (see examples/vigil.yaml)');
    return config;
  }
  if (!isMap(root)) {
    ctx.report(root, `the file must be a map with "instances:" at the top, not ${describe(ctx, root)}`);
    return config;
  }
  const top = new Fields(ctx, root, 'top');

  // Instances, then what needs them all.
  const drafts: Draft[] = [];
  const instE = top.get('instances');
  // A director without VRRP (keepalived's virtual_server alone) is a load balancer only.
  if (!instE && !top.get('virtualServers')) ctx.report(root, 'no instances: add an "instances:" list with at least one instance (see examples/vigil.yaml), or "virtualServers:" for a load balancer alone');
  else if (instE) {
    const items = list(ctx, instE, 'instances ("- name: VI_1 ...")');
    if (items && items.length === 0) ctx.report(at(instE), 'instances is empty: list at least one instance');
    items?.forEach((item, i) => {
      if (i === LIMITS.instances) ctx.report(item, `${items.length} instances; vigil runs at most ${LIMITS.instances}`);
      if (i >= LIMITS.instances) return;   // refused already; reading the rest is only time
      const d = readInstance(ctx, item, i);
      if (d) drafts.push(d);
    });
  }
  crossCheck(ctx, drafts);

  const checksE = top.get('checks');
  const checks = checksE ? readChecks(ctx, checksE) : [];
  config.checks = checks.map((c) => c.spec);
  // What the instances track: defined checks (a check with problems is reported already).
  const checkNames = config.checks.map((c) => c.name);
  const broken = new Set<string>();
  if (checksE) collectNames(ctx, checksE, broken);
  for (const d of drafts) {
    for (const r of d.checkRefs) {
      if (checkNames.includes(r.name) || broken.has(r.name)) continue;
      const guess = closest(r.name, [...new Set([...checkNames, ...broken])]);
      ctx.report(r.node, `instance ${d.name ?? '?'} tracks check "${r.name}", which is not defined`
        + (guess ? ` (did you mean "${guess}"?)` : checkNames.length ? `: the checks are ${checkNames.join(', ')}` : ': add it to a top-level "checks:" list'));
    }
  }

  // Policies, and the ones the checks use.
  const policiesE = top.get('policies');
  config.policies = policiesE ? readPolicies(ctx, policiesE) : [];
  const policyNames = config.policies.map((p) => p.name);
  for (const c of checks) {
    if (c.spec.type !== 'policy' || c.spec.policy === null || policyNames.includes(c.spec.policy)) continue;
    const guess = closest(c.spec.policy, policyNames);
    ctx.report(c.policyAt, `check ${c.spec.name} uses policy "${c.spec.policy}", which is not defined`
      + (guess ? ` (did you mean "${guess}"?)` : policyNames.length ? `: the policies are ${policyNames.join(', ')}` : ': add it to a top-level "policies:" list, e.g. [{ name: web-budget, file: builtin:http-budget }]'));
  }

  // The load balancer: real servers follow checks; a DR service's ingress defaults to the
  // interface of the instance holding its address.
  const vsE = top.get('virtualServers');
  const lbScripts: { path: string; node: YNode }[] = [];
  if (vsE) {
    const vipInterfaces = new Map<string, string>();
    for (const d of drafts) if (d.iface !== undefined) for (const v of d.vips) vipInterfaces.set(v.addr.address, d.iface);
    config.virtualServers = readVirtualServers(ctx, vsE, { checks: checkNames, brokenChecks: broken, vipInterfaces, scripts: lbScripts });
  }
  const lbE = top.get('loadBalancer');
  if (lbE) config.loadBalancer = readLoadBalancer(ctx, lbE) ?? config.loadBalancer;

  const groupsE = top.get('syncGroups');
  if (groupsE) config.syncGroups = readSyncGroups(ctx, groupsE, drafts);

  const statusE = top.get('status');
  if (statusE) config.status = readStatus(ctx, statusE) ?? config.status;

  const rtE = top.get('realtime');
  if (rtE) config.realtime = readRealtime(ctx, rtE) ?? config.realtime;

  // Scripts run as root: refused when someone else could change them, unless the file accepts
  // the risk, which is then said at every start.
  const secE = top.get('security');
  const allow = secE ? readSecurity(ctx, secE) : false;
  const warnings: string[] = [];
  // exec checks run as root: the program (/bin/sh for a shell command line).
  const execScripts = checks.flatMap((c) => (c.scriptAt ? [{ path: c.spec.exec!.shell ? '/bin/sh' : c.spec.exec!.command[0], node: c.scriptAt, runAs: undefined }] : []));
  for (const d of [...drafts, { scripts: lbScripts.map((x) => ({ ...x, runAs: undefined })) }, { scripts: execScripts }]) {
    for (const sc of d.scripts) {
      const why = scriptProblem(sc.path, sc.runAs);
      if (!why) continue;
      const p = ctx.pos(sc.node);
      if (allow) warnings.push(`${ctx.file}:${p.line}:${p.col}: running anyway (security.allowUnsafeScripts): ${why}`);
      else ctx.report(sc.node, why);
    }
  }
  if (allow) config.security = { allowUnsafeScripts: true, warnings };

  config.instances = drafts.map((d) => d.spec);
  for (const g of config.syncGroups) {
    for (const n of g.instances) {
      const inst = config.instances.find((i) => i.name === n);
      if (inst) inst.syncGroup = g.name;
    }
  }
  return config;
}

// security: { allowUnsafeScripts: true }
function readSecurity(ctx: Ctx, e: Entry): boolean {
  const f = map(ctx, e, 'security', '{ allowUnsafeScripts: true }');
  const a = f?.get('allowUnsafeScripts');
  return a ? boolean(ctx, a) ?? false : false;
}

function statusFrom(listen: string): StatusSpec {
  const { host, port, exposed } = parseListen(listen) as { host: string; port: number; exposed: boolean };
  return { listen: { host, port }, exposed };
}

// status: { listen: host:port }, or false for no status API.
function readStatus(ctx: Ctx, e: Entry): StatusSpec | undefined {
  const v = (ctx.deref(e.value) as { value?: unknown } | null)?.value;
  if (typeof v === 'boolean') return v ? statusFrom(DEFAULTS.statusListen) : { listen: null, exposed: false };
  const f = map(ctx, e, 'status', '{ listen: 127.0.0.1:9110, target: 99.99 }, or false');
  if (!f) return undefined;
  let spec = statusFrom(DEFAULTS.statusListen);
  const listenE = f.get('listen');
  if (listenE) {
    const text = string(ctx, listenE, 'host:port, e.g. 127.0.0.1:9110 or [::1]:9110');
    if (text === undefined) return undefined;
    const l = parseListen(text.trim());
    if (typeof l === 'string') { ctx.report(at(listenE), `status.listen ${l}`); return undefined; }
    spec = { listen: { host: l.host, port: l.port }, exposed: l.exposed };
  }
  const targetE = f.get('target');
  if (targetE) {
    const n = (ctx.deref(targetE.value) as { value?: unknown } | null)?.value;
    // 100 would be a budget of nothing; 99.99999 is 0.3 s a year.
    if (typeof n !== 'number' || !(n >= 1 && n <= 99.99999)) {
      ctx.report(at(targetE), `status.target must be an availability in percent, 1..99.99999 (e.g. 99.99), not ${describe(ctx, targetE.value)}`);
      return undefined;
    }
    spec.target = n;
  }
  return spec;
}

// Across instances: names, (interface, VRID, family), virtual addresses.
function crossCheck(ctx: Ctx, drafts: Draft[]): void {
  const names = new Map<string, Draft>();
  const vrids = new Map<string, Draft>();
  const vips = new Map<string, Draft>();
  for (const d of drafts) {
    if (d.name !== undefined) {
      const first = names.get(d.name);
      if (first) ctx.report(d.nameAt, `instance name "${d.name}" is already used (line ${ctx.pos(first.node).line}): names must be unique`);
      else names.set(d.name, d);
    }
    if (d.vrid !== undefined && d.iface !== undefined && d.family !== undefined) {
      const key = `${d.iface}/${d.vrid}/${d.family}`;
      const first = vrids.get(key);
      if (first) {
        ctx.report(d.vridAt, `VRID ${d.vrid} is already used on ${d.iface} by instance ${first.name ?? '?'} (line ${ctx.pos(first.node).line}): `
          + `give this instance another vrid (one VRID per interface and address family)`);
      } else vrids.set(key, d);
    }
    for (const v of d.vips) {
      const first = vips.get(v.addr.address);
      if (first && first !== d) {
        ctx.report(v.node, `virtual address ${v.addr.address} is already in instance ${first.name ?? '?'} (line ${ctx.pos(first.node).line}): an address belongs to one instance`);
      } else vips.set(v.addr.address, d);
    }
  }
}

function readSyncGroups(ctx: Ctx, e: Entry, drafts: Draft[]): SyncGroupSpec[] {
  const items = list(ctx, e, 'sync groups, e.g. [{ name: G1, instances: [VI_1, VI_2] }]');
  if (!items) return [];
  const known = drafts.map((d) => d.name).filter((n): n is string => n !== undefined);
  const groups: SyncGroupSpec[] = [];
  const groupNames = new Map<string, YNode>();
  const member = new Map<string, { group: string; node: YNode }>();
  items.forEach((item, i) => {
    if (i === LIMITS.syncGroups) ctx.report(item, `${items.length} sync groups; at most ${LIMITS.syncGroups}`);
    const f = itemMap(ctx, item, 'syncGroup', `sync group ${i + 1}`, '{ name: G1, instances: [VI_1, VI_2] }');
    if (!f) return;
    const name = uniqueName(ctx, f, item, i, 'sync group', 'G1', groupNames);
    const label = name !== undefined ? `sync group ${name}` : `sync group ${i + 1}`;
    const iE = f.get('instances');
    const members: string[] = [];
    if (!iE) ctx.report(item, `${label} has no instances: add "instances: [VI_1, VI_2]"`);
    else {
      const list2 = list(ctx, iE, 'instance names, e.g. [VI_1, VI_2]');
      if (list2 && list2.length === 0) ctx.report(at(iE), `${label} lists no instances: list at least one, or remove the group`);
      for (const node of list2 ?? []) {
        const n = itemString(ctx, node, 'an instance name');
        if (n === undefined) continue;
        if (!known.includes(n)) {
          const guess = closest(n, known);
          ctx.report(node, `${label} names instance "${n}", which is not defined${guess ? ` (did you mean "${guess}"?)` : ''}`);
          continue;
        }
        if (members.includes(n)) { ctx.report(node, `instance ${n} is listed twice in ${label}: remove one`); continue; }
        const prev = member.get(n);
        if (prev) {
          ctx.report(node, `instance ${n} is already in sync group ${prev.group} (line ${ctx.pos(prev.node).line}): an instance belongs to at most one group`);
          continue;
        }
        member.set(n, { group: name ?? `${i + 1}`, node });
        members.push(n);
      }
    }
    groups.push({ name: name ?? '', ...ctx.pos(item), instances: members });
  });
  return groups;
}

function readRealtime(ctx: Ctx, e: Entry): RealtimeSpec | undefined {
  const n = ctx.deref(e.value);
  const v = (n as { value?: unknown } | null)?.value;
  if (typeof v === 'boolean') return { enabled: v, priority: DEFAULTS.realtimePriority };
  const f = map(ctx, e, 'realtime', '{ priority: 50 }, or false');
  if (!f) return undefined;
  const p = f.get('priority');
  const priority = p ? integer(ctx, p, 1, 99) : DEFAULTS.realtimePriority;
  return priority === undefined ? undefined : { enabled: true, priority };
}

// The names written in checks: (even of checks with problems), so a tracked check that is
// defined but broken is not also reported as undefined.
function collectNames(ctx: Ctx, e: Entry, out: Set<string>): void {
  const n = ctx.deref(e.value) as { items?: unknown[] } | null;
  for (const item of n?.items ?? []) {
    const m = ctx.deref(item as YNode);
    if (!isMap(m)) continue;
    const v = (m.get('name', true) as { value?: unknown } | undefined)?.value;
    if (typeof v === 'string') out.add(v);
  }
}
