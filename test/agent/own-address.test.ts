// A virtual address that is the interface's own (only) IPv4 address: a config mistake the fuzz
// test (test/config/fuzz.test.ts) once made by chance. vigil must not take the box's address
// away: not as a "stale VIP" when the instance starts, not when it goes at a reload, not when
// the engine dies, not at a restart after kill -9 (host/agent/own-address.ts).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { skipReason, nsExec } from '../net/netns.ts';
import { lab, until, VIGIL } from '../helpers/agents.ts';
import { leftVipsPath } from '../../host/agent/left-vips.ts';
import { isBoxOwn } from '../../host/agent/own-address.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const skip = skipReason();

t.test("an instance naming the interface's own address leaves it, and the next instance still starts", { skip, timeout: 60_000 }, async (t) => {
  const l = lab(t, 'vown-', ['a']);
  const [a] = l.hosts;
  const cfg = (name: string, vip: string) => `instances:\n  - { name: ${name}, interface: eth0, vrid: 7, priority: 100, advertInterval: 100ms, virtualAddresses: [${vip}/24] }\nstatus: { listen: 127.0.0.1:9110 }\n`;
  const file = l.work.file('own.yaml', cfg('OWN', a.v4));
  const v = l.vigilFile(a, file);
  await v.waitLine(/OWN: virtual address 192\.0\.2\.10 is eth0's own primary address: left alone/, 15_000);
  const has = () => nsExec(a.ns, 'ip', '-4', '-br', 'addr', 'show', 'dev', 'eth0').includes(`${a.v4}/24`);
  t.ok(has(), 'eth0 keeps its address at the start');
  writeFileSync(file, cfg('NEXT', '192.0.2.200'));
  const before = v.lines.length;
  v.signal('SIGHUP');
  await until(() => v.lines.slice(before).some((x) => /"msg":"reloaded"/.test(x)), 10_000, 'the reload', 20);
  t.ok(has(), 'eth0 keeps its address when the instance goes');
  await until(() => v.lines.slice(before).some((x) => /NEXT: backup -> master/.test(x)), 10_000, 'NEXT to become master', 20);
  t.notOk(v.lines.some((x) => /no IPv4 primary address/.test(x)), 'no instance lost its source address');
});

t.test('nor when the engine dies, nor after a kill -9 and a restart, nor in vigil cleanup', { skip, timeout: 60_000 }, async (t) => {
  const l = lab(t, 'vowk-', ['a']);
  const [a] = l.hosts;
  const file = l.work.file('own.yaml',
    `instances:\n  - { name: OWN, interface: eth0, vrid: 7, priority: 100, advertInterval: 100ms, virtualAddresses: [${a.v4}/24] }\nstatus: { listen: 127.0.0.1:9110 }\n`);
  const has = () => nsExec(a.ns, 'ip', '-4', '-br', 'addr', 'show', 'dev', 'eth0').includes(`${a.v4}/24`);
  const v = l.vigilFile(a, file);
  await v.waitLine(/OWN: virtual address .* left alone/, 15_000);
  await v.waitLine(/OWN: backup -> master/, 10_000);
  t.notMatch(readFileSync(leftVipsPath(file), 'utf8'), /address del/, 'not among the VIPs bin/vigil would remove after a kill');
  // The engine dies: the supervisor removes the VIPs it left, but not this one.
  const engine = JSON.parse(nsExec(a.ns, 'curl', '-sf', 'http://127.0.0.1:9110/status')).pid as number;
  process.kill(engine, 'SIGKILL');
  await v.waitLine(/engine (killed|exited)|restarting the engine|engine .*SIGKILL/i, 10_000);
  await sleep(300);
  t.ok(has(), 'eth0 keeps its address when the engine dies');
  // The whole agent killed and started again: neither the launcher nor Node removes it.
  const sup = v.child.pid!;
  for (const p of [sup, ...readFileSync(`/proc/${sup}/task/${sup}/children`, 'utf8').trim().split(/\s+/).map(Number)]) {
    try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
  }
  await v.exited;
  const again = l.vigilFile(a, file);
  await again.waitLine(/OWN: backup -> master/, 15_000);
  t.notOk(again.lines.some((x) => /removing stale VIP/.test(x)), 'not removed as a stale VIP at the restart');
  t.ok(has(), 'eth0 keeps its address after a kill -9 and a restart');
  const cleanup = spawnSync('ip', ['netns', 'exec', a.ns, VIGIL, 'cleanup', '-c', file], { encoding: 'utf8' });
  t.equal(cleanup.status, 0);
  t.ok(has(), 'nor by vigil cleanup');
});

t.test('the rule: the only primary IPv4 address of its interface', async (t) => {
  const v4 = (address: string, secondary = false) => ({ address, family: 4 as const, secondary });
  t.ok(isBoxOwn([v4('192.0.2.10')], '192.0.2.10'), 'the only address');
  t.notOk(isBoxOwn([v4('192.0.2.10'), v4('192.0.2.100', true)], '192.0.2.100'), 'a secondary beside it: a VIP');
  t.notOk(isBoxOwn([v4('192.0.2.10'), v4('198.51.100.1')], '198.51.100.1'), 'a second primary (another subnet): a VIP');
  t.notOk(isBoxOwn([v4('192.0.2.10')], '192.0.2.11'), 'not there');
  t.notOk(isBoxOwn([{ address: '2001:db8::1', family: 6, secondary: false }], '2001:db8::1'), 'IPv6: VRRP speaks from the link-local address');
});
