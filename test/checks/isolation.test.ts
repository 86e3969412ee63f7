// The engine's process never loads undici or the checkers (design.md "Timing isolation"): the
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
  // What runEngine imports (host/cli/run.ts), and what those import.
  const g = graph(['host/agent/spec.ts', 'host/agent/engine.ts', 'host/agent/status-server.ts', 'host/net/realtime.ts', 'host/checks/protocol.ts', 'host/config/load.ts', 'host/agent/log.ts']);
  const names = [...g].map((f) => f.replace(ROOT, ''));
  t.ok(names.length > 15, `${names.length} modules`);
  t.notOk(names.some((n) => n.includes('undici')), 'no undici');
  t.notOk(names.some((n) => /host\/checks\/(http|tcp|dns|icmp|runner)\.ts$/.test(n)), 'no checker module');
  t.notOk(names.some((n) => n.includes('jco') || /host\/policy\/(?!types\.ts$)/.test(n)), 'no jco, no policy runtime (only its report types)');
  t.ok(names.includes('host/agent/engine.ts'));
  t.ok(names.includes('host/checks/protocol.ts'), 'only the line protocol');
  const run = readFileSync(resolve(ROOT, 'host/cli/run.ts'), 'utf8');
  const engineBody = run.slice(run.indexOf('async function runEngine'));
  t.notMatch(engineBody, /checks\/(runner|http)|undici/, 'runEngine imports no checker');
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
