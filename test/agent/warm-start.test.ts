// A warm start (host/agent/warm-start.ts, host/agent/handover.ts) in real namespaces (prefix
// vagws-): `vigil run` started without bin/vigil (as the single executable starts) and with a
// record of its config runs an engine in the supervisor first, then hands the instances to the
// engine proper. On the wire: no advert missed and none doubled across the handover, a master
// stays master with its VIP, a backup stays silent and still takes over when its master goes;
// the supervisor's engine is gone and the engine proper answers /status with the transition the
// first one made; an engine proper that dies before the handover leaves the supervisor's engine to
// stop as any does (priority 0) and a cold start to follow. VIGIL_WARM_START=0 and a VMAC start
// cold.
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { skipReason, nsExec, NODE } from '../net/netns.ts';
import { Capture } from '../net/capture.ts';
import { agentStatus, holders, lab, Proc, until, vigilConfig } from '../helpers/agents.ts';
import { needTools } from '../helpers/tools.ts';
import { recordPath } from '../../host/agent/accepted.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'host', 'cli', 'main.ts');
const VIP = '192.0.2.100';
const skip = skipReason() ?? needTools('tcpdump', 'tshark');
t.setTimeout(180_000);

// `vigil run` as the single executable runs it: the supervisor's Node is the first process, no
// engine started beside it (bin/vigil does that).
function startDirect(ns: string, file: string, env: Record<string, string> = {}): Proc {
  return new Proc(spawn('ip', ['netns', 'exec', ns, NODE, MAIN, 'run', '-c', file, '--log-json', '--debug'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } }));
}

// A first start with this config: cold, and the supervisor keeps a record of it (1 s in).
async function coldStartOnce(p: Proc, file: string): Promise<void> {
  await p.waitLine(/"vigil running/, 20_000);
  await until(() => existsSync(recordPath(file)), 5000, 'the record of the accepted config');
  await new Promise((r) => setTimeout(r, 100));
  if (await p.stop() !== 0) throw new Error(`cold start did not exit 0:\n${p.lines.slice(-10).join('\n')}`);
}

const children = (pid: number) => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
// The supervisor: the node process under `ip netns exec` (which execs it, same pid).
const problems = (p: Proc) => p.lines.filter((l) => /"level":"(warn|error)"/.test(l));

// Adverts from `src` in a capture: [seconds, priority].
function adverts(cap: Capture, src: string): [number, number][] {
  return cap.fields('frame.time_epoch', 'ip.src', 'vrrp.prio').filter((f) => f[1] === src).map((f) => [Number(f[0]), Number(f[2])]);
}

t.test('warm start', { skip }, async (t) => {
  const l = lab(t, 'vagws-');
  const [a, b] = l.hosts;
  // A cold start that leaves a record (once `coldReady` holds), a capture in b, then the warm
  // start, until it has handed over.
  const coldThenWarm = async (t: { teardown(fn: () => unknown): void }, file: string, coldReady: (p: Proc) => Promise<unknown>, filter = 'vrrp') => {
    const cold = startDirect(a.ns, file);
    l.procs.push(cold);
    await coldReady(cold);
    await coldStartOnce(cold, file);
    const cap = await Capture.start(b.ns, 'eth0', filter);
    t.teardown(() => cap.dispose());
    const warm = startDirect(a.ns, file);
    l.procs.push(warm);
    await warm.waitLine(/instances handed over to the engine/, 20_000);
    await warm.waitLine(/took the instances over from the supervisor's engine/, 5000);
    return { cold, cap, warm };
  };

  t.test('a master: handed over with no advert missed or doubled', async (t) => {
    const file = l.work.file('owner.yaml', vigilConfig({ priority: 200, interval: '10ms' }));
    const { cold, cap, warm } = await coldThenWarm(t, file, async () => {});
    t.same(problems(cold), [], 'the cold start logged no warning or error');
    t.notOk(cold.lines.some((x) => /warm start/.test(x)), 'no warm start without a record');
    await new Promise((r) => setTimeout(r, 1500));
    const sup = warm.child.pid!;
    const kids = children(sup);
    t.equal(kids.length, 1, 'the supervisor has one child: the engine proper');
    t.match(readFileSync(`/proc/${kids[0]}/cmdline`, 'utf8'), /\0engine\0/, 'which runs `vigil engine`');
    const st = agentStatus(a.ns);
    t.equal(st.pid, kids[0], '/status is the engine proper\'s');
    const i = st.instances[0];
    t.equal(i.state, 'master', 'master after the handover');
    // Priority 200, not the owner: Backup, then Master when Master_Down_Interval ran out.
    t.same(i.transitions.map((x: { to: string }) => x.to), ['backup', 'master'], 'with the transitions the supervisor\'s engine made, and no other');
    t.same(holders(l.ns, VIP), [a.ns], 'the VIP stayed on the master');
    t.equal(await warm.stop(), 0, 'SIGTERM: exit 0');
    await cap.stop();
    t.same(holders(l.ns, VIP), [], 'no VIP left');
    t.throws(() => readFileSync(`/proc/${kids[0]}/status`), 'no engine left');

    const ads = adverts(cap, a.v4);
    const live = ads.filter(([, p]) => p === 200);
    t.ok(live.length > 100, `adverts at priority 200 on the wire (${live.length})`);
    t.equal(ads.at(-1)?.[1], 0, 'the last advert says priority 0 (the stop)');
    const gaps = live.slice(1).map(([s], k) => (s - live[k]![0]) * 1000);
    const max = Math.max(...gaps), min = Math.min(...gaps);
    t.comment(`advert gaps from the first advert to the stop, the handover among them: min ${min.toFixed(2)} ms, max ${max.toFixed(2)} ms`);
    // 10 ms adverts: a missed one is a gap of 20 ms, two engines speaking at once a gap near 0.
    t.ok(max < 20, `no advert missed (longest gap ${max.toFixed(2)} ms)`);
    // Two engines on one core state would speak on the same deadlines: gaps near 0. A late advert
    // (this VM's floor reaches several ms) is followed by a short gap, not by a doubled one.
    t.ok(min > 1, `none doubled (shortest gap ${min.toFixed(2)} ms)`);
    const span = Math.round((live.at(-1)![0] - live[0]![0]) * 100);
    t.ok(live.length <= span + 1, `as many adverts as 10 ms intervals (${live.length} in ${span} intervals)`);
    t.same(cap.expertWarnings(), [], 'tshark finds nothing malformed');
    t.same(problems(warm), [], 'no warning or error logged');
  });

  t.test('a backup: handed over silent, takes over when its master goes', async (t) => {
    const fileB = l.work.file('master.yaml', vigilConfig({ priority: 200, interval: '10ms', statusPort: 9111 }));
    const master = l.vigilFile(b, fileB);
    await master.waitLine(/"to":"master"/, 20_000);
    const file = l.work.file('backup.yaml', vigilConfig({ priority: 100, interval: '10ms' }));
    const { cap, warm } = await coldThenWarm(t, file, (cold) => cold.waitLine(/"to":"backup"/, 20_000));
    await new Promise((r) => setTimeout(r, 500));
    const st = agentStatus(a.ns);
    t.equal(st.instances[0].state, 'backup', 'backup after the handover');
    t.equal(st.instances[0].masterAddress, b.v4, 'knowing its master');
    t.same(holders(l.ns, VIP), [b.ns], 'the VIP stayed on the master');

    // The master's link cut: the engine proper's Master_Down timer, replayed, runs out.
    const t0 = performance.now();
    execFileSync('ip', ['-n', b.ns, 'link', 'set', 'eth0', 'down']);
    const took = await until(() => holders([a.ns], VIP).length === 1, 3000, 'the warm-started backup to take the VIP');
    t.comment(`took the VIP ${took.toFixed(1)} ms after its master's link was cut (Master_Down_Interval ${st.instances[0].masterDownIntervalMs} ms)`);
    t.ok(performance.now() - t0 < 1000, 'within a second');
    await cap.stop();
    const fromA = adverts(cap, a.v4);
    const firstA = fromA[0]?.[0] ?? Infinity;
    const cutAt = performance.timeOrigin / 1000 + t0 / 1000;
    t.ok(firstA >= cutAt - 0.005, 'the backup said nothing on the wire before its master went');
    execFileSync('ip', ['-n', b.ns, 'link', 'set', 'eth0', 'up']);
    t.equal(await warm.stop(), 0, 'SIGTERM: exit 0');
    t.same(problems(warm), [], 'no warning or error logged');
    await master.stop();
  });

  t.test('two instances, IPv4 and IPv6, in a sync group with a tracked interface: handed over whole', async (t) => {
    const [llA] = await l.topo.linkLocals();
    nsExec(a.ns, 'ip', 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up1');
    nsExec(a.ns, 'ip', 'link', 'set', 'up0', 'up');
    nsExec(a.ns, 'ip', 'link', 'set', 'up1', 'up');
    t.teardown(() => { try { nsExec(a.ns, 'ip', 'link', 'del', 'up0'); } catch { /* gone with the namespace */ } });
    const file = l.work.file('group.yaml', `instances:
  - name: VI_4
    interface: eth0
    vrid: 51
    priority: 150
    advertInterval: 10ms
    virtualAddresses: [192.0.2.100/24]
    track: { interfaces: [{ name: up0, weight: 0 }] }
  - name: VI_6
    interface: eth0
    vrid: 52
    priority: 150
    advertInterval: 10ms
    virtualAddresses: ["2001:db8::100/64"]
syncGroups: [{ name: G1, instances: [VI_4, VI_6] }]
status: { listen: 127.0.0.1:9110 }
`);
    const { cap, warm } = await coldThenWarm(t, file,
      (cold) => until(() => cold.lines.filter((x) => /"to":"master"/.test(x)).length === 2, 20_000, 'both instances master (cold)'),
      'ip proto 112 or ip6 proto 112');
    await new Promise((r) => setTimeout(r, 800));
    const st = agentStatus(a.ns);
    t.same(st.instances.map((i: { name: string; state: string }) => [i.name, i.state]), [['VI_4', 'master'], ['VI_6', 'master']], 'both master after the handover');
    t.same([holders(l.ns, VIP), holders(l.ns, '2001:db8::100')], [[a.ns], [a.ns]], 'both VIPs in place');

    // The tracked interface, after the handover: VI_4 faults (weight 0), VI_6 with the group.
    nsExec(a.ns, 'ip', 'link', 'set', 'up1', 'down');
    await warm.waitLine(/"instance":"VI_6","from":"master","to":"fault","reason":"sync_group"/, 3000);
    t.same([holders(l.ns, VIP), holders(l.ns, '2001:db8::100')], [[], []], 'the group faulted: no VIP');
    nsExec(a.ns, 'ip', 'link', 'set', 'up1', 'up');
    await until(() => holders(l.ns, VIP).length === 1 && holders(l.ns, '2001:db8::100').length === 1, 3000, 'the group back');
    t.pass('the tracked interface drove the engine proper, group and all');
    t.equal(await warm.stop(), 0, 'SIGTERM: exit 0');
    await cap.stop();

    // Each instance's adverts from the start until the fault: none missed, none doubled.
    const rows = cap.fields('frame.time_epoch', 'ip.src', 'ipv6.src', 'vrrp.virt_rtr_id', 'vrrp.prio');
    const faultAt = Date.parse(JSON.parse(warm.lines.find((x) => /"to":"fault"/.test(x))!).time) / 1000;
    for (const [vrid, src] of [['51', a.v4], ['52', llA]] as const) {
      const at = rows.filter((r) => r[3] === vrid && (r[1] === src || r[2] === src) && r[4] === '150').map((r) => Number(r[0])).filter((x) => x < faultAt - 0.05);
      const gaps = at.slice(1).map((x, k) => (x - at[k]!) * 1000);
      t.ok(at.length > 50, `VRID ${vrid}: ${at.length} adverts before the fault`);
      t.ok(Math.max(...gaps) < 20 && Math.min(...gaps) > 1, `VRID ${vrid} from ${src}: none missed or doubled (gaps ${Math.min(...gaps).toFixed(2)}-${Math.max(...gaps).toFixed(2)} ms)`);
    }
    t.same(problems(warm).filter((x) => !/Network is unreachable/.test(x)), [], 'no warning or error logged');
  });

  t.test('the engine proper dies before the handover: the supervisor\'s engine stops as any does, a cold one follows', async (t) => {
    const file = l.work.file('dies.yaml', vigilConfig({ priority: 200, interval: '10ms', vrid: 53 }));
    const cold = startDirect(a.ns, file);
    l.procs.push(cold);
    await coldStartOnce(cold, file);
    // Fault injection from outside the program: a preload that ends the warm start's engine
    // (and no other process) before it can say it is ready.
    const dies = l.work.file('dies.mjs', "if (process.argv[2] === 'engine' && process.env.VIGIL_HANDOVER === '1') process.exit(3);\n");
    const cap = await Capture.start(b.ns, 'eth0', 'vrrp');
    t.teardown(() => cap.dispose());
    const p = startDirect(a.ns, file, { NODE_OPTIONS: `--import=${dies}` });
    l.procs.push(p);
    await p.waitLine(/warm start: the engine exited \(status 3\) before the handover; stopping the supervisor's engine and starting it cold/, 20_000);
    await p.waitLine(/vigil running/, 20_000);
    await until(() => holders(l.ns, VIP).join() === a.ns, 5000, 'the cold engine to hold the VIP');
    const st = agentStatus(a.ns);
    t.equal(st.instances[0].state, 'master', 'the cold engine is master');
    t.not(st.pid, p.child.pid, 'and is not the supervisor');
    t.equal(await p.stop(), 0, 'SIGTERM: exit 0');
    await cap.stop();
    const prios = adverts(cap, a.v4).map(([, q]) => q);
    const zero = prios.indexOf(0);
    // On a busy box the engine proper can die before the supervisor's engine has sent an advert
    // at all: then its priority 0 is the first on the wire, which is as right. And before it
    // became master (priority 200 waits Master_Down_Interval): then no priority 0 is owed, and
    // the only one on the wire is the cold engine's, at its SIGTERM (a CI rehearsal saw it).
    const died = p.lines.findIndex((x) => /the engine exited \(status 3\) before the handover/.test(x));
    const warmWasMaster = p.lines.slice(0, died).some((x) => /"to":"master"/.test(x));
    if (warmWasMaster) {
      t.ok(zero >= 0 && prios.slice(zero + 1).some((q) => q === 200), `the supervisor's engine said priority 0 before the cold one spoke (${prios.slice(0, Math.max(zero, 0) + 3).join(' ')} ...)`);
    } else {
      t.ok(zero === prios.length - 1 && zero > 0, `the supervisor's engine was never master: no priority 0 from it, the cold one's at the end (${prios.slice(-3).join(' ')})`);
    }
    t.same(holders(l.ns, VIP), [], 'no VIP left');
  });

  t.test('VIGIL_WARM_START=0 and a VMAC start cold', async (t) => {
    const file = l.work.file('plain.yaml', vigilConfig({ priority: 150, interval: '50ms', vrid: 61 }));
    const p1 = startDirect(a.ns, file);
    l.procs.push(p1);
    await coldStartOnce(p1, file);
    const p2 = startDirect(a.ns, file, { VIGIL_WARM_START: '0' });
    l.procs.push(p2);
    await p2.waitLine(/"vigil running/, 20_000);
    t.ok(p2.lines.some((x) => /no warm start: VIGIL_WARM_START=0/.test(x)), 'says why not');
    t.notOk(p2.lines.some((x) => /handed over/.test(x)), 'no handover');
    t.equal(await p2.stop(), 0);

    const vm = l.work.file('vmac.yaml', vigilConfig({ priority: 150, interval: '50ms', vrid: 62, extra: '    vmac: true' }));
    const p3 = startDirect(a.ns, vm);
    l.procs.push(p3);
    await coldStartOnce(p3, vm);
    const p4 = startDirect(a.ns, vm);
    l.procs.push(p4);
    await p4.waitLine(/"vigil running/, 20_000);
    t.ok(p4.lines.some((x) => /no warm start: instance VI_1 has a VMAC/.test(x)), 'a VMAC: says why not');
    t.equal(await p4.stop(), 0);
  });
});
