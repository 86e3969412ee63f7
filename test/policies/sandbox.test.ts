// The policy runtime (host/policy/) with the real components `make policies` builds: load,
// verdicts, argument passing, hot swap, and containment of policies that loop, grow without
// bound, trap or import what they may not. No network here: the probes are exercised against
// real backends in namespaces by test/policies/agent.test.ts.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { Compiler } from '../../host/policy/compiler.ts';
import { Sandbox } from '../../host/policy/sandbox.ts';
import { PolicyError } from '../../host/policy/errors.ts';
import { capMemory } from '../../host/policy/memcap.ts';
import { splitComponent } from '../../host/policy/component.ts';
import type { CheckSpec } from '../../host/config/types.ts';

const BUILD = new URL('../../policies/build/', import.meta.url);
const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`test/${name}.wasm`, BUILD)));
if (!existsSync(new URL('test/ok.wasm', BUILD))) { t.fail('policies/build/test/ok.wasm is missing: run `make policies`'); process.exit(1); }

const logs: string[] = [];
const log = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), debug: () => {} };
const spec = (over: Partial<CheckSpec> = {}): CheckSpec => ({
  name: 'c', line: 1, col: 1, type: 'policy', target: '198.51.100.10:8080', host: '198.51.100.10', port: 8080, url: null,
  intervalUs: 1e6, timeoutUs: 5e5, rise: 1, fall: 1, method: 'GET', hostHeader: null, ca: null, query: null, qtype: 'A',
  policy: 'p', args: [], expect: { status: [200], body: null, banner: null, address: [] }, ...over,
});
const never = () => new AbortController().signal;
const LIMITS = { memoryPages: 16 * 16, cpuUs: 50_000, heapMb: 64 };

const compiler = new Compiler();
async function until(done: () => boolean, step: () => Promise<void>, rounds = 200): Promise<void> {
  for (let i = 0; i < rounds && !done(); i++) { await step(); await new Promise((r) => setTimeout(r, 50)); }
}
t.teardown(() => compiler.close());

async function boxWith(name: string, limits = LIMITS): Promise<Sandbox> {
  const box = new Sandbox(name, limits, log);
  t.teardown(() => box.close());
  await box.load(await compiler.compile(fixture(name), limits.memoryPages));
  return box;
}

async function verdict(box: Sandbox, s = spec()): Promise<{ ok: true } | { ok: false; code?: string; message: string }> {
  try { await box.evaluate(s, never()); return { ok: true }; } catch (err) {
    return { ok: false, code: (err as PolicyError).code, message: (err as Error).message };
  }
}

t.test('ok passes and fail fails with its own reason', async (t) => {
  t.same(await verdict(await boxWith('ok')), { ok: true });
  const v = await verdict(await boxWith('fail'));
  t.same(v, { ok: false, code: undefined, message: 'fixture says no' }, 'a policy verdict is not a sandbox error code');
});

t.test('target and args reach the policy in order, UTF-8 intact', async (t) => {
  const box = await boxWith('echo-args');
  const args: [string, string][] = [['path', '/health'], ['budgetMs', '200'], ['empty', ''], ['naïve', 'ünïcødé ✓']];
  const v = await verdict(box, spec({ args }));
  t.equal(v.ok, false);
  if (!v.ok) t.same(JSON.parse(v.message), { target: '198.51.100.10:8080', args });
});

t.test('an infinite loop is stopped at its CPU budget; the next round gets a fresh worker', async (t) => {
  const box = await boxWith('loop', { ...LIMITS, cpuUs: 30_000 });
  const t0 = performance.now();
  const v = await verdict(box);
  const ms = performance.now() - t0;
  t.match(v, { ok: false, code: 'VIGIL_EPOLICY_CPU' });
  t.ok(ms < 1000, `stopped after ${ms.toFixed(0)} ms`);
  // The sandbox restarts at once; a round due meanwhile fails with the kill's reason.
  t.match(await verdict(box), { ok: false, code: 'VIGIL_EPOLICY_CPU' }, 'and again');
  await until(() => box.stats.kills.cpu >= 2, async () => { await verdict(box); });
  t.ok(box.stats.kills.cpu >= 2, 'each round that runs is stopped');
  t.ok(box.stats.workerStarts >= 2, 'a new worker after a kill');
});

t.test('a memory bomb stops at its memory limit', async (t) => {
  const box = await boxWith('membomb', { ...LIMITS, memoryPages: 4 * 16 });
  const v = await verdict(box);
  t.match(v, { ok: false, code: 'VIGIL_EPOLICY_MEMORY' });
  t.match(v.ok ? '' : v.message, /4 MiB/);
  t.same(await verdict(await boxWith('ok')), { ok: true }, 'another policy is unaffected');
});

t.test('a trap fails the round with the trap', async (t) => {
  const box = await boxWith('trap');
  t.match(await verdict(box), { ok: false, code: 'VIGIL_EPOLICY_TRAP', message: /trapped/ });
  t.match(await verdict(box), { ok: false, code: 'VIGIL_EPOLICY_TRAP', message: /unreachable/ }, 'the next round runs a fresh instance (jco will not re-enter a trapped one)');
  t.equal(box.stats.workerStarts, 1, 'a trap needs no new worker');
});

t.test('a forbidden import is refused before anything runs', async (t) => {
  await t.rejects(compiler.compile(fixture('forbidden-import'), LIMITS.memoryPages), { code: 'VIGIL_EPOLICY_IMPORT', message: /does not grant/ });
});

t.test('not a component, a core module, garbage', async (t) => {
  await t.rejects(compiler.compile(new Uint8Array([1, 2, 3]), 256), { code: 'VIGIL_EPOLICY_FORMAT', message: /not a WebAssembly file/ });
  const core = splitComponent(fixture('ok')).modules[0];
  await t.rejects(compiler.compile(core, 256), { code: 'VIGIL_EPOLICY_FORMAT', message: /core WebAssembly module, not a component/ });
  const cut = fixture('ok').subarray(0, 200);
  await t.rejects(compiler.compile(cut, 256), { code: 'VIGIL_EPOLICY_FORMAT' });
});

t.test('memory caps: a memory that starts above the limit is refused', async (t) => {
  const core = splitComponent(fixture('ok')).modules[0];
  t.throws(() => capMemory(core, 0), { code: 'VIGIL_EPOLICY_MEMORY', message: /over its limit/ });
  const capped = capMemory(core, 3);
  const mem = new WebAssembly.Module(capped as Uint8Array<ArrayBuffer>);
  t.ok(WebAssembly.Module.exports(mem).some((e) => e.kind === 'memory'));
});

t.test('hot swap: between rounds, no transpile for the same shape, the old one kept on refusal', async (t) => {
  const box = new Sandbox('swap', LIMITS, log);
  t.teardown(() => box.close());
  await box.load(await compiler.compile(fixture('ok'), 256));
  t.same(await verdict(box), { ok: true });
  const fail = await compiler.compile(fixture('fail'), 256);
  t.equal(fail.transpiled, false, 'ok and fail have the same imports: the glue is reused');
  // A swap requested while rounds are queued lands between two of them.
  const before = box.evaluate(spec(), never());
  const swap = box.load(fail);
  const after = box.evaluate(spec(), never());
  await t.resolves(before, 'the round in flight ran the old policy');
  await swap;
  await t.rejects(after, { message: 'fixture says no' }, 'the next round runs the new one');
  t.ok(box.stats.lastSwapMs !== null && box.stats.lastSwapMs < 50, `swap took ${box.stats.lastSwapMs} ms`);
  await t.rejects(compiler.compile(fixture('forbidden-import'), 256));
  t.match(await verdict(box), { ok: false, message: 'fixture says no' }, 'a refused file leaves the running policy');
  const loop = await compiler.compile(fixture('loop'), 256);
  await box.load(loop);
  t.match(await verdict(box), { ok: false, code: 'VIGIL_EPOLICY_CPU' }, 'a swapped-in loop is contained as well');
  await box.load(await compiler.compile(fixture('ok'), 256));
  t.same(await verdict(box), { ok: true }, 'and swapping it out again restores the check');
  t.equal(box.stats.loads, 4);
});

t.test('rounds of many checks queue; a round that waited past its deadline is not run', async (t) => {
  const box = await boxWith('ok');
  const results = await Promise.allSettled(Array.from({ length: 50 }, () => box.evaluate(spec(), never())));
  t.equal(results.filter((r) => r.status === 'fulfilled').length, 50);
  const ac = new AbortController();
  ac.abort();
  await t.rejects(box.evaluate(spec(), ac.signal), { code: 'VIGIL_EPOLICY_BUSY' });
});

t.test('the built-in policies load', async (t) => {
  for (const name of ['http-budget', 'tcp-banner', 'dns-answer']) {
    const box = new Sandbox(name, LIMITS, log);
    t.teardown(() => box.close());
    await box.load(await compiler.compile(new Uint8Array(readFileSync(new URL(`${name}.wasm`, BUILD))), 256));
    // No args: each refuses with a reason naming what is missing, and touches no network.
    const v = await verdict(box, spec({ args: [] }));
    t.equal(v.ok, false, `${name} without args fails`);
    if (!v.ok) t.notOk(v.code, `${name}: a verdict (${v.message}), not a sandbox error`);
  }
});
