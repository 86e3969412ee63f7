// The VIPs a killed run leaves, removed by bin/vigil before Node starts (host/agent/left-vips.ts):
// the batch the supervisor writes, what Node then says of it, and the launcher's guard, which
// leaves the VIPs alone while the run that wrote the file lives.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forgetLeftVips, leftVipsPath, reportLeftVips, writeLeftVips, RUN_DIR } from '../../host/agent/left-vips.ts';
import { createLogger } from '../../host/agent/log.ts';
import { parseConfig } from '../../host/config/load.ts';
import { skipReason, nsExec } from '../net/netns.ts';
import { lab, vigilConfig, holders, VIGIL } from '../helpers/agents.ts';

const config = (vmac = false) => parseConfig([
  'instances:',
  '  - { name: VI_1, interface: eth0, vrid: 51, priority: 150, virtualAddresses: [192.0.2.100/24] }',
  '  - { name: VI_6, interface: eth0, vrid: 51, priority: 150, virtualAddresses: ["2001:db8::100/64"] }',
  `  - { name: VI_2, interface: eth1, vrid: 52, priority: 100, virtualAddresses: [198.51.100.7]${vmac ? ', vmac: true' : ''} }`,
  '',
].join('\n'), 'mem.yaml');

function scratch(t: { teardown(fn: () => unknown): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'vigil-left-'));
  chmodSync(d, 0o700);
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

t.test('the batch: every VIP of every instance but a VMAC one, headed by the writer\'s pid, 0600', async (t) => {
  const dir = scratch(t);
  t.equal(writeLeftVips('/etc/vigil/x.yaml', config(), dir), undefined);
  const name = leftVipsPath('/etc/vigil/x.yaml', dir);
  const lines = readFileSync(name, 'utf8').split('\n');
  t.equal(lines[0], `# ${process.pid} /etc/vigil/x.yaml`);
  t.same(lines.filter((l) => l.startsWith('address')), [
    'address del 192.0.2.100/24 dev eth0 # VI_1',
    'address del 2001:db8::100/64 dev eth0 # VI_6',
    'address del 198.51.100.7/32 dev eth1 # VI_2',
  ]);
  t.equal(statSync(name).mode & 0o777, 0o600);
  writeLeftVips('/etc/vigil/x.yaml', config(true), dir);
  t.notMatch(readFileSync(name, 'utf8'), /VI_2/, 'a VMAC instance\'s VIPs are on its macvlan, made anew');
  chmodSync(dir, 0o755);
  t.match(writeLeftVips('/etc/vigil/x.yaml', config(), dir), /mode 0700/, 'never where another user could read or write it');
  chmodSync(dir, 0o700);
  writeFileSync(name, '# 1 /etc/vigil/x.yaml\n');
  forgetLeftVips('/etc/vigil/x.yaml', dir);
  t.ok(existsSync(name), 'another process\'s file is left alone at a clean stop');
  writeLeftVips('/etc/vigil/x.yaml', config(), dir);
  forgetLeftVips('/etc/vigil/x.yaml', dir);
  t.notOk(existsSync(name), 'this process\'s own file goes at a clean stop');
});

t.test('what the launcher did is said once per VIP it removed, a failed line is not', async (t) => {
  const dir = scratch(t);
  writeLeftVips('/etc/vigil/y.yaml', config(), dir);
  const batch = leftVipsPath('/etc/vigil/y.yaml', dir);
  const said = (rc: number, err: string | null) => {
    const lines: { msg: string; [k: string]: unknown }[] = [];
    if (err !== null) writeFileSync(`${batch}.err`, err);
    Object.assign(process.env, { VIGIL_LEFT_VIPS: batch, VIGIL_LEFT_VIPS_RC: String(rc), VIGIL_LEFT_VIPS_AT: String((performance.timeOrigin - 3) / 1000) });
    reportLeftVips(createLogger({ write: (line) => lines.push(JSON.parse(line)), json: true }));
    t.equal(process.env.VIGIL_LEFT_VIPS, undefined, 'not handed on to the children');
    return lines;
  };
  const failedSecond = said(1, `Error: ipv6: address not found.\nCommand failed ${batch}:4\n`);
  t.same(failedSecond.map((l) => l.msg), [
    'VI_1: removing stale VIP 192.0.2.100 from eth0 (left by an earlier run)',
    'VI_2: removing stale VIP 198.51.100.7 from eth1 (left by an earlier run)',
  ]);
  t.match(failedSecond[0], { instance: 'VI_1', by: 'bin/vigil', startMs: -3 });
  t.notOk(existsSync(`${batch}.err`), 'ip\'s stderr is read once and removed');
  t.equal(said(0, null).length, 3, 'ip succeeded on every line: all removed');
  const broken = said(1, 'Cannot open file for reading: Permission denied\n');
  t.same(broken.map((l) => l.msg), ['removing the VIPs left by an earlier run before the start failed: Cannot open file for reading: Permission denied'],
    'ip failing as a whole removed nothing: said so, and Node\'s own removal follows');
});

const skip = skipReason();

t.test('bin/vigil removes the VIPs before Node starts, only when the writer is dead', { skip }, async (t) => {
  const l = lab(t, 'vaglv-', ['a']);
  const [a] = l.hosts;
  const file = l.work.file('a.yaml', vigilConfig({ priority: 150, interval: '50ms' }));
  const VIP = '192.0.2.100';
  // A run that holds the config: a live process named in the file's head.
  const live = spawn('sleep', ['30']);
  t.teardown(() => live.kill('SIGKILL'));
  const batch = leftVipsPath(file);
  t.ok(batch.startsWith(RUN_DIR));
  const writtenBy = (pid: number) => {
    t.equal(writeLeftVips(file, parseConfig(readFileSync(file, 'utf8'), file)), undefined);
    writeFileSync(batch, readFileSync(batch, 'utf8').replace(/^# \d+/, `# ${pid}`));
  };
  writtenBy(live.pid!);
  nsExec(a!.ns, 'ip', 'addr', 'add', `${VIP}/24`, 'dev', 'eth0');
  const p1 = l.vigilFile(a!, file);
  await p1.waitLine(/"to":"master"/, 10_000);
  t.notOk(p1.lines.some((x) => /"by":"bin\/vigil"/.test(x)), 'the writer lives: the launcher leaves the VIPs alone');
  t.match(readFileSync(batch, 'utf8'), new RegExp(`^# ${p1.child.pid} `), 'the run writes its own');
  p1.signal('SIGTERM');
  await p1.exited;
  t.notOk(existsSync(batch), 'and removes it at a clean stop, its VIPs gone with it');
  // The writer dead (killed with the run it stood for): the launcher removes them.
  writtenBy(live.pid!);
  live.kill('SIGKILL');
  await new Promise((r) => live.once('exit', r));
  nsExec(a!.ns, 'ip', 'addr', 'add', `${VIP}/24`, 'dev', 'eth0');
  const p2 = l.vigilFile(a!, file);
  await p2.waitLine(/removing stale VIP/, 10_000);
  const first = JSON.parse(p2.lines[0]!);
  t.match(first, { msg: 'VI_1: removing stale VIP 192.0.2.100 from eth0 (left by an earlier run)', by: 'bin/vigil' });
  t.ok(first.startMs < 0, `removed before Node began (${first.startMs} ms)`);
  await p2.waitLine(/"to":"master"/, 10_000);
  t.same(holders([a!.ns], VIP), [a!.ns], 'and taken again as master');
});

t.test('vigil cleanup (systemd\'s ExecStopPost=): the same, as a command', { skip }, async (t) => {
  const l = lab(t, 'vaglc-', ['a']);
  const [a] = l.hosts;
  const file = l.work.file('a.yaml', vigilConfig({ priority: 150, interval: '50ms' }));
  const live = spawn('sleep', ['30']);
  t.teardown(() => live.kill('SIGKILL'));
  t.equal(writeLeftVips(file, parseConfig(readFileSync(file, 'utf8'), file)), undefined);
  const batch = leftVipsPath(file);
  writeFileSync(batch, readFileSync(batch, 'utf8').replace(/^# \d+/, `# ${live.pid}`));
  nsExec(a!.ns, 'ip', 'addr', 'add', '192.0.2.100/24', 'dev', 'eth0');
  const cleanup = () => spawnSync('ip', ['netns', 'exec', a!.ns, VIGIL, 'cleanup', '-c', file], { encoding: 'utf8' });
  const first = cleanup();
  t.equal(first.status, 0);
  t.match(first.stderr, `(pid ${live.pid}) is alive: its VIPs are left alone`);
  t.same(holders([a!.ns], '192.0.2.100'), [a!.ns], 'still there while the writer lives');
  live.kill('SIGKILL');
  await new Promise((r) => live.once('exit', r));
  const second = cleanup();
  t.equal(second.status, 0);
  t.match(second.stderr, 'VI_1: removing stale VIP 192.0.2.100 from eth0 (left by an earlier run)');
  t.same(holders([a!.ns], '192.0.2.100'), [], 'gone once the writer is dead');
  t.equal(cleanup().stderr, '', 'a second time: nothing there, nothing said');
  const help = spawnSync(VIGIL, ['cleanup', '--help'], { encoding: 'utf8' });
  t.match(help.stdout, /ExecStopPost=/);
});
