// The engine's process never loads undici or the checkers (docs/ARCHITECTURE.md "Processes"): the
// import graph from what `vigil engine` loads, static and dynamic imports followed, reaches
// neither. `vigil checker` does reach them.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// Every module reachable from `start`, static and dynamic imports followed; bare specifiers
// (packages, node:) as they are.
function graph(start: string[]): Set<string> {
  const seen = new Set<string>();
  const todo = start.map((f) => resolve(ROOT, f));
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    if (!f.endsWith('.ts')) continue;
    const src = readFileSync(f, 'utf8').replace(/^\s*\/\/.*$/gm, '');
    const specs = [...src.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)]
      .map((m) => m[1] ?? m[2]);
    for (const s of specs) todo.push(s.startsWith('.') ? resolve(dirname(f), s) : s);
  }
  return seen;
}

t.test('the engine\'s modules never reach undici or a checker', async (t) => {
  // What the engine's main imports (host/agent/engine-main.ts), and what those import.
  const g = graph(['host/agent/spec.ts', 'host/agent/engine.ts', 'host/agent/status-server.ts', 'host/net/realtime.ts', 'host/checks/protocol.ts', 'host/config/load.ts', 'host/agent/log.ts']);
  const names = [...g].map((f) => f.replace(ROOT, ''));
  t.ok(names.length > 15, `${names.length} modules`);
  t.notOk(names.some((n) => n.includes('undici')), 'no undici');
  t.notOk(names.some((n) => /host\/checks\/(http|tcp|dns|icmp|runner)\.ts$/.test(n)), 'no checker module');
  t.notOk(names.some((n) => n.includes('jco') || /host\/policy\/(?!types\.ts$)/.test(n)), 'no jco, no policy runtime (only its report types)');
  t.ok(names.includes('host/agent/engine.ts'));
  t.ok(names.includes('host/checks/protocol.ts'), 'only the line protocol');
  const engineMain = readFileSync(resolve(ROOT, 'host/agent/engine-main.ts'), 'utf8');
  t.notMatch(engineMain, /checks\/(runner|http)|undici/, 'the engine\'s main imports no checker');
});

t.test('the checker does reach them', async (t) => {
  const g = [...graph(['host/cli/checker.ts', 'host/checks/runner.ts'])].map((f) => f.replace(ROOT, ''));
  t.ok(g.includes('undici'));
  t.ok(g.includes('host/checks/http.ts'));
  t.ok(g.includes('host/checks/icmp.ts'));
  t.ok(g.includes('host/policy/sandbox.ts'), 'the policy runtime');
  const workers = [...graph(['host/policy/compile-worker.ts'])];
  t.ok(workers.includes('@bytecodealliance/jco'), 'jco, in the compiler\'s worker');
});

// The same question asked of the bundler, which resolves every import the way Node will run it:
// side-effect imports (`import 'undici'`), double quotes, export-from, dynamic imports, whatever
// the regex above might miss. rolldown builds the host's module graph from bin/vigil's entry
// (packaging/bundle.ts, the bundle bin/vigil runs; in memory, build/ untouched) and the walk
// starts where the engine's process does: main.ts's static imports, then the `engine` command
// (host/cli/run.ts) with everything it imports, statically or dynamically.
t.test('the bundled engine reaches no undici, jco, checker, policy runtime or ES import of node:http', async (t) => {
  const { rolldown } = await import('rolldown');
  const { builtins, HOST_ENTRY } = await import('../../packaging/bundle.ts');
  const infos = new Map<string, { importedIds: readonly string[]; dynamicallyImportedIds: readonly string[] }>();
  const bundle = await rolldown({
    input: resolve(ROOT, HOST_ENTRY), platform: 'node', logLevel: 'silent',
    plugins: [builtins, {
      name: 'module-graph',
      buildEnd() {
        for (const id of this.getModuleIds()) {
          const m = this.getModuleInfo(id)!;
          infos.set(id, { importedIds: [...m.importedIds], dynamicallyImportedIds: [...m.dynamicallyImportedIds] });
        }
      },
    }],
  });
  await bundle.generate({ format: 'esm' });   // rolldown builds the graph here (output discarded)
  await bundle.close();
  const main = resolve(ROOT, HOST_ENTRY), run = resolve(ROOT, 'host/cli/run.ts');
  t.ok(infos.has(main) && infos.has(run), `the graph has main.ts and run.ts (${infos.size} modules)`);
  t.ok(infos.get(main)!.dynamicallyImportedIds.includes(run), 'main.ts loads run.ts for `vigil engine`');
  const seen = new Set<string>();
  const todo = [...infos.get(main)!.importedIds, run];
  while (todo.length) {
    const id = todo.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const m = infos.get(id);
    if (m) todo.push(...m.importedIds, ...m.dynamicallyImportedIds);
  }
  const names = [...seen].map((f) => f.replace(ROOT, ''));
  t.ok(names.includes('host/agent/engine-process.ts') && names.includes('host/agent/engine.ts') && names.includes('host/agent/status-server.ts'),
    `the walk reaches the engine (${names.length} modules)`);
  t.same(names.filter((n) => /(^|\/)undici(\/|$)/.test(n)), [], 'no undici');
  t.same(names.filter((n) => /@bytecodealliance\/jco|(^|\/)jco(\/|$)/.test(n)), [], 'no jco');
  t.same(names.filter((n) => /host\/checks\/(?!protocol\.ts$)/.test(n)), [], 'of host/checks/, only the line protocol');
  t.same(names.filter((n) => /host\/policy\/(?!types\.ts$)/.test(n)), [], 'of host/policy/, only its report types');
  // An ES import of node:http(s) builds its namespace, whose getters load Node's own undici
  // (packaging/bundle.ts, builtins): the TypeScript bin/vigil runs before `make` would load it.
  t.same(names.filter((n) => /vigil-builtin:node:(http|https|http2)$/.test(n)), [], 'no ES import of node:http, https or http2');
});
