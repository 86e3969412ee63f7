// The supervisor: kill -9 of the VRRP engine is recovered within a second; the VIPs it left
// are removed at once, so two boxes never answer for the VIP longer than Master_Down_Interval;
// SIGTERM stops the engine in order and leaves nothing behind.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { skipReason } from '../net/netns.ts';
import { addressMonitor, holders, until, lab } from '../helpers/agents.ts';

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

// A process's scheduling policy and real-time priority: /proc/PID/stat fields 41 and 40
// (proc(5)), counted after the command name, which may hold spaces.
const SCHED_OTHER = 0, SCHED_FIFO = 1;
function scheduling(pid: number): { policy: number; rtPriority: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');   // f[0] is field 3 (state)
  return { policy: Number(f[41 - 3]), rtPriority: Number(f[40 - 3]) };
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

  // Watch both boxes' addresses from before the kill: the window in which both hold the VIP is
  // [B adds it, the supervisor deletes A's], by the kernel's own events.
  const monA = await addressMonitor(t, a.ns, VIP, '203.0.113.1');
  const monB = await addressMonitor(t, b.ns, VIP, '203.0.113.2');
  t.ok(scheduling(engine).policy === SCHED_FIFO, 'the engine runs SCHED_FIFO before the kill');
  const killedWall = Date.now();
  process.kill(engine, 'SIGKILL');
  const sawB = await until(() => holders([b.ns], VIP).length === 1 && !holders([a.ns], VIP).length, 3000, 'B alone to hold the VIP', 1);
  await until(() => monA.deleted() !== undefined && monB.added() !== undefined, 2000, 'the monitors to report the move');
  // Issue #6: no two masters for longer than one Master_Down_Interval. RFC 5798 6.1 for B, the
  // backup (priority 100, v3, 10 ms adverts): 3 * interval + (256 - priority) * interval / 256.
  const interval = 10, priorityB = 100;
  const mdi = 3 * interval + (256 - priorityB) * interval / 256;
  // Margin: the monitors stamp an event when they read it, not when the kernel made it. Each
  // runs at SCHED_FIFO 60, above everything vigil runs, so that wake-up is well under a
  // millisecond even on a loaded 2-core VM; 3 ms covers both stamps with room to spare.
  const MARGIN_MS = 3;
  const both = Math.max(0, monA.deleted()! - monB.added()!);
  t.ok(both <= mdi + MARGIN_MS,
    `both boxes held the VIP for ${both.toFixed(2)} ms (at most Master_Down_Interval ${mdi.toFixed(2)} ms + ${MARGIN_MS} ms); ` +
    `A's deleted ${(monA.deleted()! - killedWall).toFixed(1)} ms and B's added ${(monB.added()! - killedWall).toFixed(1)} ms after the kill`);
  // Timing of the takeover itself belongs to `make bench`; here a bound that still catches a
  // supervisor that leaves the VIP until the engine is back.
  t.ok(sawB <= 1000, `B alone holds it ${sawB.toFixed(1)} ms after the kill (seen by polling)`);
  await pa.waitLine(/removed 1 VIP\(s\) the engine left behind/, 2000);
  await pa.waitLine(/engine killed by SIGKILL: VIPs removed, restarting in 100 ms/, 2000);
  // The new engine comes back within a second and, priority 150, preempts.
  const restartedIn = await until(() => childrenOf(supervisor).length === 1 && childrenOf(supervisor)[0] !== engine, 1000, 'a new engine');
  t.ok(restartedIn < 1000, `new engine after ${restartedIn.toFixed(0)} ms`);
  const restarted = childrenOf(supervisor)[0];
  await pa.waitLine(new RegExp(`vigil running.*"pid":${restarted}\\b`), 5000);
  t.same(scheduling(restarted), { policy: SCHED_FIFO, rtPriority: 50 }, 'the restarted engine runs SCHED_FIFO 50 too');
  await until(() => holders(l.ns, VIP).join() === a.ns, 5000, 'A to take the VIP back');
  t.pass('A is master again');

  // SIGTERM: the engine stops first (priority 0, VIPs released), then the supervisor exits 0.
  const newEngine = childrenOf(supervisor)[0];
  t.equal(await pa.stop(), 0, 'supervisor exited 0');
  t.notOk(alive(newEngine), 'the engine is gone');
  t.same(holders([a.ns], VIP), [], 'no VIP left');
  await until(() => holders(l.ns, VIP).join() === b.ns, 2000, 'B to take over');
});

t.test('the engine runs SCHED_FIFO 50 by default, at the configured priority, and SCHED_OTHER with realtime: false', { skip }, async (t) => {
  // Three boxes, each its own VRID and VIP: only their engines' scheduling is looked at.
  const l = lab(t, 'vagsr-', ['a', 'b', 'c']);
  const config = (vrid: number, realtime: string) => `instances:
  - name: VI_1
    interface: eth0
    vrid: ${vrid}
    priority: 100
    advertInterval: 10ms
    virtualAddresses: [192.0.2.${vrid}/24]
${realtime}`;
  const cases = [
    { name: 'no realtime key (the default)', text: config(101, ''), want: { policy: SCHED_FIFO, rtPriority: 50 } },
    { name: 'realtime: { priority: 20 }', text: config(102, 'realtime: { priority: 20 }\n'), want: { policy: SCHED_FIFO, rtPriority: 20 } },
    { name: 'realtime: false', text: config(103, 'realtime: false\n'), want: { policy: SCHED_OTHER, rtPriority: 0 } },
  ];
  const procs = cases.map((c, i) => l.vigilFile(l.hosts[i], l.work.file(`rt${i}.yaml`, c.text)));
  for (const [i, c] of cases.entries()) {
    const p = procs[i];
    // Scheduling is set before the engine starts its instances.
    await p.waitLine(/"to":"master"/, 10_000);
    const [engine] = childrenOf(p.child.pid!);
    t.match(readFileSync(`/proc/${engine}/cmdline`, 'utf8'), /\0engine\0/, `${c.name}: the engine is the supervisor's child`);
    t.same(scheduling(engine), c.want, `${c.name}: the engine runs ${c.want.policy === SCHED_FIFO ? `SCHED_FIFO ${c.want.rtPriority}` : 'SCHED_OTHER'}`);
    // The supervisor, which removes a dead engine's VIPs, one below the engine (it must not
    // wait behind ordinary work either: host/agent/supervisor.ts supervisorRealtime).
    const sup = c.want.policy === SCHED_FIFO ? { policy: SCHED_FIFO, rtPriority: c.want.rtPriority - 1 } : c.want;
    t.same(scheduling(p.child.pid!), sup, `${c.name}: the supervisor runs ${sup.policy === SCHED_FIFO ? `SCHED_FIFO ${sup.rtPriority}` : 'SCHED_OTHER'}`);
    if (c.want.policy === SCHED_FIFO) t.ok(p.lines.some((x) => x.includes(`real-time scheduling: SCHED_FIFO ${c.want.rtPriority}`)), `${c.name}: logged`);
    else t.notOk(p.lines.some((x) => /real-time/.test(x)), `${c.name}: no real-time line, no warning`);
  }
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

t.test('an engine that keeps dying: restarted every time, the wait doubling from 100 ms and never over 1 s', { skip }, async (t) => {
  const l = lab(t, 'vagbo-', ['a']);
  const [a] = l.hosts;
  const pa = l.vigil(a, 'a.yaml', { priority: 150, interval: '100ms' });
  await pa.waitLine(/vigil running/, 10_000);
  const supervisor = pa.child.pid!;
  const waits: number[] = [];
  for (let i = 0; i < 6; i++) {
    const [engine] = childrenOf(supervisor);
    // Each engine dies once it runs (a crash at start would be refused as a bad config).
    await pa.waitLine(new RegExp(`vigil running.*"pid":${engine}\\b`), 5000);
    const seen = pa.lines.length;
    process.kill(engine!, 'SIGKILL');
    await until(() => pa.lines.slice(seen).some((x) => /restarting in \d+ ms/.test(x)), 2000, 'the restart line');
    waits.push(Number(/restarting in (\d+) ms/.exec(pa.lines.slice(seen).find((x) => /restarting in/.test(x))!)![1]));
    const since = performance.now();
    await until(() => childrenOf(supervisor).length === 1 && childrenOf(supervisor)[0] !== engine, 2000, 'a new engine');
    t.ok(performance.now() - since < 1000 + 200, `engine ${i + 2} spawned ${(performance.now() - since).toFixed(0)} ms after the restart line`);
  }
  t.same(waits, [100, 200, 400, 800, 1000, 1000], 'the backoff, capped at 1 s');
  t.match(pa.lines.join('\n'), /engine killed by SIGKILL: VIPs removed, restarting in 1000 ms.*"restarts":6/, 'each restart says why, and counts');
});
