// What an operator relies on, each on two real agents in namespaces: the status API, stale
// VIPs removed at start, a VIP deleted by hand put back, SIGHUP reloads (broken and valid),
// notify hooks, kill -9 recovery, and every advert clean in tshark.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, existsSync, chmodSync } from 'node:fs';
import { skipReason, nsExec } from '../net/netns.ts';
import { agentStatus, startVigil, holders, until, vigilConfig, lab, Workdir, VIGIL } from '../helpers/agents.ts';
import { needTools } from '../helpers/tools.ts';

const skip = skipReason();
const VIP = '192.0.2.100';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function pair(t: { teardown(fn: () => unknown): void }, prefix: string, a: Parameters<typeof vigilConfig>[0], b: Parameters<typeof vigilConfig>[0]) {
  const l = lab(t, prefix);
  const [ha, hb] = l.hosts;
  const files = { a: l.work.file('a.yaml', vigilConfig(a)), b: l.work.file('b.yaml', vigilConfig(b)) };
  const start = (which: 'a' | 'b') => l.vigilFile(which === 'a' ? ha : hb, files[which]);
  return { topo: l.topo, work: l.work, procs: l.procs, ha, hb, files, start, ns: l.ns };
}

function statusOf(ns: string): { instances: { name: string; state: string; drops: Record<string, number>; counters: Record<string, number>; transitions: unknown[]; effectivePriority: number; availability: { availability: number | null } }[] } {
  return agentStatus(ns);
}

t.test('status API: /status JSON, /metrics, and the vigil status table', { skip }, async (t) => {
  const p = await pair(t, 'vagbs-', { priority: 150, interval: '50ms' }, { priority: 100, interval: '50ms' });
  const pa = p.start('a');
  await pa.waitLine(/"to":"master"/, 10_000);
  const pb = p.start('b');
  await pb.waitLine(/"to":"backup"/, 10_000);
  await sleep(500);
  const sa = statusOf(p.ha.ns), sb = statusOf(p.hb.ns);
  t.equal(sa.instances[0].state, 'master');
  t.equal(sb.instances[0].state, 'backup');
  t.ok(sa.instances[0].counters.advertsSent >= 5, `adverts sent ${sa.instances[0].counters.advertsSent}`);
  t.ok(sb.instances[0].counters.advertsReceived >= 5, `adverts received ${sb.instances[0].counters.advertsReceived}`);
  t.match(sb.instances[0], { masterAddress: p.ha.v4, masterPriority: 150, effectivePriority: 100 });
  t.equal(sa.instances[0].availability.availability, 1);
  const table = spawnSync('ip', ['netns', 'exec', p.hb.ns, VIGIL, 'status'], { encoding: 'utf8' });
  t.match(table.stdout, /^INSTANCE\s+IFACE\s+VRID.*\nVI_1\s+eth0\s+51\s+ipv4\s+backup\s+100\s+192\.0\.2\.10\b/m);
  const metrics = nsExec(p.ha.ns, 'python3', '-c', 'import urllib.request;print(urllib.request.urlopen("http://127.0.0.1:9110/metrics").read().decode())');
  t.match(metrics, /^vigil_instance_state\{instance="VI_1",interface="eth0",vrid="51",state="master"\} 1$/m);
  t.match(metrics, /^vigil_adverts_sent_total\{instance="VI_1",interface="eth0",vrid="51"\} \d+$/m);
  t.match(metrics, /^# TYPE vigil_instance_drops_total counter$/m);
  // Bound to 127.0.0.1 only: the neighbour cannot reach it.
  const fromB = spawnSync('ip', ['netns', 'exec', p.hb.ns, VIGIL, 'status', '--url', `http://${p.ha.v4}:9110/status`], { encoding: 'utf8' });
  t.equal(fromB.status, 2, 'status is not served on the LAN address');
  t.match(fromB.stderr, /cannot reach the agent/);
});

t.test('stale VIP from a killed run is removed before the election; kill -9 of the master', { skip }, async (t) => {
  const p = await pair(t, 'vagbk-', { priority: 150, interval: '50ms' }, { priority: 100, interval: '50ms' });
  const pb = p.start('b');
  await pb.waitLine(/"to":"master"/, 10_000);
  // A box that died holding the VIP and comes back: the address is still on its interface.
  nsExec(p.ha.ns, 'ip', 'addr', 'add', `${VIP}/24`, 'dev', 'eth0');
  t.same(holders(p.ns, VIP).sort(), p.ns.slice().sort(), 'both hold it before A starts');
  const pa = p.start('a');
  await pa.waitLine(/removing stale VIP 192\.0\.2\.100/, 10_000);
  await pa.waitLine(/"to":"master"/, 5000);
  await until(() => holders(p.ns, VIP).join() === p.ha.ns, 3000, 'A alone to hold the VIP');
  t.pass('A removed the stale VIP and then won the election');
  // Power loss, as near as a test gets: the supervisor and the engine killed at once, so no
  // priority 0 and nobody to clean up; the VIP stays on A's interface, B takes over after
  // Master_Down_Interval.
  // Past the record of its config (written a second into a run): the restart starts on it.
  await sleep(1200);
  const sup = pa.child.pid!;
  const engine = Number(readFileSync(`/proc/${sup}/task/${sup}/children`, 'utf8').trim());
  process.kill(engine, 'SIGKILL');
  pa.signal('SIGKILL');
  await pa.exited;
  t.same(holders([p.ha.ns], VIP), [p.ha.ns], 'the dead box still has the VIP on its interface');
  await until(() => holders([p.hb.ns], VIP).length === 1, 2000, 'B to take over after kill -9');
  t.pass('B took over after A was killed');
  // A restarts: it removes its stale VIP first, so there are never two holders for long.
  const pa2 = startVigil(p.ha.ns, p.files.a);
  p.procs.push(pa2);
  await pa2.waitLine(/removing stale VIP/, 10_000);
  // The killed run wrote its VIPs down (host/agent/left-vips.ts): bin/vigil removes them before
  // Node starts, and Node says so first, and only once.
  const first = JSON.parse(pa2.lines[0]!);
  t.match(first, { msg: /^VI_1: removing stale VIP 192\.0\.2\.100 from eth0 \(left by an earlier run\)$/, startMs: Number, by: 'bin/vigil' },
    'the first thing the restarted agent does, in the launcher');
  t.ok(first.startMs < 0, `before Node began (${first.startMs} ms)`);
  await until(() => holders(p.ns, VIP).join() === p.ha.ns, 5000, 'A (150) to take the VIP back');
  t.equal(pa2.lines.filter((l) => /removing stale VIP/.test(l)).length, 1, 'removed once, not again by the engine');
  t.pass('restarted A cleaned up and preempted');
});

t.test('a VIP deleted by hand while master is put back', { skip }, async (t) => {
  const p = await pair(t, 'vagbv-', { priority: 150, interval: '50ms' }, { priority: 100, interval: '50ms' });
  const pa = p.start('a');
  await pa.waitLine(/"to":"master"/, 10_000);
  await until(() => holders([p.ha.ns], VIP).length === 1, 2000, 'A to hold the VIP');
  nsExec(p.ha.ns, 'ip', 'addr', 'del', `${VIP}/24`, 'dev', 'eth0');
  await pa.waitLine(/VIP 192\.0\.2\.100 was removed .* putting it back/, 2000);
  const ms = await until(() => holders([p.ha.ns], VIP).length === 1, 2000, 'the VIP to come back');
  t.ok(ms < 2000, `back after ${ms.toFixed(1)} ms`);
});

t.test('SIGHUP: a broken config is refused and adverts keep flowing; a valid one applies', { skip }, async (t) => {
  const p = await pair(t, 'vagbh-', { priority: 150, interval: '10ms' }, { priority: 100, interval: '10ms' });
  const pa = p.start('a');
  await pa.waitLine(/"to":"master"/, 10_000);
  const pb = p.start('b');
  await pb.waitLine(/"to":"backup"/, 10_000);
  await sleep(300);
  const before = statusOf(p.ha.ns).instances[0].counters.advertsSent;
  // Broken: an unknown key and a bad priority.
  const good = readFileSync(p.files.a, 'utf8');
  p.work.file('a.yaml', good.replace('priority: 150', 'prority: 150\n    vrid: 999'));
  const t0 = performance.now();
  pa.signal('SIGHUP');
  // Logged as JSON, so the message's quotes arrive escaped.
  await pa.waitLine(/reload refused, keeping the running configuration: .*a\.yaml:5:5: unknown key \\"prority\\"/, 3000);
  await sleep(500);
  const elapsed = performance.now() - t0;
  const after = statusOf(p.ha.ns).instances[0];
  t.equal(after.state, 'master', 'still master');
  // 10 ms adverts: about elapsed/10 more; a missed advert would let B take over (it did not).
  t.ok(after.counters.advertsSent - before >= Math.floor(elapsed / 10) - 5, `sent ${after.counters.advertsSent - before} adverts in ${elapsed.toFixed(0)} ms`);
  t.notOk(pb.lines.some((l) => /"to":"master"/.test(l)), 'B never saw a gap');
  t.equal(after.counters.transitions, 2, 'no blip: init->backup->master only');
  // Valid: A drops to 90, below B (100): B preempts and the VIP moves.
  p.work.file('a.yaml', good.replace('priority: 150', 'priority: 90'));
  pa.signal('SIGHUP');
  await pa.waitLine(/"msg":"reloaded".*"changed":\["VI_1"\]/, 3000);
  await until(() => holders(p.ns, VIP).join() === p.hb.ns, 3000, 'B to preempt after the reload');
  t.equal(statusOf(p.ha.ns).instances[0].effectivePriority, 90);
});

t.test('notify hooks run with the state in argv and env', { skip }, async (t) => {
  const work = new Workdir();
  t.teardown(() => work.remove());
  const out = `${work.dir}/notify.out`;
  const script = work.file('notify.sh', `#!/bin/sh\necho "$1 $2 $3 $4 $VIGIL_STATE $VIGIL_PREVIOUS_STATE $VIGIL_REASON" >> ${out}\n`);
  chmodSync(script, 0o755);
  const extra = `    notify: { master: ${script}, backup: ${script}, stop: ${script} }`;
  const p = await pair(t, 'vagbn-', { priority: 150, interval: '50ms', extra }, { priority: 100, interval: '50ms' });
  const pa = p.start('a');
  await pa.waitLine(/"to":"master"/, 10_000);
  await until(() => existsSync(out) && readFileSync(out, 'utf8').includes('MASTER'), 3000, 'the master hook');
  await pa.stop();
  await until(() => readFileSync(out, 'utf8').includes('INIT'), 3000, 'the stop hook');
  t.same(readFileSync(out, 'utf8').trim().split('\n'), [
    'INSTANCE VI_1 BACKUP 150 backup init startup',
    'INSTANCE VI_1 MASTER 150 master backup master_down',
    'INSTANCE VI_1 INIT 150 init master shutdown',
  ]);
});

t.test('every advert vigil sends decodes clean in tshark', { skip: skip ?? needTools('tcpdump', 'tshark') }, async (t) => {
  const p = await pair(t, 'vagbw-', { priority: 150, interval: '10ms', auth: undefined }, { priority: 100, interval: '10ms' });
  const pcap = `${p.work.dir}/wire.pcap`;
  const cap = spawn('ip', ['netns', 'exec', p.hb.ns, 'tcpdump', '-i', 'eth0', '--immediate-mode', '-U', '-w', pcap, 'ip proto 112 or ip6 proto 112 or arp'], { stdio: 'ignore' });
  t.teardown(() => { if (cap.exitCode === null) cap.kill('SIGKILL'); });
  await sleep(500);
  const pa = p.start('a');
  await pa.waitLine(/"to":"master"/, 10_000);
  const pb = p.start('b');
  await pb.waitLine(/"to":"backup"/, 10_000);
  await sleep(500);
  await pa.stop();
  await until(() => holders([p.hb.ns], VIP).length === 1, 2000, 'B to take over');
  await sleep(300);
  cap.kill("SIGINT");
  await new Promise((r) => cap.on('exit', r));
  if (process.env.VIGIL_KEEP_PCAP) spawnSync('cp', [pcap, process.env.VIGIL_KEEP_PCAP]);
  const v = spawnSync('tshark', ['-r', pcap, '-o', 'ip.check_checksum:TRUE', '-V'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  t.equal(v.status, 0);
  const adverts = (v.stdout.match(/^Virtual Router Redundancy Protocol$/gm) ?? []).length;
  t.ok(adverts >= 50, `${adverts} adverts captured`);
  t.equal((v.stdout.match(/\[Checksum Status: Good\]/g) ?? []).length, adverts, 'every VRRP checksum good');
  t.notMatch(v.stdout, /Malformed|Bad\]|\[incorrect/, 'nothing malformed');
  t.match(v.stdout, /Priority: 0 \(Current Master has stopped participating in VRRP\)/, 'the priority-0 advert at SIGTERM');
  t.match(v.stdout, /\[Is gratuitous: True\]/, 'gratuitous ARP on takeover');
  const ttl = spawnSync('tshark', ['-r', pcap, '-Y', 'vrrp', '-T', 'fields', '-e', 'ip.ttl'], { encoding: 'utf8' });
  t.same([...new Set(ttl.stdout.trim().split('\n'))], ['255'], 'TTL 255 on every advert');
});
