// A memory cgroup (v1) of a test's own, made under the cgroup this process is in (the box's
// hierarchy is not ours to change), for memory pressure on one process: it is moved in (with its
// pages where the kernel still moves charges), limited a little above what the cgroup holds, and
// a hog put beside it.
// destroy() moves whatever still lives back to the parent first, then removes the cgroup.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync, accessSync, constants } from 'node:fs';
import { join } from 'node:path';

const V1 = '/sys/fs/cgroup/memory';

/** Our own memory cgroup's directory, or why there is none to use (v2 only, not writable). */
export function ownMemcg(): { dir: string } | { skip: string } {
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => /^\d+:memory:/.test(l));
  if (!line || !existsSync(join(V1, 'memory.limit_in_bytes'))) return { skip: 'needs the cgroup v1 memory controller at /sys/fs/cgroup/memory' };
  const dir = join(V1, line.slice(line.indexOf(':memory:') + 8));
  try { accessSync(dir, constants.W_OK); } catch { return { skip: `cannot make a cgroup under ${dir}` }; }
  return { dir };
}

/** Cgroups a killed run left (named `${prefix}PID-...`, that pid gone): emptied into `parent`, removed. */
export function sweepMemcgs(parent: string, prefix: string): void {
  for (const d of readdirSync(parent)) {
    const pid = d.startsWith(prefix) ? Number(d.slice(prefix.length).split('-')[0]) : NaN;
    if (!(pid > 0) || existsSync(`/proc/${pid}`)) continue;
    const dir = join(parent, d);
    for (const p of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
      try { writeFileSync(join(parent, 'cgroup.procs'), p); } catch { /* gone */ }
    }
    try { rmdirSync(dir); } catch { /* still emptying: the next run's sweep */ }
  }
}

export class Memcg {
  readonly dir: string;
  private readonly parent: string;
  constructor(parent: string, name: string) {
    this.parent = parent;
    this.dir = join(parent, name);
    mkdirSync(this.dir);
    // 1: a process's anonymous pages move with it, so the limit is against what it really uses.
    // Linux 6.x dropped it (EINVAL): then only what it allocates from now on is charged here.
    try { this.write('memory.move_charge_at_immigrate', '1'); } catch { /* charges stay behind */ }
  }
  private write(f: string, v: string): void { writeFileSync(join(this.dir, f), v); }
  private read(f: string): string { return readFileSync(join(this.dir, f), 'utf8'); }
  add(pid: number): void { this.write('cgroup.procs', String(pid)); }
  usage(): number { return Number(this.read('memory.usage_in_bytes')); }
  limit(bytes: number): void { this.write('memory.limit_in_bytes', String(bytes)); }
  /** Processes the kernel's OOM killer killed in this cgroup (memory.oom_control's oom_kill). */
  oomKills(): number { return Number(/oom_kill (\d+)/.exec(this.read('memory.oom_control'))?.[1] ?? NaN); }
  /** Times an allocation hit the limit. */
  failcnt(): number { return Number(this.read('memory.failcnt')); }
  /** The OOM killer off here: a task over the limit waits for memory instead (v1's oom_kill_disable). */
  noOomKiller(): void { this.write('memory.oom_control', '1'); }
  pids(): number[] { return this.read('cgroup.procs').split('\n').filter(Boolean).map(Number); }

  /**
   * A hog in this cgroup: python3 growing by 1 MiB each 5 ms (each page touched) until `ms` is
   * up, started again each time the OOM killer takes it, so the pressure lasts; killed at the
   * end if it is still there (with the killer off it waits at the limit). Resolves with how many
   * hogs the killer took.
   */
  async hog(ms: number): Promise<number> {
    const end = performance.now() + ms;
    let killed = 0;
    let child: ChildProcess | undefined;
    const py = 'import time,sys\nend=time.monotonic()+float(sys.argv[1])\nb=[]\n' +
      'while time.monotonic()<end:\n b.append(bytearray(1<<20))\n time.sleep(0.005)\n';
    try {
      while (performance.now() < end) {
        // The shell joins the cgroup, then becomes the hog: nothing is allocated outside it.
        child = spawn('sh', ['-c', 'echo $$ > "$1/cgroup.procs" && exec python3 -c "$2" "$3"', 'sh', this.dir, py,
          String(Math.max(0, (end - performance.now()) / 1000))], { stdio: 'ignore' });
        const c = child;
        const timer = setTimeout(() => c.kill('SIGKILL'), Math.max(0, end - performance.now()) + 50);
        const sig = await new Promise<NodeJS.Signals | null>((r) => c.on('exit', (_c, s) => r(s)));
        clearTimeout(timer);
        if (sig === 'SIGKILL' && performance.now() < end) killed++;
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      if (child?.exitCode === null) child.kill('SIGKILL');
    }
    return killed;
  }

  /** Everything still in it back to the parent, then the cgroup removed (retried: it empties lazily). */
  async destroy(): Promise<void> {
    if (!existsSync(this.dir)) return;
    for (let i = 0; i < 50; i++) {
      for (const pid of this.pids()) { try { writeFileSync(join(this.parent, 'cgroup.procs'), String(pid)); } catch { /* gone */ } }
      try { rmdirSync(this.dir); return; } catch { await new Promise((r) => setTimeout(r, 20)); }
    }
    throw new Error(`could not remove ${this.dir}: processes ${this.pids().join(', ')}`);
  }
}
