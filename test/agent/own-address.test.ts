// A virtual address that is the interface's own (only) IPv4 address: a config mistake the fuzz
// test (test/config/fuzz.test.ts) once made by chance. vigil must not take the box's address
// away: not as a "stale VIP" when the instance starts, not when it goes at a reload.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { skipReason, nsExec } from '../net/netns.ts';
import { lab, until } from '../helpers/agents.ts';

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
