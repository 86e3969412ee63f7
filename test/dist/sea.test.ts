// `make dist`'s single executable where there is no Node: a copy of dist/vigil outside the
// repository, run in a mount namespace where the repository (node_modules with it) is a bare
// tmpfs, every node on PATH is /dev/null, and PATH is the system's. It prints its version,
// decodes the golden captures and checks the example config exactly as bin/vigil does, and runs
// as a VRRP owner (priority 255) against a second copy in network namespaces (prefix vdist-):
// the VIP on the master, moving when its link is cut, coming back. Also measured: its size,
// exec-to-first-advert and `--version` start-up against bin/vigil's (printed as comments).
import t from 'tap';
import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { skipReason, nsExec, type Host } from '../net/netns.ts';
import { holders, until, lab, Proc, vigilConfig, VIGIL } from '../helpers/agents.ts';
import { have, needTools } from '../helpers/tools.ts';
import { sealedArgv as sealArgv, sealedEnv as sealEnv } from '../helpers/sealed.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const DIST = join(ROOT, 'dist', 'vigil');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const VIP = '192.0.2.100';
// A build (when needed) and two dozen agent starts: more than tap's default for a file.
t.setTimeout(600_000);

// dist/vigil is rebuilt (packaging/build-sea.ts, about 15 s) when it is missing or older than
// what goes into it. Not through `make dist`: its `all` rebuilds the native shim, which tests
// running alongside this one have loaded. `make test` has built the inputs already.
function inputsNewerThan(mtime: number): string | undefined {
  const files = [join(ROOT, 'core-wasm/build/core.wasm'), join(ROOT, 'host/native/build/Release/vigil_shim.node'),
    join(ROOT, 'package.json'), join(ROOT, 'package-lock.json'), join(ROOT, 'packaging/build-sea.ts'), join(ROOT, 'packaging/sea-config.json'),
    join(ROOT, 'packaging/policy-assets.ts'), ...readdirSync(join(ROOT, 'policies/build')).filter((f) => f.endsWith('.wasm')).map((f) => join(ROOT, 'policies/build', f))];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory() && e.name !== 'native') walk(join(d, e.name));
      else if (e.name.endsWith('.ts')) files.push(join(d, e.name));
    }
  };
  walk(join(ROOT, 'host'));
  return files.find((f) => statSync(f).mtimeMs > mtime);
}

function prepare(): string | undefined {
  const reason = skipReason();
  if (reason) return reason;
  const tools = needTools('unshare', 'tcpdump');
  if (tools) return tools;
  const stale = existsSync(DIST) ? inputsNewerThan(statSync(DIST).mtimeMs) : 'it is missing';
  if (stale) {
    t.comment(`building dist/vigil (${stale === 'it is missing' ? stale : `${stale} is newer`})`);
    const r = spawnSync(process.execPath, [join(ROOT, 'packaging/build-sea.ts')], { encoding: 'utf8', timeout: 600_000 });
    if (r.status !== 0) throw new Error(`packaging/build-sea.ts failed:\n${r.stdout}\n${r.stderr}`);
  }
  return undefined;
}
const skip = prepare();

const sealedArgv = (cmd: string[]) => sealArgv('vdist', cmd);
const sealedEnv = (extra = '') => sealEnv(ROOT, extra);
function sealed(cwd: string, cmd: string[], extra = ''): SpawnSyncReturns<string> {
  const [file, ...args] = sealedArgv(cmd);
  return spawnSync(file, args, { cwd, encoding: 'utf8', env: sealedEnv(extra), timeout: 30_000 });
}
function startSealed(host: Host, cwd: string, cmd: string[], extra = ''): Proc {
  return new Proc(spawn('ip', ['netns', 'exec', host.ns, ...sealedArgv(cmd)], { cwd, env: sealedEnv(extra), stdio: ['ignore', 'pipe', 'pipe'] }));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const nowMs = () => performance.timeOrigin + performance.now();

// tcpdump in `host`'s namespace, one line per VRRP packet, with the kernel's timestamp.
async function sniff(host: Host): Promise<{ proc: Proc; first(re: RegExp, since: number, ms: number): Promise<number> }> {
  const proc = new Proc(spawn('ip', ['netns', 'exec', host.ns, 'tcpdump', '-Z', 'root', '--immediate-mode', '-l', '-n', '-tt',
    '-i', 'eth0', 'ip proto 112'], { stdio: ['ignore', 'pipe', 'pipe'] }));
  await proc.waitLine(/listening on/, 5000);
  const stamp = (l: string) => Number(l.split(' ')[0]) * 1000;
  return {
    proc,
    // Epoch milliseconds of the first packet matching `re` sent at `since` or later.
    first: async (re, since, ms) => {
      let hit: string | undefined;
      await until(() => (hit = proc.lines.find((l) => re.test(l) && stamp(l) >= since)) !== undefined, ms, `tcpdump to see ${re}`, 1);
      return stamp(hit!);
    },
  };
}

t.test('dist/vigil without Node', { skip }, async (t) => {
  const l = lab(t, 'vdist-', ['a', 'b']);
  const [a, b] = l.hosts;
  const work = l.work.dir;
  const exe = join(work, 'vigil');
  copyFileSync(DIST, exe);
  const size = statSync(DIST).size;
  t.comment(`dist/vigil: ${(size / 1e6).toFixed(1)} MB (${size} bytes)`);
  t.ok(size <= 120e6, 'dist/vigil is at most 120 MB');

  t.test('the sealed environment has no node and no repository', async (t) => {
    const r = sealed(work, ['sh', '-c', `command -v node nodejs; ls -A ${ROOT}; ls ${work}`]);
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout.trim(), 'vigil', 'no node on PATH, the repository empty, only the copy of vigil');
  });

  t.test('--version', async (t) => {
    const r = sealed(work, ['./vigil', '--version']);
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout, `vigil ${VERSION}\n`);
    // A root daemon takes no V8 or loader options from its environment ("execArgvExtension": "none").
    const inject = l.work.file('inject.cjs', 'console.log("injected")');
    const o = spawnSync(exe, ['--version'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: `--require ${inject}` } });
    t.equal(o.stdout, `vigil ${VERSION}\n`, 'NODE_OPTIONS is ignored');
  });

  t.test('decode the golden captures as bin/vigil does', async (t) => {
    for (const f of readdirSync(join(ROOT, 'test/golden')).filter((f) => f.endsWith('.hex'))) {
      const hex = readFileSync(join(ROOT, 'test/golden', f), 'utf8').split(/\s+/).filter(Boolean);
      const r = sealed(work, ['./vigil', 'decode', ...hex]);
      t.equal(r.status, 0, `${f}: ${r.stderr}`);
      const want = execFileSync(VIGIL, ['decode', ...hex], { encoding: 'utf8' });
      t.equal(r.stdout, want, `${f}: ${hex.length} packet(s), the same JSON`);
      t.ok(r.stdout.trim().split('\n').every((x) => JSON.parse(x).valid === true), `${f}: valid`);
    }
  });

  t.test('check the example config as bin/vigil does', async (t) => {
    copyFileSync(join(ROOT, 'examples/vigil.yaml'), join(work, 'vigil.yaml'));
    const r = sealed(work, ['./vigil', 'check', '-c', 'vigil.yaml']);
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout, execFileSync(VIGIL, ['check', '-c', 'vigil.yaml'], { cwd: work, encoding: 'utf8' }));
    writeFileSync(join(work, 'bad.yaml'), 'instances:\n  - name: X\n    priority: 300\n');
    const bad = sealed(work, ['./vigil', 'check', '-c', 'bad.yaml']);
    t.equal(bad.status, 2, 'a broken config: exit 2');
    t.match(bad.stderr, /bad\.yaml:3:15/, 'problems as file:line:col');
  });

  t.test('run: owner (255) and backup in network namespaces, the VIP moves on a link cut', async (t) => {
    const cfgA = l.work.file('a.yaml', vigilConfig({ priority: 255 }));
    const cfgB = l.work.file('b.yaml', vigilConfig({ priority: 100 }));
    const cap = await sniff(b);
    l.procs.push(cap.proc);
    const t0 = nowMs();
    const pa = startSealed(a, work, ['./vigil', 'run', '-c', cfgA, '--log-json']);
    l.procs.push(pa);
    const first = await cap.first(/192\.0\.2\.10 > 224\.0\.0\.18: VRRPv3, Advertisement, vrid 51, prio 255/, t0, 10_000);
    t.comment(`sealed dist/vigil exec to first advert (prio 255, tcpdump in the peer): ${(first - t0).toFixed(1)} ms`);
    await pa.waitLine(/"to":"master"/, 5000);
    const pb = startSealed(b, work, ['./vigil', 'run', '-c', cfgB, '--log-json']);
    l.procs.push(pb);
    await pb.waitLine(/"to":"backup"/, 10_000);
    await until(() => holders(l.ns, VIP).join() === a.ns, 2000, 'the owner to hold the VIP');
    await new Promise((r) => setTimeout(r, 300));
    t.same(holders(l.ns, VIP), [a.ns], 'the owner holds the VIP, the backup does not');
    t.same(readdirSync('/run/vigil').filter((n) => n.startsWith('shim-')), [], 'no unpacked shim left in /run/vigil');
    t.equal((statSync('/run/vigil').mode & 0o777), 0o700, '/run/vigil is 0700');

    nsExec(a.ns, 'ip', 'link', 'set', 'eth0', 'down');
    const took = await until(() => holders([b.ns], VIP).length === 1, 3000, 'the backup to take the VIP');
    t.comment(`backup holds the VIP ${took.toFixed(1)} ms after the owner's link was cut`);
    await pa.waitLine(/"to":"fault"/, 2000);
    t.same(holders(l.ns, VIP), [b.ns], 'the VIP moved to the backup');

    nsExec(a.ns, 'ip', 'link', 'set', 'eth0', 'up');
    await until(() => holders(l.ns, VIP).join() === a.ns, 3000, 'the owner to take the VIP back');
    t.pass('the owner took the VIP back when its link came up');

    t.equal(await pa.stop(), 0, 'owner exits 0 on SIGTERM');
    await until(() => holders(l.ns, VIP).join() === b.ns, 2000, 'the backup to take over after SIGTERM');
    t.equal(await pb.stop(), 0, 'backup exits 0 on SIGTERM');
    t.same(holders(l.ns, VIP), [], 'no VIP left behind');
    // An advert that races the link cut is refused (ENETUNREACH) and logged: expected.
    t.same([...pa.lines, ...pb.lines].filter((x) => /"level":"(warn|error)"|internal error/.test(x) && !/Network is unreachable/.test(x)),
      [], 'no other warning or error logged');
  });

  t.test('against keepalived: failover, kill -9 of the VRRP child recovered, SIGTERM leaves nothing', { skip: needTools('keepalived') ?? false }, async (t) => {
    const cfg = l.work.file('k.yaml', vigilConfig({ priority: 150, interval: '50ms', vrid: 71 }));
    const ka = l.keepalived(b, 'ka', `global_defs {
  router_id ka
  vrrp_version 3
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 71
  priority 100
  advert_int 0.05
  virtual_ipaddress {
    192.0.2.100/24
  }
}
`);
    await ka.waitLine(/Entering (BACKUP|MASTER) STATE/, 10_000);
    const pv = startSealed(a, work, ['./vigil', 'run', '-c', cfg, '--log-json']);
    l.procs.push(pv);
    await until(() => holders(l.ns, VIP).join() === a.ns, 10_000, 'sealed vigil (150) to hold the VIP over keepalived (100)');
    t.pass('vigil master, keepalived backup');
    // Failover: vigil's link cut, keepalived takes over; link back, vigil preempts.
    nsExec(a.ns, 'ip', 'link', 'set', 'eth0', 'down');
    await until(() => holders(l.ns, VIP).join() === b.ns, 3000, 'keepalived to take over');
    nsExec(a.ns, 'ip', 'link', 'set', 'eth0', 'up');
    await until(() => holders(l.ns, VIP).join() === a.ns, 5000, 'vigil to take the VIP back');
    t.pass('the VIP moved to keepalived and back');
    // kill -9 of the VRRP child: the supervisor removes the VIP, keepalived takes over, a new
    // engine starts and preempts.
    const supervisor = pv.child.pid!;
    const children = () => readFileSync(`/proc/${supervisor}/task/${supervisor}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    const [engine] = children();
    t.match(readFileSync(`/proc/${engine}/cmdline`, 'utf8'), /engine/, 'the VRRP engine is a child of the supervisor');
    process.kill(Number(engine), 'SIGKILL');
    await until(() => holders(l.ns, VIP).join() === b.ns, 3000, 'keepalived to take over from the killed engine');
    await pv.waitLine(/engine killed by SIGKILL: VIPs removed, restarting/, 2000);
    await until(() => children().length === 1 && children()[0] !== engine, 2000, 'a new engine');
    await until(() => holders(l.ns, VIP).join() === a.ns, 5000, 'the new engine to take the VIP back');
    t.pass('kill -9 of the engine recovered');
    // SIGTERM: priority 0, keepalived takes over, nothing of vigil's left.
    t.equal(await pv.stop(), 0, 'exit 0 on SIGTERM');
    await until(() => holders(l.ns, VIP).join() === b.ns, 2000, 'keepalived to take over after SIGTERM');
    t.same(holders([a.ns], VIP), [], 'no VIP left on the vigil box');
    t.throws(() => readFileSync(`/proc/${supervisor}/status`), 'no vigil process left');
    t.same(readdirSync('/run/vigil').filter((n) => n.startsWith('shim-')), [], 'no unpacked shim left');
  });

  t.test('make install: binary, systemd unit, examples, and an admin\'s config left alone', async (t) => {
    const dest = join(work, 'root');
    mkdirSync(join(dest, 'etc/vigil'), { recursive: true });
    writeFileSync(join(dest, 'etc/vigil/vigil.yaml'), '# the admin\'s own\n');
    // -o dist: use the executable this file already built instead of building it again.
    const r = spawnSync('make', ['-s', '-o', 'dist', 'install', `DESTDIR=${dest}`, 'PREFIX=/usr'], { cwd: ROOT, encoding: 'utf8' });
    t.equal(r.status, 0, r.stderr);
    t.equal(statSync(join(dest, 'usr/bin/vigil')).mode & 0o777, 0o755);
    t.equal(readFileSync(join(dest, 'etc/vigil/vigil.yaml'), 'utf8'), '# the admin\'s own\n', 'an existing config is not overwritten');
    t.ok(existsSync(join(dest, 'usr/share/vigil/examples/vigil.yaml')));
    const unit = readFileSync(join(dest, 'usr/lib/systemd/system/vigil.service'), 'utf8');
    t.match(unit, /^ExecStart=\/usr\/bin\/vigil run -c \/etc\/vigil\/vigil\.yaml$/m);
    t.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    t.match(unit, /^AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW CAP_SYS_NICE CAP_IPC_LOCK$/m);
    t.match(unit, /^Restart=on-failure$/m);
    t.match(unit, /^RuntimeDirectoryMode=0700$/m, 'the shim loader needs /run/vigil at 0700');
    // On a box with no config yet: the example, root's only (it may hold a VRRP password), and valid.
    const fresh = join(work, 'fresh');
    const f = spawnSync('make', ['-s', '-o', 'dist', 'install', `DESTDIR=${fresh}`, 'PREFIX=/usr'], { cwd: ROOT, encoding: 'utf8' });
    t.equal(f.status, 0, f.stderr);
    const installed = join(fresh, 'etc/vigil/vigil.yaml');
    t.equal(readFileSync(installed, 'utf8'), readFileSync(join(ROOT, 'examples/vigil.yaml'), 'utf8'), 'no config yet: the example is installed');
    t.equal(statSync(installed).mode & 0o777, 0o600);
    t.equal(spawnSync(join(fresh, 'usr/bin/vigil'), ['check', '-c', installed], { encoding: 'utf8' }).status, 0, 'and `vigil check` accepts it');
    if (have('systemd-analyze')) {
      // verify checks that ExecStart's binary exists: point it at the installed copy.
      writeFileSync(join(work, 'vigil.service'), unit.replaceAll('/usr/bin/vigil', join(dest, 'usr/bin/vigil')));
      const v = spawnSync('systemd-analyze', ['verify', join(work, 'vigil.service')], { encoding: 'utf8' });
      t.equal(v.status, 0, `systemd-analyze verify: ${v.stderr}`);
    }
  });

  t.test('policies (and undici): built-in and from a file, validated and run by the sealed binary', async (t) => {
    for (const f of ['ok', 'forbidden-import']) copyFileSync(join(ROOT, 'policies/build/test', `${f}.wasm`), join(work, `${f}.wasm`));
    copyFileSync(join(ROOT, 'examples/checks.yaml'), join(work, 'checks.yaml'));
    const c = sealed(work, ['./vigil', 'check', '-c', 'checks.yaml']);
    t.equal(c.status, 0, c.stderr);
    t.equal(c.stdout, execFileSync(VIGIL, ['check', '-c', 'checks.yaml'], { cwd: work, encoding: 'utf8' }), 'the built-in policy of the example loads');
    t.match(sealed(work, ['./vigil', 'policy', 'check', 'ok.wasm']), { status: 0, stdout: /ok\.wasm: ok: sha256 / });
    t.match(sealed(work, ['./vigil', 'policy', 'check', 'forbidden-import.wasm']), { status: 2, stderr: /does not grant/ });
    // The checker runs a policy from a file and a built-in one whose HTTP probe is refused
    // (nothing listens on a's port 8080): each gives its verdict.
    const cfg = l.work.file('p.yaml', [
      'policies: [{ name: ok, file: ok.wasm }, { name: budget, file: "builtin:http-budget" }]',
      'checks:',
      `  - { name: p-ok, type: policy, policy: ok, target: ${a.v4}, interval: 100ms, timeout: 80ms, rise: 1 }`,
      // A timeout that a loaded box cannot run out before the refusal comes back (seen: 80 ms did).
      `  - { name: p-http, type: policy, policy: budget, target: ${a.v4}:8080, interval: 500ms, timeout: 400ms, fall: 1, args: { path: /, status: "200", budgetMs: 50 } }`,
      // undici in the executable (a CommonJS package inside an ES bundle) for the plain check too.
      `  - { name: http, type: http, target: "http://${a.v4}:8080/", interval: 100ms, timeout: 80ms, fall: 1 }`,
      'instances: [{ name: VI_1, interface: eth0, vrid: 51, virtualAddresses: [192.0.2.100/24] }]', ''].join('\n'));
    const ck = startSealed(b, work, ['./vigil', 'checker', '-c', cfg]);
    l.procs.push(ck);
    await ck.waitLine(/"check":"p-ok","up":true/, 15_000);
    const down = await ck.waitLine(/"check":"p-http","up":false,"settled":true/, 15_000);
    t.match(JSON.parse(down).error, /ECONNREFUSED|connect/, `the built-in policy's verdict names the refused connection: ${down}`);
    const http = await ck.waitLine(/"check":"http","up":false,"settled":true/, 15_000);
    t.equal(JSON.parse(http).error, 'ECONNREFUSED', 'the http check works in the executable');
    await ck.stop();
    t.same(readdirSync('/run/vigil').filter((n) => n.startsWith('policy-')), [], 'jco\'s files unpacked for the compiler are gone');
  });

  t.test('the shim is unpacked only under a private directory', async (t) => {
    const cfg = l.work.file('c.yaml', vigilConfig({ priority: 255 }));
    // /run is noexec on some systems (Debian's initramfs mounts it so): /var/lib/vigil instead.
    // /var/lib is a tmpfs here so nothing is left on the test host.
    const noexec = startSealed(a, work, ['./vigil', 'run', '-c', cfg, '--log-json'],
      'mount -t tmpfs -o mode=0755 vdist-run /run; mkdir -m 700 /run/vigil; mount -t tmpfs -o noexec,mode=0700 vdist-noexec /run/vigil; ' +
      'mount -t tmpfs -o mode=0755 vdist-varlib /var/lib');
    l.procs.push(noexec);
    await noexec.waitLine(/"to":"master"/, 10_000);
    const root = `/proc/${noexec.child.pid}/root`;
    t.ok(existsSync(`${root}/var/lib/vigil`), 'runs with /run/vigil on a noexec mount: unpacked under /var/lib/vigil');
    // Only the list of its VIPs for a restart after a kill (host/agent/left-vips.ts), no code.
    t.same(readdirSync(`${root}/run/vigil`).filter((n) => !n.endsWith('.vips')), [], 'and nothing unpacked in /run/vigil');
    const code = await noexec.stop();
    t.equal(code, 0, `exit 0 on SIGTERM${code === 0 ? '' : `; its log:\n${noexec.lines.slice(-15).join('\n')}`}`);

    // A /run/vigil that is a symlink, and a /var/lib/vigil others can read: refused, the
    // symlink's target untouched, and the error says why.
    const target = join(work, 'elsewhere');
    mkdirSync(target);
    const hostile = startSealed(a, work, ['./vigil', 'run', '-c', cfg, '--log-json'],
      `mount -t tmpfs -o mode=0755 vdist-run /run; ln -s ${target} /run/vigil; ` +
      'mount -t tmpfs -o mode=0755 vdist-varlib /var/lib; mkdir -m 755 /var/lib/vigil');
    l.procs.push(hostile);
    const line = await hostile.waitLine(/cannot unpack the native shim/, 10_000);
    t.match(line, /\/run\/vigil: not a directory of uid 0 with mode 0700; \/var\/lib\/vigil: not a directory of uid 0 with mode 0700/);
    await hostile.stop();
    t.same(readdirSync(target), [], 'nothing written through the symlink');
    t.same(holders([a.ns], VIP), [], 'no VIP taken');
  });

  t.test('start-up against bin/vigil', async (t) => {
    const cfg = l.work.file('t.yaml', vigilConfig({ priority: 255 }));
    const cap = await sniff(b);
    l.procs.push(cap.proc);
    const advert = { dist: [] as number[], bin: [] as number[] };
    for (let i = 0; i < 3; i++) {
      for (const [k, exe0] of [['dist', exe], ['bin', VIGIL]] as const) {
        const t0 = nowMs();
        const p = new Proc(spawn('ip', ['netns', 'exec', a.ns, exe0, 'run', '-c', cfg, '--log-json'], { stdio: ['ignore', 'pipe', 'pipe'] }));
        l.procs.push(p);
        advert[k].push(await cap.first(/prio 255/, t0, 10_000) - t0);
        await p.waitLine(/vigil running/, 5000); // its SIGTERM handler is in place
        t.equal(await p.stop(), 0, `${k} exits 0`);
        await until(() => holders([a.ns], VIP).length === 0, 2000, 'the VIP to go');
      }
    }
    t.comment(`exec to first advert, median of 3: dist/vigil ${median(advert.dist).toFixed(1)} ms, bin/vigil ${median(advert.bin).toFixed(1)} ms ` +
      `(all: ${advert.dist.map((x) => x.toFixed(0)).join(' ')} / ${advert.bin.map((x) => x.toFixed(0)).join(' ')})`);
    const version = { dist: [] as number[], bin: [] as number[] };
    for (let i = 0; i < 11; i++) {
      for (const [k, exe0] of [['dist', exe], ['bin', VIGIL]] as const) {
        const t0 = performance.now();
        const r = spawnSync(exe0, ['--version'], { encoding: 'utf8' });
        if (i > 0) version[k].push(performance.now() - t0);
        t.equal(r.stdout, `vigil ${VERSION}\n`, `${k} --version`, { diagnostic: false });
      }
    }
    t.comment(`--version, median of 10: dist/vigil ${median(version.dist).toFixed(1)} ms, bin/vigil ${median(version.bin).toFixed(1)} ms`);
  });
});
