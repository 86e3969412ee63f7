// The CPU that keepalived's script and process tracking costs, vigil's against keepalived's:
//  - 100 exec checks at 1 s (/bin/true) in `vigil checker`, against keepalived running the same
//    100 vrrp_scripts as root (tracked by one instance, so it runs them); vigil also as nobody;
//  - 100 process checks (one program, 5 copies running, 20 short processes a second started
//    beside them for the kernel's events), against keepalived's 100 vrrp_track_process.
// CPU is utime + stime of the processes and of the children they reaped (/proc/PID/stat), over
// the same window for both, one after the other, in namespaces of their own. keepalived is the
// control: the ratio is vigil's CPU over keepalived's.
//
// The exec pair runs in a namespace of its own. The proc connector only speaks in the initial
// network namespace, so the process pair runs there: keepalived with dynamic_interfaces and its
// instance on an interface that does not exist (FAULT: it adds no address and touches no link,
// but tracks the processes), vigil's checker as it is.
//
//   node bench/import-checks.ts            (root; VIGIL_BENCH_QUICK=1: 8 s windows)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { K, shim } from '../host/net/shim.ts';
import { sockaddrNl } from '../host/net/sockaddr.ts';

const VIGIL = fileURLToPath(new URL('../bin/vigil', import.meta.url));
const WINDOW_MS = process.env.VIGIL_BENCH_QUICK === '1' ? 8000 : 20_000;
const N = 100;
const TICK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

// utime + stime + cutime + cstime of a process and its descendants now alive, in ms.
function cpuMs(root: number): number {
  let total = 0;
  const kids = (pid: number): number[] => {
    try { return readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1').trim().split(/\s+/).filter(Boolean).map(Number); } catch { return []; }
  };
  const walk = (pid: number) => {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'latin1');
      const x = f.slice(f.lastIndexOf(')') + 2).split(' ');
      total += (Number(x[11]) + Number(x[12]) + Number(x[13]) + Number(x[14])) * 1000 / TICK;
    } catch { return; }
    for (const k of kids(pid)) walk(k);
  };
  walk(root);
  return total;
}

// The proc connector's events on the whole box, counted while the process pair runs.
function countEvents(): { perS(): Record<string, number> } {
  const s = shim();
  const fd = s.socket(K('AF_NETLINK'), K('SOCK_DGRAM'), 11);
  s.bind(fd, sockaddrNl(0, 1));
  const msg = new Uint8Array(40), v = new DataView(msg.buffer);
  v.setUint32(0, 40, true); v.setUint16(4, 3, true); v.setUint32(12, process.pid, true);
  v.setUint32(16, 1, true); v.setUint32(20, 1, true); v.setUint16(32, 4, true); v.setUint32(36, 1, true);
  s.sendTo(fd, msg, 0, 40, sockaddrNl(0, 0));
  const buf = new Uint8Array(4096), src = new Uint8Array(12), meta = new Int32Array(8), dv = new DataView(buf.buffer);
  const n = { fork: 0, exec: 0, exit: 0 };
  const t0 = performance.now();
  s.pollStart(fd, K('UV_READABLE'), () => {
    for (;;) {
      if (s.recvMsg(fd, buf, 0, buf.length, src, meta) < 0) return;
      const w = dv.getUint32(36, true);
      if (w === 1) n.fork++; else if (w === 2) n.exec++; else if (w === 0x80000000) n.exit++;
    }
  });
  return {
    perS: () => {
      s.pollStop(fd); s.close(fd);
      const secs = (performance.now() - t0) / 1000;
      return { fork: Math.round(n.fork / secs), exec: Math.round(n.exec / secs), exit: Math.round(n.exit / secs) };
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sh = (...a: string[]) => spawnSync(a[0], a.slice(1), { stdio: 'ignore' });

async function measure(start: () => ChildProcess, settleMs = 3000): Promise<number> {
  const p = start();
  await sleep(settleMs);
  const pid = p.pid!;
  const c0 = cpuMs(pid);
  await sleep(WINDOW_MS);
  const c1 = cpuMs(pid);
  p.kill('SIGTERM');
  await new Promise((r) => { p.on('exit', r); setTimeout(r, 5000); });
  return (c1 - c0) / (WINDOW_MS / 1000);   // ms of CPU per second
}

export async function run() {
  if (process.getuid?.() !== 0) return { module: 'import-checks', skipped: 'needs root (namespaces, keepalived)' };
  if (sh('sh', '-c', 'command -v keepalived').status !== 0) return { module: 'import-checks', skipped: 'keepalived not installed (apt-get install keepalived)' };
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-imp-'));
  chmodSync(dir, 0o755);
  const ns = `vbimp${process.pid % 10000}`;
  sh('ip', 'netns', 'add', ns);
  sh('ip', '-n', ns, 'link', 'add', 'e0', 'type', 'veth', 'peer', 'name', 'e1');   // no dummy module on every kernel
  sh('ip', '-n', ns, 'link', 'set', 'e1', 'up');
  sh('ip', '-n', ns, 'link', 'set', 'e0', 'up');
  sh('ip', '-n', ns, 'addr', 'add', '192.0.2.1/24', 'dev', 'e0');
  const prog = join(dir, 'vbtrack');
  copyFileSync('/bin/sleep', prog);
  const copies: ChildProcess[] = [];
  let churn: ChildProcess | undefined;
  try {
    for (let i = 0; i < 5; i++) copies.push(spawn(prog, ['3600'], { stdio: 'ignore' }));
    const names = Array.from({ length: N }, (_, i) => `c${i}`);
    const noIf = `vbno${process.pid % 10000}`;
    const kaConf = (kind: 'exec' | 'process') => `global_defs {
  enable_script_security
  script_user root
  dynamic_interfaces
}
${names.map((n) => kind === 'exec'
    ? `vrrp_script ${n} {\n  script "/bin/true"\n  interval 1\n}\n`
    : `vrrp_track_process ${n} {\n  process vbtrack\n  quorum 1\n}\n`).join('')}vrrp_instance VI_1 {
  interface ${kind === 'exec' ? 'e0' : noIf}
  virtual_router_id 51
  priority 100
  advert_int 1
  virtual_ipaddress {
    192.0.2.100/24
  }
  ${kind === 'exec' ? 'track_script' : 'track_process'} {
${names.map((n) => `    ${n}`).join('\n')}
  }
}
`;
    const vigilConf = (kind: 'exec' | 'process', user = 'root') => `instances:
  - name: VI_1
    interface: e0
    vrid: 51
    virtualAddresses: [192.0.2.100/24]
checks:
${names.map((n) => kind === 'exec'
    ? `  - { name: ${n}, type: exec, command: [/bin/true], user: ${user}, interval: 1s, timeout: 1s, rise: 1, fall: 1 }`
    : `  - { name: ${n}, type: process, process: vbtrack, min: 1, interval: 1s }`).join('\n')}
status: false
`;
    const ka = (kind: 'exec' | 'process') => () => {
      const f = join(dir, `ka-${kind}.conf`);
      writeFileSync(f, kaConf(kind));
      const argv = ['keepalived', '-n', '-l', '-D', '-P', '-f', f, '-p', join(dir, 'k.pid'), '-r', join(dir, 'v.pid'), '-c', join(dir, 'c.pid')];
      return kind === 'exec' ? spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: 'ignore' }) : spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
    };
    const vg = (kind: 'exec' | 'process', inNs: boolean, user = 'root') => () => {
      const f = join(dir, `vigil-${kind}.yaml`);
      writeFileSync(f, vigilConf(kind, user));
      return inNs ? spawn('ip', ['netns', 'exec', ns, VIGIL, 'checker', '-c', f], { stdio: 'ignore' }) : spawn(VIGIL, ['checker', '-c', f], { stdio: 'ignore' });
    };
    // As root, as keepalived's script_user root; and as nobody (vigil's default: through setpriv).
    const exec = { keepalived: await measure(ka('exec')), vigil: await measure(vg('exec', true)), vigilNobody: await measure(vg('exec', true, 'nobody')) };
    // Process events: 20 short processes a second, everywhere on the box.
    churn = spawn('sh', ['-c', 'while :; do /bin/true; sleep 0.05; done'], { stdio: 'ignore' });
    const events = countEvents();
    const proc = { keepalived: await measure(ka('process')), vigil: await measure(vg('process', false)), vigilInNamespace: await measure(vg('process', true)) };
    const round = (x: number) => Math.round(x * 10) / 10;
    return {
      module: 'import-checks', windowS: WINDOW_MS / 1000, checks: N,
      exec100At1s: { keepalivedCpuMsPerS: round(exec.keepalived), vigilCpuMsPerS: round(exec.vigil), ratio: round(exec.vigil / exec.keepalived), vigilAsNobodyCpuMsPerS: round(exec.vigilNobody) },
      process100: {
        keepalivedCpuMsPerS: round(proc.keepalived), vigilCpuMsPerS: round(proc.vigil), ratio: round(proc.vigil / Math.max(proc.keepalived, 0.1)),
        // In a namespace: no connector; pidfds, and no /proc scan while every check has its min.
        vigilInNamespaceCpuMsPerS: round(proc.vigilInNamespace),
        // What both had to look at: the box's fork / exec / exit events a second (the proc connector).
        boxEventsPerS: events.perS(),
      },
    };
  } finally {
    churn?.kill('SIGKILL');
    for (const c of copies) c.kill('SIGKILL');
    sh('ip', 'netns', 'del', ns);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) console.log(JSON.stringify(await run(), null, 2));
