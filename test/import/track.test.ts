// A keepalived config with a vrrp_script (positive weight, rise/fall), a vrrp_track_process and
// a track_file, imported and run by `vigil run` in a namespace: each moves the instance's
// priority as keepalived's would, a weight-0 script puts its instance in FAULT, and /status
// shows the script's last exit code and first output line.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { skipReason } from '../net/netns.ts';
import { agentStatus, lab, until } from '../helpers/agents.ts';
import { importKeepalived } from '../../host/import/index.ts';

const skip = skipReason();

t.test('exec, process and file checks move the priority with keepalived\'s semantics', { skip, timeout: 120_000 }, async (t) => {
  const l = lab(t, 'vtk-', ['a']);
  const [a] = l.hosts;
  const dir = l.work.dir;
  chmodSync(dir, 0o755);   // the script runs as nobody
  const name = `vt${process.pid % 100000}p`;
  const prog = join(dir, name);
  copyFileSync('/bin/sleep', prog);
  const procs: ChildProcess[] = [];
  t.teardown(() => { for (const p of procs) p.kill('SIGKILL'); });
  const startProc = () => { const p = spawn('ip', ['netns', 'exec', a.ns, prog, '300'], { stdio: 'ignore' }); procs.push(p); return p; };
  writeFileSync(join(dir, 'weight'), '0\n');

  const conf = l.work.file('keepalived.conf', `global_defs {
  vrrp_version 3
}
vrrp_script chk_exec {
  script "/bin/sh -c 'echo checked; test ! -e ${dir}/exec-fail'"
  interval 1
  weight 10
  rise 2
  fall 2
}
vrrp_script chk_fault {
  script "/bin/sh -c 'test ! -e ${dir}/fault'"
  interval 1
}
vrrp_track_process chk_proc {
  process ${name}
  weight -30
}
track_file chk_file {
  file ${dir}/weight
  weight -5
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 77
  priority 100
  advert_int 0.1
  virtual_ipaddress {
    192.0.2.100/24
  }
  track_script {
    chk_exec
  }
  track_process {
    chk_proc
  }
  track_file {
    chk_file
  }
}
vrrp_instance VI_2 {
  interface eth0
  virtual_router_id 78
  priority 100
  advert_int 0.1
  virtual_ipaddress {
    192.0.2.101/24
  }
  track_script {
    chk_fault
  }
}
`);
  const r = importKeepalived(conf);
  t.strictSame(r.left, [], 'everything maps');
  t.match(r.yaml, /priority: 110/, 'the positive script weight is in the base priority');
  const yaml = l.work.file('vigil.yaml', r.yaml + 'status: { listen: 127.0.0.1:9110 }\n');
  startProc();
  const vg = l.vigilFile(a, yaml);
  await vg.waitLine(/checker running/, 15_000);

  const inst = (n: string) => agentStatus(a.ns).instances.find((i: { name: string }) => i.name === n);
  const prio = async (want: number, what: string, ms = 8000) => {
    const took = await until(() => inst('VI_1')?.effectivePriority === want, ms, `${what}: priority ${want}`, 50);
    t.pass(`${what}: ${want} after ${(took / 1000).toFixed(1)} s`);
  };
  await prio(110, 'all healthy: 100 + the script\'s +10');
  const st = agentStatus(a.ns);
  const exec = st.checks.find((c: { name: string }) => c.name === 'chk_exec');
  t.match(exec, { type: 'exec', state: 'up', detail: { exitCode: 0, output: 'checked' } }, '/status: the last exit code and first output line');

  writeFileSync(join(dir, 'exec-fail'), '');
  await prio(100, 'the script fails twice (fall 2): the +10 goes');
  const failed = agentStatus(a.ns).checks.find((c: { name: string }) => c.name === 'chk_exec');
  t.match(failed, { state: 'down', error: 'exit 1: checked', detail: { exitCode: 1, output: 'checked' } });
  rmSync(join(dir, 'exec-fail'));
  await prio(110, 'passes twice (rise 2): back');

  for (const p of procs) p.kill('SIGKILL');
  await prio(80, 'the tracked process is gone: -30');
  startProc();
  await prio(110, 'it runs again');

  writeFileSync(join(dir, 'weight'), '2\n');
  await prio(100, 'the file holds 2: 2 x -5');
  writeFileSync(join(dir, 'weight'), '0\n');
  await prio(110, 'the file holds 0');

  t.equal(inst('VI_2')?.state, 'master');
  writeFileSync(join(dir, 'fault'), '');
  await until(() => inst('VI_2')?.state === 'fault', 8000, 'VI_2 in FAULT', 50);
  t.pass('a failing weight-0 script: FAULT');
  rmSync(join(dir, 'fault'));
  await until(() => inst('VI_2')?.state === 'master', 8000, 'VI_2 back', 50);
  t.pass('and back');
});
