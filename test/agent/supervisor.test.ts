// The supervisor: kill -9 of the VRRP engine is recovered within a second; the VIPs it left
// are removed at once, so two boxes never answer for the VIP longer than Master_Down_Interval;
// SIGTERM stops the engine in order and leaves nothing behind.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { skipReason } from '../net/netns.ts';
import { holders, until, lab } from '../helpers/agents.ts';

const skip = skipReason();
const VIP = '192.0.2.100';

// Running, not a zombie: an orphan is reaped by whatever PID 1 is, which may take its time.
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch { return false; }
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch { return []; }
}

t.test('kill -9 of the engine: VIP released at once, engine back within a second', { skip }, async (t) => {
  const l = lab(t, 'vagsv-');
  const [a, b] = l.hosts;
  const pa = l.vigil(a, 'a.yaml', { priority: 150, interval: '10ms' });
  await pa.waitLine(/"to":"master"/, 10_000);
  const pb = l.vigil(b, 'b.yaml', { priority: 100, interval: '10ms' });
  await pb.waitLine(/"to":"backup"/, 10_000);
  await until(() => holders(l.ns, VIP).join() === a.ns, 2000, 'A to hold the VIP');
  const supervisor = pa.child.pid!;
  const [engine] = childrenOf(supervisor);
  t.ok(engine, `the engine runs as a child (${engine}) of the supervisor (${supervisor})`);
  t.match(readFileSync(`/proc/${engine}/cmdline`, 'utf8'), /\0engine\0/, 'as `vigil engine`');

  process.kill(engine, 'SIGKILL');
  const killedAt = performance.now();
  // Two holders may overlap only until the supervisor has removed A's VIP.
  let both = 0, sawB = 0;
  await until(() => {
    const h = holders(l.ns, VIP);
    if (h.length === 2 && !both) both = performance.now() - killedAt;
    if (h.length === 1 && h[0] === b.ns && !sawB) sawB = performance.now() - killedAt;
    return sawB > 0 && !holders([a.ns], VIP).length;
  }, 3000, 'B alone to hold the VIP', 1);
  // Timing belongs to `make bench`; here, generous bounds that still catch a supervisor that
  // leaves the VIP until the engine is back (~0.5 s or more under load).
  const mdi = 3 * 10 + (256 - 100) * 10 / 256;
  t.ok(sawB <= 1000, `B holds it ${sawB.toFixed(1)} ms after the kill (Master_Down_Interval ${mdi.toFixed(1)} ms)`);
  await pa.waitLine(/removed 1 VIP\(s\) the engine left behind/, 2000);
  t.pass(both ? `the supervisor removed A's VIP (two holders seen from ${both.toFixed(1)} ms)` : 'the supervisor removed A\'s VIP before B took it');
  await pa.waitLine(/engine killed by SIGKILL: VIPs removed, restarting in 100 ms/, 2000);
  // The new engine comes back within a second and, priority 150, preempts.
  const restartedIn = await until(() => childrenOf(supervisor).length === 1 && childrenOf(supervisor)[0] !== engine, 1000, 'a new engine');
  t.ok(restartedIn < 1000, `new engine after ${restartedIn.toFixed(0)} ms`);
  await until(() => holders(l.ns, VIP).join() === a.ns, 5000, 'A to take the VIP back');
  t.pass('A is master again');

  // SIGTERM: the engine stops first (priority 0, VIPs released), then the supervisor exits 0.
  const newEngine = childrenOf(supervisor)[0];
  t.equal(await pa.stop(), 0, 'supervisor exited 0');
  t.notOk(alive(newEngine), 'the engine is gone');
  t.same(holders([a.ns], VIP), [], 'no VIP left');
  await until(() => holders(l.ns, VIP).join() === b.ns, 2000, 'B to take over');
});

t.test('an engine that cannot start is not restarted in a loop', { skip }, async (t) => {
  const l = lab(t, 'vagsc-', ['a']);
  const file = l.work.file('a.yaml', `instances:
  - name: VI_1
    interface: nope0
    vrid: 51
    virtualAddresses: [192.0.2.100/24]
realtime: false
`);
  const p = l.vigilFile(l.hosts[0], file);
  const code = await p.exited;
  t.equal(code, 2, 'vigil run exits 2');
  t.ok(p.lines.some((x) => /^vigil engine: .*no such network interface: "nope0"/.test(x)), 'the engine names the interface');
  t.ok(p.lines.some((x) => /engine exited with status 2 at start: not restarting/.test(x)), 'the supervisor says why it gives up');
});

t.test('kill -9 of the supervisor: the engine stops cleanly instead of running on', { skip }, async (t) => {
  const l = lab(t, 'vagsp-');
  const [a, b] = l.hosts;
  const pa = l.vigil(a, 'a.yaml', { priority: 150, interval: '10ms' });
  await pa.waitLine(/"to":"master"/, 10_000);
  const pb = l.vigil(b, 'b.yaml', { priority: 100, interval: '10ms' });
  await pb.waitLine(/"to":"backup"/, 10_000);
  const engine = childrenOf(pa.child.pid!)[0];
  pa.signal('SIGKILL');
  await pa.waitLine(/supervisor gone: stopping/, 2000);
  await until(() => !alive(engine), 5000, 'the orphaned engine to exit');
  t.same(holders([a.ns], VIP), [], 'it released the VIP');
  await until(() => holders(l.ns, VIP).join() === b.ns, 2000, 'B to take over');
  t.pass('B took over');
});
