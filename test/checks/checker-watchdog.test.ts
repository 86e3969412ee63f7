// A checker that stops reporting (SIGSTOP here; a memory-cgroup stall or a hung event loop in
// the field) is killed by the supervisor and started again (host/agent/checker-watchdog.ts):
// its checks are judged again within seconds, and VRRP never notices.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { skipReason, nsExec } from '../net/netns.ts';
import { holders, lab, until } from '../helpers/agents.ts';
import { checkerSilence, checkerSilenceLimitMs } from '../../host/agent/checker-watchdog.ts';
import type { CheckSpec } from '../../host/config/types.ts';
import { startBackend } from './helpers.ts';

const spec = (type: CheckSpec['type'], intervalMs: number, timeoutMs: number) =>
  ({ type, intervalUs: intervalMs * 1000, timeoutUs: timeoutMs * 1000 }) as CheckSpec;

t.test('how long a live checker may be silent', async (t) => {
  t.equal(checkerSilenceLimitMs([]), undefined, 'no checks: no checker');
  t.equal(checkerSilenceLimitMs([spec('file', 0, 0), spec('process', 0, 0)]), undefined, 'watches report only on a change');
  t.equal(checkerSilenceLimitMs([spec('tcp', 100, 50)]), 4000, 'fast checks: the 1 s flush, three times, and a second');
  t.equal(checkerSilenceLimitMs([spec('http', 10_000, 2000), spec('tcp', 5000, 1000)]), 19_000, 'the most frequent check sets it');
  const checks = [spec('tcp', 100, 50)];
  t.equal(checkerSilence(checks, 4000, 0, true), undefined);
  t.match(checkerSilence(checks, 4001, 0, true), /^checker silent for 4001 ms \(a live one reports at least every 1000 ms\)$/);
  t.equal(checkerSilence(checks, 20_000, 0, false), undefined, 'more room before its first line (policies compile)');
  t.match(checkerSilence(checks, 34_001, 0, false), /has not reported in the 34001 ms since it started/);
});

const skip = skipReason();
const VIP = '192.0.2.100';
const children = (pid: number) => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
const isChecker = (pid: number) => { try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('checker'); } catch { return false; } };
const status = (ns: string) => JSON.parse(nsExec(ns, 'curl', '-sf', 'http://127.0.0.1:9110/status'));

t.test('a stopped checker is killed and started again; the VIP stays', { skip }, async (t) => {
  const l = lab(t, 'vchw-', ['a', 'c']);
  const [a, c] = l.hosts;
  const backend = await startBackend(c!.ns, 'http', c!.v4, '8080', 'healthy');
  t.teardown(() => backend.stop());
  const pa = l.vigil(a!, 'a.yaml', { priority: 150, interval: '50ms', extra: '    track: { checks: [{ name: web, weight: -60 }] }\n' + [
    'checks:',
    `  - { name: web, type: http, target: "http://${c!.v4}:8080/health", interval: 100ms, timeout: 50ms, rise: 1, fall: 2 }`,
  ].join('\n') });
  await pa.waitLine(/check web: up/, 10_000);
  await until(() => holders([a!.ns], VIP).length === 1, 5000, 'A to be master', 20);
  const sup = pa.child.pid!;
  // bin/vigil execs the supervisor under `ip netns exec`: it is this process or its child.
  const supervisor = children(sup).some(isChecker) ? sup : children(sup).find((p) => children(p).some(isChecker))!;
  const stopped = children(supervisor).find(isChecker)!;
  t.ok(stopped, 'a checker');
  const t0 = performance.now();
  process.kill(stopped, 'SIGSTOP');
  t.teardown(() => { try { process.kill(stopped, 'SIGKILL'); } catch { /* gone */ } });
  await pa.waitLine(/checker silent for \d+ ms .*: killing it to start it again/, 10_000);
  const killedMs = performance.now() - t0;
  t.ok(killedMs > 3500, `not before its limit (4 s; killed ${killedMs.toFixed(0)} ms after the stop)`);
  await pa.waitLine(/checker killed by SIGKILL: restarting/, 5000);
  const roundsBefore = status(a!.ns).checks[0].rounds as number;
  await until(() => status(a!.ns).checks[0].rounds < roundsBefore || children(supervisor).some((p) => p !== stopped && isChecker(p)), 10_000, 'a new checker', 50);
  await until(() => status(a!.ns).checks[0].rounds >= 2, 10_000, 'its rounds', 50);
  t.pass(`a new checker reporting ${(performance.now() - t0).toFixed(0)} ms after the stop`);
  t.match(status(a!.ns).checks[0], { state: 'up' });
  t.same(holders([a!.ns], VIP), [a!.ns], 'the VIP stayed on A throughout');
});
