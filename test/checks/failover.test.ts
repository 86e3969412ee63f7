// A tracked HTTP check on the master (150, weight -60) against the backup (100): the backend
// dies, the master's priority drops to 90 and the VIP moves to the backup; the backend comes
// back, the VIP comes back. The checks run in `vigil checker`, a process of the supervisor's
// apart from the engine, which never loads undici. Status and metrics show the check.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { skipReason, nsExec } from '../net/netns.ts';
import { writeFileSync } from 'node:fs';
import { VIGIL, vigilConfig } from '../helpers/agents.ts';
import { holders, lab, until } from '../helpers/agents.ts';
import { startBackend } from './helpers.ts';
import type { Proc } from '../helpers/agents.ts';

const skip = skipReason();
const VIP = '192.0.2.100';

function get(ns: string, path: string): string {
  return nsExec(ns, 'curl', '-sf', `http://127.0.0.1:9110${path}`);
}
const children = (pid: number) => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');

t.test('a failing tracked http check moves the VIP to the backup and back', { skip }, async (t) => {
  const l = lab(t, 'vchf-', ['a', 'b', 'c']);
  const [a, b, c] = l.hosts;
  let backend: Proc | undefined = await startBackend(c.ns, 'http', c.v4, '8080', 'healthy');
  t.teardown(async () => { await backend?.stop(); });
  const checks = [
    'checks:',
    `  - { name: web, type: http, target: "http://${c.v4}:8080/health", interval: 100ms, timeout: 50ms, rise: 2, fall: 3, expect: { status: [200], body: healthy } }`,
  ].join('\n');
  const pa = l.vigil(a, 'a.yaml', { priority: 150, interval: '50ms', extra: '    track: { checks: [{ name: web, weight: -60 }] }\n' + checks });
  const pb = l.vigil(b, 'b.yaml', { priority: 100, interval: '50ms' });
  await pa.waitLine(/check web: up/, 10_000);
  await until(() => holders(l.ns, VIP).join() === a.ns, 5000, 'A to be master once its check is up', 20);
  await pb.waitLine(/"to":"backup"/, 5000);
  t.pass('A is master with its check up');

  // The process layout: supervisor -> engine + checker (the import graph test below shows
  // the engine's code never reaches undici).
  const st = JSON.parse(get(a.ns, '/status'));
  const engine = st.pid as number;
  const kids = children(Number(readFileSync(`/proc/${engine}/stat`, 'utf8').split(' ')[3]));
  const checkerPid = kids.find((p) => cmdline(p).includes('checker'));
  t.ok(checkerPid, `a checker process beside the engine (${kids.length} children of the supervisor)`);
  t.match(st.checks, [{ name: 'web', type: 'http', state: 'up', up: true, error: null, transitions: 1, trackedBy: ['VI_1'] }]);
  t.ok(st.checks[0].latencyMs > 0 && st.checks[0].latencyMs < 50, `latency ${st.checks[0].latencyMs} ms`);
  t.match(get(a.ns, '/metrics'), /vigil_check_up\{check="web",type="http"\} 1/);
  t.equal(st.instances[0].effectivePriority, 150);
  t.match(nsExec(a.ns, VIGIL, 'status'), /CHECK\s+TYPE\s+STATE[\s\S]*\nweb\s+http\s+up\s/, 'vigil status shows the check');

  // The backend dies: three failed rounds, priority 90, B takes over.
  const t0 = performance.now();
  await backend.stop();
  backend = undefined;
  await pa.waitLine(/check web: down/, 5000);
  const ms = await until(() => holders(l.ns, VIP).join() === b.ns, 5000, 'B to take the VIP', 5);
  t.pass(`VIP on B ${(performance.now() - t0).toFixed(0)} ms after the backend died (fall 3 x 100 ms, then ${ms.toFixed(0)} ms)`);
  const down = JSON.parse(get(a.ns, '/status'));
  t.match(down.checks[0], { state: 'down', up: false, transitions: 2 });
  t.match(down.checks[0].error, /ECONNREFUSED|timed out/);
  t.match(down.checks[0].code, /^VIGIL_ECHECK_(CONNECT|TIMEOUT)$/, 'the reason in /status carries its code');
  t.equal(down.instances[0].effectivePriority, 90);
  t.equal(down.instances[0].state, 'backup');
  t.match(get(a.ns, '/metrics'), /vigil_check_up\{check="web",type="http"\} 0/);

  // It comes back: two good rounds, A preempts.
  backend = await startBackend(c.ns, 'http', c.v4, '8080', 'healthy');
  await until(() => holders(l.ns, VIP).join() === a.ns, 5000, 'A to take the VIP back', 5);
  const up = JSON.parse(get(a.ns, '/status'));
  t.match(up.checks[0], { state: 'up', transitions: 3 });
  t.equal(up.instances[0].effectivePriority, 150);

  // The checker dies (kill -9): the supervisor restarts it, the engine keeps the check's state
  // and the VIP stays.
  const before = JSON.parse(get(a.ns, '/status')).checks[0].rounds as number;
  const k0 = performance.now();
  process.kill(checkerPid!, 'SIGKILL');
  await pa.waitLine(/checker killed by SIGKILL: restarting/, 5000);
  // The new checker's reports start again from round 1.
  await until(() => JSON.parse(get(a.ns, '/status')).checks[0].rounds < before, 10_000, 'reports of the new checker', 50);
  t.pass(`the new checker reports ${(performance.now() - k0).toFixed(0)} ms after the kill`);
  t.equal(holders(l.ns, VIP).join(), a.ns, 'the VIP stayed on A through the checker restart');
  const after = JSON.parse(get(a.ns, '/status'));
  t.match(after.checks[0], { state: 'up', transitions: 3 });

  // The engine dies (kill -9): the supervisor restarts it and replays each check's last report,
  // so the new engine knows the check is up at once and A takes the VIP back at priority 150.
  process.kill(after.pid, 'SIGKILL');
  await until(() => { try { return JSON.parse(get(a.ns, '/status')).pid !== after.pid; } catch { return false; } }, 5000, 'a new engine', 20);
  const fresh = JSON.parse(get(a.ns, '/status'));
  t.match(fresh.checks[0], { state: 'up', up: true }, 'the new engine knows the check at once');
  t.equal(fresh.instances[0].effectivePriority, 150);
  await until(() => holders(l.ns, VIP).join() === a.ns, 5000, 'A to be master again after its engine restart', 10);
  t.pass('A master again after the engine restart');
});

t.test('weight 0: the instance stays in FAULT (no VIP) until the check has risen', { skip }, async (t) => {
  const l = lab(t, 'vchz-', ['a', 'c']);
  const [a, c] = l.hosts;
  const checks = [
    'checks:',
    `  - { name: web, type: http, target: "http://${c.v4}:8080/health", interval: 100ms, timeout: 50ms, rise: 2, fall: 1 }`,
  ].join('\n');
  const pa = l.vigil(a, 'a.yaml', { priority: 150, interval: '50ms', extra: '    track: { checks: [{ name: web }] }\n' + checks });
  await pa.waitLine(/vigil running/, 10_000);
  // Until the check has failed (its first rounds, slower on a loaded box) and after: never the VIP.
  let held = 0;
  await until(() => {
    held += holders([a.ns], VIP).length;
    return JSON.parse(get(a.ns, '/status')).checks[0].state === 'down';
  }, 10_000, 'the check to go down', 20);
  t.equal(held, 0, 'no VIP while the check has not risen');
  t.same(holders([a.ns], VIP), [], 'no VIP while the backend is not there');
  const st = JSON.parse(get(a.ns, '/status'));
  t.equal(st.instances[0].state, 'fault');
  t.match(st.checks[0], { state: 'down', up: false });
  const backend = await startBackend(c.ns, 'http', c.v4, '8080', 'ok');
  t.teardown(() => backend.stop());
  await until(() => holders([a.ns], VIP).length === 1, 5000, 'the VIP once the check is up', 10);
  t.pass('master once the backend answers');
});

t.test('SIGHUP: checks removed stop the checker; added ones start it; a changed check is rerun', { skip }, async (t) => {
  const l = lab(t, 'vchr-', ['a', 'c']);
  const [a, c] = l.hosts;
  const backend = await startBackend(c.ns, 'tcp', c.v4, '2525', '220 ok');
  t.teardown(() => backend.stop());
  const check = (port: number) => `checks: [{ name: smtp, type: tcp, target: "${c.v4}:${port}", interval: 100ms, timeout: 50ms, rise: 1, fall: 2 }]`;
  const withCheck = (port: number) => vigilConfig({ priority: 150, interval: '50ms', extra: '    track: { checks: [{ name: smtp, weight: -60 }] }\n' + check(port) });
  const file = l.work.file('a.yaml', withCheck(2525));
  const pa = l.vigilFile(a, file);
  await pa.waitLine(/check smtp: up/, 10_000);
  const engine = JSON.parse(get(a.ns, '/status')).pid as number;
  const sup = Number(readFileSync(`/proc/${engine}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
  const checkerOf = () => children(sup).filter((p) => cmdline(p).includes('checker'));
  t.equal(checkerOf().length, 1, 'one checker');

  // The check now points at a port where nothing listens: the new checker fails it.
  writeFileSync(file, withCheck(2626));
  pa.signal('SIGHUP');
  await until(() => JSON.parse(get(a.ns, '/status')).checks[0].state === 'down', 5000, 'the changed check to fail', 20);
  t.equal(JSON.parse(get(a.ns, '/status')).instances[0].effectivePriority, 90);
  t.equal(JSON.parse(get(a.ns, '/status')).checks[0].target, `${c.v4}:2626`);

  // No checks at all: no checker process, priority back to 150.
  writeFileSync(file, vigilConfig({ priority: 150, interval: '50ms' }));
  pa.signal('SIGHUP');
  await until(() => JSON.parse(get(a.ns, '/status')).checks.length === 0, 5000, 'the checks to go', 20);
  t.equal(JSON.parse(get(a.ns, '/status')).instances[0].effectivePriority, 150);
  await until(() => checkerOf().length === 0, 5000, 'the checker to stop', 20);
  t.pass('no checker without checks');

  // Back: the checker starts again.
  writeFileSync(file, withCheck(2525));
  pa.signal('SIGHUP');
  await until(() => checkerOf().length === 1, 5000, 'a checker again', 20);
  await until(() => JSON.parse(get(a.ns, '/status')).checks[0]?.state === 'up', 5000, 'the check up again', 20);
  t.equal(JSON.parse(get(a.ns, '/status')).instances[0].effectivePriority, 150);

  // SIGINT (Ctrl-C) stops it as SIGTERM does: the engine and the checker with it.
  const [checker] = checkerOf();
  pa.signal('SIGINT');
  t.equal(await pa.exited, 0, 'exit 0 on SIGINT');
  t.notOk(existsSync(`/proc/${engine}`) || existsSync(`/proc/${checker}`), 'engine and checker gone');
  t.same(holders([a.ns], VIP), [], 'no VIP left');
});
