// `vigil import`: a keepalived.conf (and what it includes) into vigil YAML, with every line
// that could not be expressed listed as file:line:col: keyword: not supported (why).
import { lex, type Problem, type Where } from './lex.ts';
import { Ctx, type Item } from './context.ts';
import { readFile, readProcess, readScript, type Globals, type Tracked } from './scripts.ts';
import { readGlobals, readInstance, readSyncGroup, type Instance, type Trackables } from './vrrp.ts';
import { readGroup, readVirtualServer } from './lvs.ts';
import { yamlOf } from './emit.ts';
const path = process.getBuiltinModule('node:path');
const os = process.getBuiltinModule('node:os');

export interface ImportResult {
  yaml: string;
  left: string[];               // file:line:col: keyword: not supported (why)
  template: (Where & { token: string }) | undefined;   // set: not keepalived config (exit 2)
  counts: { instances: number; syncGroups: number; checks: number; virtualServers: number };
}

export const TOP_REFUSED: Record<string, string> = {
  static_ipaddress: 'vigil manages virtual addresses only: configure static ones with the system\'s network tools',
  static_routes: 'vigil manages addresses only: configure routes with the system\'s network tools',
  static_rules: 'vigil manages addresses only: configure rules with the system\'s network tools',
  local_address_group: 'a DPVS (FNAT) keyword: not keepalived\'s', deny_address_group: 'a DPVS keyword: not keepalived\'s',
  net_namespace: 'run vigil itself in the namespace (ip netns exec NAME vigil run)',
  bfd_instance: 'vigil has no BFD', linkbeat_use_polling: 'vigil follows links by netlink events',
  vrrp_track_process_delay: 'set "delay" on each process check',
};

export function importKeepalived(file: string, opts: { configId?: string } = {}): ImportResult {
  const configId = opts.configId ?? os.hostname().split('.')[0];
  const lx = lex(file, configId);
  const ctx = new Ctx(path.dirname(path.resolve(file)));
  for (const p of lx.problems) ctx.left.push(p);
  const g: Globals = { version: 2, scriptUser: null, defaultInterface: null, garp: {} };
  const t: Trackables = { scripts: new Map(), processes: new Map(), files: new Map(), grouped: new Map() };
  const groups = new Map<string, ReturnType<typeof readGroup>>();
  // Definitions first: keepalived reads the whole file before it starts anything, so a
  // vrrp_script may come after the instance that tracks it.
  for (const s of lx.top) {
    switch (s.key) {
      case 'global_defs': readGlobals(ctx, s, g); break;
      case 'vrrp_script': { const x = readScript(ctx, s, g); if (x) t.scripts.set(s.args[0].text, x); break; }
      case 'vrrp_track_process': { const x = readProcess(ctx, s); if (x) t.processes.set(s.args[0].text, x); break; }
      case 'vrrp_track_file': case 'track_file': { const x = readFile(ctx, s); if (x) t.files.set(s.args[0].text, x); break; }
      case 'vrrp_sync_group': {
        const keep = s.kids?.some((k) => k.key === 'sync_group_tracking_weight') ?? false;
        for (const g of s.kids?.filter((k) => k.key === 'group') ?? []) for (const m of g.kids ?? []) t.grouped.set(m.key, keep);
        break;
      }
      case 'virtual_server_group': if (s.args[0]) groups.set(s.args[0].text, readGroup(ctx, s)); else ctx.skip(s, s.key, 'no name'); break;
    }
  }
  const instances: Instance[] = [];
  const taken = new Set<string>();
  for (const s of lx.top) if (s.key === 'vrrp_instance') { const i = readInstance(ctx, s, g, t, taken); if (i) instances.push(i); }
  const byName = new Map(instances.map((i) => [i.name, i]));
  const syncGroups: Item[] = [];
  const checks: Item[] = [];
  const virtualServers: Item[] = [];
  const names = new Set<string>([...t.scripts.values(), ...t.processes.values(), ...t.files.values()].map((x) => x.item.name as string));
  for (const s of lx.top) {
    switch (s.key) {
      case 'global_defs': case 'vrrp_script': case 'vrrp_track_process': case 'vrrp_track_file': case 'track_file':
      case 'virtual_server_group': case 'vrrp_instance': break;
      case 'vrrp_sync_group': { const x = readSyncGroup(ctx, s, byName); if (x) syncGroups.push(x); break; }
      case 'virtual_server': virtualServers.push(...readVirtualServer(ctx, s, groups, g, checks, names)); break;
      default: ctx.skip(s, s.key, TOP_REFUSED[s.key] ?? (s.kids ? 'not a keepalived block vigil knows' : 'not a keepalived keyword vigil knows'));
    }
  }
  // Checks nothing tracks are still written (vigil runs and reports them), as keepalived
  // would not run them: say so.
  const tracked: Tracked[] = [...t.scripts.values(), ...t.processes.values(), ...t.files.values()];
  for (const x of tracked) if (!x.used) x.item['#']!.push('no instance tracks it: keepalived would not run it; vigil runs it and shows it in /status');
  const allChecks = [...tracked.map((x) => x.item), ...checks];
  const template = lx.templates[0] ?? (new Set(ctx.placeholders.map((p) => p.token)).size >= 2 || (ctx.placeholders.length && !instances.length && !virtualServers.length) ? ctx.placeholders[0] : undefined);
  const left = [...ctx.left].sort(byWhere).map((p: Problem) => ctx.format(p));
  const src = lx.files.map((f) => ctx.rel(f)).join(', ');
  const header = [
    `vigil configuration imported from keepalived: ${src}`,
    `by \`vigil import\`. Check it with \`vigil check -c FILE\` before you run it.`,
    ...(left.length ? ['', `${left.length} line${left.length === 1 ? '' : 's'} could not be expressed in vigil:`, ...left.map((l) => `  ${l}`)] : []),
    ...(lx.skipped ? [`${lx.skipped} @conditional line${lx.skipped === 1 ? '' : 's'} for another config id than ${configId} left out, as keepalived would`] : []),
  ];
  const yaml = yamlOf([
    ['instances', instances.map((i) => i.item)],
    ['syncGroups', syncGroups],
    ['checks', allChecks],
    ['virtualServers', virtualServers],
  ], header);
  return { yaml, left, template, counts: { instances: instances.length, syncGroups: syncGroups.length, checks: allChecks.length, virtualServers: virtualServers.length } };
}

const byWhere = (a: Problem, b: Problem) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col;
