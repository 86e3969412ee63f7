// exec checks (keepalived's vrrp_script / MISC_CHECK): real commands, run the way the checker
// runs them. Exit 0 is up; no shell unless asked; an unprivileged user unless root is written;
// a hanging command is killed at its timeout with everything it started.
import t from 'tap';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execProbe, userIds } from '../../host/checks/exec.ts';
import { parseConfig } from '../../host/config/load.ts';
import type { CheckSpec } from '../../host/config/types.ts';
import { isRoot } from '../helpers/tools.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-exec-'));
chmodSync(dir, 0o755);
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function check(yaml: string): CheckSpec {
  const c = parseConfig(`instances:\n  - { name: V, interface: e0, vrid: 1, virtualAddresses: [192.0.2.1] }\nchecks:\n  - ${yaml}\n`, 'x.yaml');
  return c.checks[0];
}
const run = (c: CheckSpec, timeoutMs = 5000) => {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error('timed out')), timeoutMs);
  return execProbe(c, ac.signal).finally(() => clearTimeout(timer));
};
const fail = async (p: Promise<unknown>) => { try { await p; } catch (err) { return err as Error & { code: string; detail: { exitCode: number | null; output: string } }; } throw new Error('it passed'); };

t.test('exit 0 is up: the exit code and the first line of output are kept', async (t) => {
  const d = await run(check('{ name: a, type: exec, command: [/bin/sh, -c, "echo first line; echo second"] }'));
  t.strictSame(d, { exitCode: 0, output: 'first line' });
  const e = await fail(run(check('{ name: b, type: exec, command: [/bin/sh, -c, "echo it broke >&2; exit 3"] }')));
  t.equal(e.code, 'VIGIL_ECHECK_EXIT');
  t.equal(e.message, 'exit 3: it broke');
  t.strictSame(e.detail, { exitCode: 3, output: 'it broke' });
});

t.test('no shell unless asked', async (t) => {
  const plain = await run(check(`{ name: a, type: exec, command: [/bin/echo, "$HOME | cat"] }`));
  t.equal(plain.output, '$HOME | cat', 'the words are arguments, nothing expands them');
  const sh = await run(check(`{ name: b, type: exec, shell: true, command: ["echo one | tr a-z A-Z"] }`));
  t.equal(sh.output, 'ONE');
  t.throws(() => check('{ name: c, type: exec, command: [pidof, x] }'), /not an absolute path/);
});

t.test('runs as nobody unless a user is written; root only when written', { skip: isRoot ? false : 'needs root to change user' }, async (t) => {
  const nobody = userIds('nobody');
  t.equal(typeof nobody, 'object');
  t.equal((await run(check('{ name: a, type: exec, command: [/usr/bin/id, -u] }'))).output, String((nobody as { uid: number }).uid));
  t.equal((await run(check('{ name: b, type: exec, user: root, command: [/usr/bin/id, -u] }'))).output, '0');
  // A script others can write does not run as root: vigil check refuses it, and a script made
  // writable after the config was read is not run.
  const s = join(dir, 'writable.sh');
  writeFileSync(s, '#!/bin/sh\nexit 0\n');
  chmodSync(s, 0o777);
  t.throws(() => check(`{ name: c, type: exec, user: root, command: [${s}] }`), /writable.sh is unsafe to run as root: .*writable by every user/);
  chmodSync(s, 0o755);
  const c = check(`{ name: c, type: exec, user: root, command: [${s}] }`);
  chmodSync(s, 0o777);
  const e = await fail(run(c));
  t.equal(e.code, 'VIGIL_ECHECK_SPAWN');
  t.match(e.message, /not run as root: .*writable by every user/);
  t.match((await fail(run(check('{ name: d, type: exec, user: no-such-user, command: [/bin/true] }')))).message, /user no-such-user does not exist/);
});

// The pids whose command line holds `marker`.
const withMarker = (marker: string) => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
  try { return readFileSync(`/proc/${p}/cmdline`, 'latin1').includes(marker); } catch { return false; }
});

t.test('a hanging command is killed at its timeout, with its children', async (t) => {
  const marker = `${process.pid}${Date.now() % 100000}`;
  // The script starts a child and a grandchild that would outlive it, then hangs.
  const c = check(`{ name: hang, type: exec, shell: true, interval: 2s, timeout: 300ms, command: ["echo started; sleep 1${marker} & (sleep 2${marker}; true) & wait"] }`);
  const t0 = performance.now();
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error('timed out')), 300);
  const e = await fail(execProbe(c, ac.signal));
  const took = performance.now() - t0;
  t.equal(e.code, 'VIGIL_ECHECK_TIMEOUT');
  t.match(e.message, /timed out after 0\.3s: killed with its process group \(it printed "started"\)/);
  t.ok(took < 1000, `ended ${took.toFixed(0)} ms after it started`);
  await new Promise((r) => setTimeout(r, 200));
  t.strictSame(withMarker(marker), [], 'no process of the script is left');
});

t.test('misc_dynamic: exit 2..255 is up and sets the weight to exit - 2; exit 1 is down', async (t) => {
  t.strictSame(await run(check('{ name: a, type: exec, dynamic: true, command: [/bin/sh, -c, "exit 12"] }')), { exitCode: 12, output: '', weight: 10 });
  t.equal((await fail(run(check('{ name: b, type: exec, dynamic: true, command: [/bin/sh, -c, "exit 1"] }')))).code, 'VIGIL_ECHECK_EXIT');
  t.equal((await fail(run(check('{ name: c, type: exec, command: [/bin/sh, -c, "exit 12"] }')))).message, 'exit 12', 'without dynamic, any non-zero exit is down');
});

t.test('config: timeout may equal the interval, not exceed it; keys of other types refused', async (t) => {
  t.equal(check('{ name: a, type: exec, command: [/bin/true], interval: 2s, timeout: 2s }').timeoutUs, 2e6);
  t.throws(() => check('{ name: a, type: exec, command: [/bin/true], interval: 2s, timeout: 3s }'), /must be shorter than interval/);
  t.throws(() => check('{ name: a, type: exec, command: [/bin/true], target: "198.51.100.1:80" }'), /an exec check has no target/);
  t.throws(() => check('{ name: a, type: exec, command: [/bin/true], path: /x }'), /path is for file checks, not exec/);
  t.throws(() => check('{ name: a, type: exec }'), /has no command/);
});

t.test('misc_dynamic: the load balancer takes the weight it sets (host/lb/reconciler.ts)', async (t) => {
  const { Reconciler } = await import('../../host/lb/reconciler.ts');
  const { createLogger } = await import('../../host/agent/log.ts');
  const config = parseConfig(`checks:
  - { name: dyn, type: exec, dynamic: true, command: [/bin/sh, -c, "exit 12"] }
virtualServers:
  - name: web
    address: 192.0.2.100
    port: 80
    scheduler: wrr
    realServers:
      - { address: 198.51.100.11, port: 80, weight: 3, check: dyn }
      - { address: 198.51.100.12, port: 80, weight: 1 }
`, 'lb.yaml');
  const applied: string[] = [];
  const r = new Reconciler(config, {
    apply: async (text) => { applied.push(text); }, flushConntrack: async () => 0, egress: async () => undefined,
    runHook: () => {}, now: () => performance.now(), log: createLogger({ json: true, write: () => {} }),
  });
  t.teardown(() => r.stop());
  // The check's own run, reported as the checker reports it.
  const d = await run(config.checks[0]);
  r.report({ check: 'dyn', up: true, settled: true, error: null, latencyMs: 1, transitions: 1, rounds: 1, failures: 0, detail: d });
  t.strictSame([...r.weights().values()], [10, 1], 'exit 12: weight 10 in place of the configured 3');
  r.report({ check: 'dyn', up: true, settled: true, error: null, latencyMs: 1, transitions: 1, rounds: 2, failures: 0, detail: { exitCode: 0, output: '' } });
  t.strictSame([...r.weights().values()], [3, 1], 'exit 0: the configured weight');
});
