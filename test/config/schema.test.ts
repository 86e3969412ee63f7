// schema/vigil.schema.json and the parser agree: the same keys (walked in both), the same
// defaults, and every example passes both.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { parse as parseYaml, stringify } from 'yaml';
import { SHAPE, type Shape } from '../../host/config/keys.ts';
import { loadConfig, parseConfig } from '../../host/config/load.ts';
import { ConfigError } from '../../host/config/errors.ts';
import type { AgentConfig } from '../../host/config/types.ts';
import { validate } from './jsonschema.ts';
import { LOCAL_KEYS } from '../../host/config/local-checks.ts';
const LOCAL_CHECK_KEYS = Object.keys(LOCAL_KEYS);
import { problemsOf } from './util.ts';

type S = Record<string, unknown>;
const schema = JSON.parse(readFileSync(new URL('../../schema/vigil.schema.json', import.meta.url), 'utf8')) as S;
const examplesDir = new URL('../../examples/', import.meta.url);
const examples = readdirSync(examplesDir).filter((f) => /\.ya?ml$/.test(f)).sort();

function deref(s: S): S {
  let cur = s;
  while (typeof cur.$ref === 'string') {
    const target = (cur.$ref as string).slice(2).split('/').reduce((o: S, k) => o[k] as S, schema);
    const { $ref: _, ...rest } = cur;
    cur = { ...target, ...rest };
  }
  return cur;
}

// Every map key, as a path: "instances[].garp.count".
function schemaPaths(s: S, path: string, out: Set<string>, objects: string[]): void {
  s = deref(s);
  for (const b of [...(s.anyOf as S[] ?? []), ...(s.oneOf as S[] ?? [])]) schemaPaths(b, path, out, objects);
  if (s.type === 'array' && s.items) schemaPaths(s.items as S, `${path}[]`, out, objects);
  // A map whose keys are data (a policy check's args), not names the parser knows.
  if (s.type === 'object' && !s.properties && typeof s.additionalProperties === 'object') return;
  if (s.type === 'object') {
    objects.push(path || '(top)');
    if (s.additionalProperties !== false) out.add(`${path} has additionalProperties`);
    for (const [k, v] of Object.entries((s.properties ?? {}) as Record<string, S>)) {
      const p = path ? `${path}.${k}` : k;
      out.add(p);
      schemaPaths(v, p, out, objects);
    }
  }
}

function shapePaths(s: Shape, path: string, out: Set<string>): void {
  if (Array.isArray(s)) { shapePaths(s[0], `${path}[]`, out); return; }
  for (const [k, v] of Object.entries(s as Record<string, Shape | null>)) {
    const p = path ? `${path}.${k}` : k;
    out.add(p);
    if (v) shapePaths(v, p, out);
  }
}

// A document from the schema: with `all`, every key (its default or first example); without,
// only what is required or has a default.
function generate(s: S, all: boolean): unknown {
  s = deref(s);
  const obj = (s.anyOf as S[] | undefined)?.map(deref).find((b) => b.type === 'object');
  if (obj) return generate(obj, all);
  if (s.type === 'object' && !s.properties && Array.isArray(s.examples)) return s.examples[0];
  if (s.type === 'object') {
    const out: S = {};
    const required = (s.required as string[] | undefined) ?? [];
    for (const [k, v] of Object.entries((s.properties ?? {}) as Record<string, S>)) {
      const d = deref(v);
      const hasDefault = 'default' in d || (d.type === 'object' && Object.values((d.properties ?? {}) as Record<string, S>).some((p) => 'default' in deref(p)));
      if (all || required.includes(k) || hasDefault) out[k] = generate(v, all);
    }
    return out;
  }
  if (s.type === 'array' && !('examples' in s) && !('default' in s)) return [generate(s.items as S, all)];
  if ('default' in s) return s.default;
  if (Array.isArray(s.examples)) return s.examples[0];
  throw new Error(`no default or example for ${JSON.stringify(s).slice(0, 80)}`);
}

const noPlace = (c: AgentConfig) => JSON.parse(JSON.stringify(c, (k, v) => (k === 'line' || k === 'col' ? undefined : v)));

t.test('the schema is a draft 2020-12 schema with closed objects and a description on every key', async (t) => {
  t.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
  const paths = new Set<string>();
  const objects: string[] = [];
  schemaPaths(schema, '', paths, objects);
  t.strictSame([...paths].filter((p) => p.includes('additionalProperties')), [], 'every object has additionalProperties: false');
  t.ok(objects.length >= 10, `${objects.length} object schemas walked`);
  const undocumented: string[] = [];
  const visit = (s: S, path: string) => {
    for (const [k, v] of Object.entries((s.properties ?? {}) as Record<string, S>)) {
      if (typeof v.description !== 'string' && typeof deref(v).description !== 'string') undocumented.push(`${path}.${k}`);
      visit(deref(v), `${path}.${k}`);
      const d = deref(v);
      if (d.items) visit(deref(d.items as S), `${path}.${k}[]`);
      for (const b of (d.anyOf as S[] ?? [])) visit(deref(b), `${path}.${k}`);
    }
  };
  visit(schema, '');
  for (const def of Object.values(schema.$defs as Record<string, S>)) visit(def, '$defs');
  t.strictSame(undocumented, []);
});

t.test('the parser and the schema know exactly the same keys', async (t) => {
  const fromSchema = new Set<string>();
  schemaPaths(schema, '', fromSchema, []);
  const fromParser = new Set<string>();
  shapePaths(SHAPE, '', fromParser);
  t.ok(fromParser.size >= 38, `${fromParser.size} keys, nested maps included`);
  t.strictSame([...fromParser].filter((p) => !fromSchema.has(p)), [], 'parser keys missing from the schema');
  t.strictSame([...fromSchema].filter((p) => !fromParser.has(p)), [], 'schema keys the parser does not know');
  t.ok(fromParser.has('instances[].track.interfaces[].weight'));
});

// The parser also fails (an internal error) when it accepts a key that no code reads, so this
// shows every key has a reader.
t.test('a file with every schema key is accepted by the parser and the schema', async (t) => {
  const doc = generate(schema, true) as { instances: S[]; checks: S[] };
  // auth is VRRPv2 only: the one cross-key rule an all-keys file must respect.
  doc.instances[0].version = 2;
  // Each check key belongs to one type: the all-keys check becomes one check per type, which
  // together hold every key.
  const all = doc.checks[0] as S & { expect: S };
  const pick = (o: S, keys: string[]) => Object.fromEntries(keys.filter((k) => k in o).map((k) => [k, o[k]]));
  const common = ['name', 'type', 'target', 'interval', 'timeout', 'rise', 'fall'];
  t.strictSame(Object.keys(all).sort(), [...common, 'method', 'host', 'ca', 'query', 'qtype', 'policy', 'args', 'expect',
    ...LOCAL_CHECK_KEYS].sort(), 'the generated check has every key');
  const local = common.filter((k) => k !== 'target');
  doc.checks = [
    { ...pick(all, common), target: 'https://198.51.100.10/health', ...pick(all, ['method', 'host', 'ca']), expect: pick(all.expect, ['status', 'body', 'digest']) },
    { ...pick(all, common), name: 'smtp', type: 'tcp', target: '198.51.100.10:25', expect: pick(all.expect, ['banner']) },
    { ...pick(all, common), name: 'ns', type: 'dns', target: '198.51.100.53', ...pick(all, ['query', 'qtype']), expect: pick(all.expect, ['address']) },
    { ...pick(all, common), name: 'budget', type: 'policy', target: '198.51.100.10:8080', ...pick(all, ['policy', 'args']) },
    // exec, process (one of process, cmdline, pidfile each) and file: no target.
    { ...pick(all, local), name: 'script', type: 'exec', ...pick(all, ['command', 'shell', 'user', 'dynamic']), command: ['/usr/bin/pidof', 'haproxy'] },
    { ...pick(all, local), name: 'proc', type: 'process', ...pick(all, ['process', 'min', 'max', 'delay', 'forkDelay']) },
    { ...pick(all, local), name: 'cmd', type: 'process', ...pick(all, ['cmdline', 'paramMatch']) },
    { ...pick(all, local), name: 'pid', type: 'process', ...pick(all, ['pidfile']) },
    { ...pick(all, local), name: 'weightfile', type: 'file', ...pick(all, ['path']) },
  ];
  // A virtual server is address and port, or fwmark; interface is for dr: two of them hold every key.
  const vs = (doc as unknown as { virtualServers: S[] }).virtualServers;
  const allVs = vs[0] as S & { realServers: S[] };
  allVs.realServers[0].check = (doc.checks[0] as S).name;
  const { fwmark, interface: ifname, ...natVs } = allVs;
  const { address: _a, port: _p, sorryServer: _s, ...markVs } = natVs;
  vs.splice(0, 1, { ...natVs, forwarding: 'nat' }, { ...markVs, name: 'marked', fwmark, interface: ifname, forwarding: 'dr' });
  t.strictSame(validate(schema, doc), []);
  const c = parseConfig(stringify(doc), 'all-keys.yaml');
  t.match(c.virtualServers, [{ address: '192.0.2.100', port: 80, persistence: { prefixLen: 24 } }, { fwmark: 1, forwarding: 'dr', interface: 'eth0' }]);
  t.equal(c.instances[0].version, 2);
  t.strictSame(c.instances[0].auth, { type: 'pass', password: 's3cret' });
  t.equal(c.instances[0].track.interfaces.length, 1);
  t.ok(c.checks[0]!.expect.digest, 'and its expected digest');
  t.strictSame(c.syncGroups.map((g) => g.instances), [['VI_1']]);
  t.equal(c.instances[0].notify.stop, '/etc/vigil/notify.sh');
  t.strictSame(c.checks.map((k) => k.type), ['http', 'tcp', 'dns', 'policy', 'exec', 'process', 'process', 'process', 'file']);
  t.strictSame(c.checks[4].exec?.command, ['/usr/bin/pidof', 'haproxy']);
  t.match(c.checks[5].process, { process: 'haproxy', min: 1, max: 1 });
  t.equal(c.checks[8].file?.path, '/run/vigil/weight');
  t.strictSame(c.policies.map((p) => [p.name, p.file]), [['web-budget', 'builtin:http-budget']]);
  t.strictSame(c.checks[3].args, [['path', '/health'], ['status', '200'], ['budgetMs', '200']]);
  t.strictSame(c.instances[0].track.checks, [{ name: 'web', weight: 0 }]);
});

t.test('the schema\'s defaults are the parser\'s: spelling them out changes nothing', async (t) => {
  const explicit = generate(schema, false) as { instances: S[] };
  const minimal = { instances: [Object.fromEntries(['name', 'interface', 'vrid', 'virtualAddresses'].map((k) => [k, explicit.instances[0][k]]))] };
  t.ok(Object.keys(explicit.instances[0]).length > 8, 'defaults were written out');
  t.match(explicit.instances[0], { priority: 100, version: 3, advertInterval: '1s', garp: { count: 5, interval: '10ms', refresh: '0s' }, notify: { timeout: '10s' } });
  t.match(explicit, { status: { listen: '127.0.0.1:9110' }, realtime: { priority: 50 } });
  t.strictSame(noPlace(parseConfig(stringify(explicit), 'x.yaml')), noPlace(parseConfig(stringify(minimal), 'x.yaml')));
});

t.test('every example validates in the parser and against the schema', async (t) => {
  t.strictSame(examples, ['checks.yaml', 'lb.yaml', 'unicast.yaml', 'v2-auth.yaml', 'vigil.yaml']);
  for (const name of examples) {
    const path = new URL(name, examplesDir).pathname;
    t.doesNotThrow(() => loadConfig(path), name);
    t.strictSame(validate(schema, parseYaml(readFileSync(path, 'utf8'))), [], `${name} against the schema`);
  }
});

t.test('files both refuse', async (t) => {
  const good = { instances: [{ name: 'VI_1', interface: 'e0', vrid: 51, virtualAddresses: ['192.0.2.100/24'] }] };
  const bad: [string, (d: { instances: S[] } & S) => void][] = [
    ['unknown key', (d) => { d.instances[0].prority = 5; }],
    ['priority out of range', (d) => { d.instances[0].priority = 256; }],
    ['version 4', (d) => { d.instances[0].version = 4; }],
    ['duration without a unit', (d) => { d.instances[0].advertInterval = '100'; }],
    ['empty unicastPeers', (d) => { d.instances[0].unicastPeers = []; }],
    ['name with a space', (d) => { d.instances[0].name = 'a b'; }],
    ['empty name', (d) => { d.instances[0].name = ''; }],
    ['interface with a colon', (d) => { d.instances[0].interface = 'eth0:1'; }],
    ['prefix /33', (d) => { d.instances[0].virtualAddresses = ['192.0.2.1/33']; }],
    ['relative notify path', (d) => { d.instances[0].notify = { master: 'up.sh' }; }],
    ['password of 9', (d) => { d.instances[0].version = 2; d.instances[0].auth = { type: 'pass', password: '123456789' }; }],
    ['realtime priority 0', (d) => { d.realtime = { priority: 0 }; }],
    ['listen without a port', (d) => { d.status = { listen: '127.0.0.1' }; }],
    ['no instances', (d) => { d.instances = []; }],
    ['weight 255', (d) => { d.instances[0].track = { interfaces: [{ name: 'e1', weight: 255 }] }; }],
    ['check type ftp', (d) => { d.checks = [{ name: 'p', type: 'ftp', target: 'x' }]; }],
    ['policy memory 1GiB', (d) => { d.policies = [{ name: 'p', file: 'builtin:http-budget', memory: '1GiB' }]; }],
    ['policy without a file', (d) => { d.policies = [{ name: 'p' }]; }],
    ['policy args of a map', (d) => { d.policies = [{ name: 'p', file: 'builtin:http-budget' }]; d.checks = [{ name: 'c', type: 'policy', policy: 'p', target: '198.51.100.1', args: { a: { b: 1 } } }]; }],
    ['check without a target', (d) => { d.checks = [{ name: 'w', type: 'http' }]; }],
    ['check rise 0', (d) => { d.checks = [{ name: 'w', type: 'icmp', target: '198.51.100.1', rise: 0 }]; }],
    ['check status 600', (d) => { d.checks = [{ name: 'w', type: 'http', target: 'http://198.51.100.1/', expect: { status: [600] } }]; }],
    ['check qtype MX', (d) => { d.checks = [{ name: 'n', type: 'dns', target: '198.51.100.1', query: 'a.example', qtype: 'MX' }]; }],
    ['tracked check weight 255', (d) => { d.checks = [{ name: 'w', type: 'icmp', target: '198.51.100.1' }]; d.instances[0].track = { checks: [{ name: 'w', weight: 255 }] }; }],
  ];
  t.strictSame(validate(schema, good), []);
  t.doesNotThrow(() => parseConfig(stringify(good), 'good.yaml'));
  for (const [what, spoil] of bad) {
    const d = structuredClone(good) as { instances: S[] } & S;
    spoil(d);
    t.not(validate(schema, d).length, 0, `schema refuses: ${what}`);
    t.throws(() => parseConfig(stringify(d), 'bad.yaml'), ConfigError, `parser refuses: ${what}`);
  }
  // Some rules span keys: only the parser can see them. The schema accepts these, the parser does not.
  const crossKey: [string, (d: { instances: S[] } & S) => void, RegExp][] = [
    ['auth on v3', (d) => { d.instances[0].auth = { type: 'pass', password: 'x' }; }, /auth is VRRPv2 only/],
    ['mixed families', (d) => { d.instances[0].virtualAddresses = ['192.0.2.1', '2001:db8::1']; }, /mixes IPv4 and IPv6/],
    ['v2 interval in ms', (d) => { d.instances[0].version = 2; d.instances[0].advertInterval = '500ms'; }, /whole seconds/],
    ['tracked check not defined', (d) => { d.instances[0].track = { checks: [{ name: 'web' }] }; }, /tracks check "web", which is not defined/],
    ['timeout not under interval', (d) => { d.checks = [{ name: 'w', type: 'icmp', target: '198.51.100.1', interval: '1s', timeout: '1s' }]; }, /must be shorter than interval/],
    ['banner on an http check', (d) => { d.checks = [{ name: 'w', type: 'http', target: 'http://198.51.100.1/', expect: { banner: 'x' } }]; }, /expect.banner is for tcp checks/],
    ['policy check without a policy', (d) => { d.checks = [{ name: 'c', type: 'policy', target: '198.51.100.1' }]; }, /has no policy/],
    ['policy not defined', (d) => { d.checks = [{ name: 'c', type: 'policy', policy: 'p', target: '198.51.100.1' }]; }, /uses policy "p", which is not defined/],
    ['dns without a query', (d) => { d.checks = [{ name: 'n', type: 'dns', target: '198.51.100.1' }]; }, /has no query/],
  ];
  for (const [what, spoil, re] of crossKey) {
    const d = structuredClone(good) as { instances: S[] } & S;
    spoil(d);
    t.strictSame(validate(schema, d), [], `schema accepts: ${what}`);
    t.match(problemsOf(stringify(d)).map((p) => p.message).join('\n'), re, `parser refuses: ${what}`);
  }
});
