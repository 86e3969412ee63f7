// Notify hooks (issue #4: "run without blocking the event loop, with the state in argv and env,
// and a timeout"), beyond master / backup / stop (test/agent/behaviour.test.ts): the fault hook,
// when a tracked interface with weight 0 goes down; and a hook that hangs past notify.timeout,
// killed, whole, after about that timeout, while the master's 10 ms adverts go on without a gap.
import t from 'tap';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { skipReason, nsExec } from '../net/netns.ts';
import { Capture } from '../net/capture.ts';
import { agentStatus, holders, until, lab, vigilConfig } from '../helpers/agents.ts';
import { needTools } from '../helpers/tools.ts';

const skip = skipReason();
const VIP = '192.0.2.100';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');

function state(ns: string): { state: string; effectivePriority: number } {
  return agentStatus(ns).instances[0];
}

t.test('the fault hook: a tracked interface (weight 0) going down runs it with FAULT in argv and env', { skip }, async (t) => {
  const l = lab(t, 'vntf-', ['a']);
  const [a] = l.hosts;
  // A second link on A to track: a veth pair; taking up1 down takes up0's carrier with it.
  nsExec(a.ns, 'ip', 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up1');
  nsExec(a.ns, 'ip', 'link', 'set', 'up0', 'up');
  nsExec(a.ns, 'ip', 'link', 'set', 'up1', 'up');
  const out = `${l.work.dir}/notify.out`;
  const sched = `${l.work.dir}/sched.out`;
  const fds = `${l.work.dir}/fds.out`;
  const script = l.work.file('notify.sh', `#!/bin/sh
echo "$# $* | $VIGIL_INSTANCE $VIGIL_STATE $VIGIL_PREVIOUS_STATE $VIGIL_PRIORITY $VIGIL_REASON" >> ${out}
awk '{ print $41 }' /proc/$$/stat >> ${sched}
python3 -c 'import os; print(" ".join(sorted(f for f in os.listdir("/proc/self/fd") if os.path.exists("/proc/self/fd/" + f))))' >> ${fds}
`);
  chmodSync(script, 0o755);
  const pa = l.vigil(a, 'a.yaml', {
    priority: 150, interval: '50ms',
    extra: `    track: { interfaces: [{ name: up0, weight: 0 }] }\n    notify: { master: ${script}, backup: ${script}, fault: ${script} }`,
  });
  await pa.waitLine(/"to":"master"/, 10_000);
  await until(() => read(out).includes('MASTER'), 3000, 'the master hook');
  t.same(holders([a.ns], VIP), [a.ns]);

  nsExec(a.ns, 'ip', 'link', 'set', 'up1', 'down');
  await until(() => read(out).includes('FAULT'), 3000, 'the fault hook');
  t.equal(state(a.ns).state, 'fault');
  t.same(holders([a.ns], VIP), [], 'the VIP went with the fault');

  nsExec(a.ns, 'ip', 'link', 'set', 'up1', 'up');
  await until(() => read(out).trim().split('\n').length === 5, 3000, 'the hooks of the recovery');
  t.same(read(out).trim().split('\n'), [
    '4 INSTANCE VI_1 BACKUP 150 | VI_1 backup init 150 startup',
    '4 INSTANCE VI_1 MASTER 150 | VI_1 master backup 150 master_down',
    '4 INSTANCE VI_1 FAULT 150 | VI_1 fault master 150 fault',
    '4 INSTANCE VI_1 BACKUP 150 | VI_1 backup fault 150 fault_cleared',
    '4 INSTANCE VI_1 MASTER 150 | VI_1 master backup 150 master_down',
  ], 'argv (count and values) and env of each hook, in order');
  await until(() => read(sched).trim().split('\n').length === 5, 3000, 'the last hook\'s policy line');
  t.same(read(sched).trim().split('\n'), ['0', '0', '0', '0', '0'], 'each hook ran SCHED_OTHER, not at the engine\'s SCHED_FIFO 50');
  await until(() => read(fds).trim().split('\n').length === 5, 3000, 'the last hook\'s descriptors');
  t.same([...new Set(read(fds).trim().split('\n'))], ['0 1 2'], 'no hook holds any of the engine\'s descriptors (sockets, bin/vigil\'s pipes): only stdin, stdout, stderr reach what it runs');
  await until(() => holders([a.ns], VIP).length === 1, 2000, 'the VIP back');
});

t.test('a hook that hangs is killed, with what it started, after notify.timeout; the adverts go on meanwhile', { skip: skip ?? needTools('tcpdump', 'tshark', 'pgrep') }, async (t) => {
  const l = lab(t, 'vnth-');
  const [a, b] = l.hosts;
  const out = `${l.work.dir}/hang.out`;
  // The hook's own work outlives the hook's shell unless the whole group is killed: the sleep
  // carries a mark to find it by.
  const MARK = '7.319';
  const script = l.work.file('hang.sh', `#!/bin/sh
echo "start $$" >> ${out}
sleep ${MARK}
echo "finished" >> ${out}
`);
  chmodSync(script, 0o755);
  const leftovers = () => spawnSync('pgrep', ['-f', `^sleep ${MARK}$`], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);
  t.teardown(() => { for (const pid of leftovers()) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } });

  const pb = l.vigil(b, 'b.yaml', { priority: 100, interval: '10ms' });
  await pb.waitLine(/"to":"master"/, 10_000);
  const cap = await Capture.start(l.topo.br, 'br0', `ip proto 112 and src host ${a.v4}`);
  t.teardown(() => cap.dispose());
  // A preempts B; its master hook hangs for 7.3 s, past its 1 s timeout.
  const pa = l.vigil(a, 'a.yaml', { priority: 150, interval: '10ms', extra: `    notify: { master: ${script}, timeout: 1s }` });
  const master = JSON.parse(await pa.waitLine(/"to":"master"/, 10_000)).time;
  await until(() => read(out).includes('start'), 3000, 'the hook to start');
  const killed = JSON.parse(await pa.waitLine(/notify hook .*hang\.sh still running after 1s: killed/, 5000));
  const after = Date.parse(killed.time) - Date.parse(master);
  t.ok(after >= 990 && after < 1500, `killed ${after} ms after the transition (timeout 1 s)`);
  t.equal(killed.level, 'warn');
  await sleep(300);
  await cap.stop();
  t.same(leftovers(), [], 'nothing the hook started is left running');

  // The adverts from A's first as master to 300 ms past the kill: the hook hung through all of
  // it. Every gap below 2 x 10 ms: no advert missed (one missed makes a gap of 20 ms or more).
  // The first gaps as master are bounded on their own below; the rest from 50 ms past A's
  // first advert as master.
  const all = cap.fields('frame.time_epoch').map(([x]) => Number(x) * 1000);
  t.ok(all[0]! <= Date.parse(master) + 50 && all.at(-1)! >= Date.parse(killed.time) + 200, `the capture spans the hang: ${all.length} adverts over ${(all.at(-1)! - all[0]!).toFixed(0)} ms`);
  const first = all.slice(1, 6).map((x, i) => x - all[i]!);
  // The hook starts between the first and second advert as master (onTransition): through the
  // shim's posix_spawn, ~1 ms, where node:child_process's fork of the engine took 5-19 ms and
  // made this gap 17-27 ms (host/agent/notify.ts).
  t.ok(Math.max(...first) < 20, `no missed advert at the takeover either: first gaps ${first.map((x) => x.toFixed(2)).join(', ')} ms`);
  const times = all.filter((x) => x >= all[0]! + 50);
  const g = times.slice(1).map((x, i) => x - times[i]!);
  t.ok(g.length >= 100, `${g.length + 1} adverts`);
  const max = Math.max(...g);
  t.ok(max < 20, `no missed advert while the hook hung and when it was killed: max gap ${max.toFixed(2)} ms at +${(times[g.indexOf(max) + 1]! - all[0]!).toFixed(0)} ms`);
  t.equal(state(a.ns).state, 'master');
  t.equal(pb.lines.filter((x) => /"to":"master"/.test(x)).length, 1, 'B never took over again');
});
