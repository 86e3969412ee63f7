// The engine's code is locked in memory once it has started (realtime on, the default): after
// the memory trim, every file mapping is locked with MLOCK_ONFAULT (host/agent/trim.ts), so
// it is not evicted under memory pressure; its anonymous memory is not (V8 aborts on a locked
// heap page). A reload runs the trim again, unlocking first; the engine runs on. With
// `realtime: false` nothing is locked.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { skipReason } from '../net/netns.ts';
import { lab, until, vigilConfig } from '../helpers/agents.ts';

const skip = skipReason();

const children = (pid: number): number[] => {
  try { return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number); } catch { return []; }
};
const cmdline = (pid: number) => { try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { return ''; } };
const engineOf = (supervisor: number) => children(supervisor).find((c) => cmdline(c).includes('engine'));
const kb = (pid: number, file: 'status' | 'smaps_rollup', key: string): number => {
  try { return Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'))?.[1] ?? NaN); } catch { return NaN; }
};

t.test('the engine locks its code once started, again after a reload; not with realtime off', { skip }, async (t) => {
  const l = lab(t, 'vtmlk-', ['a', 'b']);
  const [a, b] = l.hosts;
  const fileA = l.work.file('a.yaml', vigilConfig({ priority: 255, interval: '100ms' }));
  const va = l.vigilFile(a!, fileA);
  const vb = l.vigilFile(b!, l.work.file('b.yaml', vigilConfig({ priority: 255, vrid: 52, interval: '100ms' }).replace('realtime: { priority: 50 }', 'realtime: false')));
  await va.waitLine(/vigil running/, 10_000);
  await vb.waitLine(/vigil running/, 10_000);
  const ea = engineOf(va.child.pid!), eb = engineOf(vb.child.pid!);
  t.ok(ea && eb, `engines ${ea} and ${eb}`);

  // The trim starts 5 s after the start and takes some steps; then the locks, a mapping a step
  // (the node binary's, ~100 MB of address space, among the last).
  await until(() => kb(ea!, 'status', 'VmLck') > 20_000, 12_000, 'the engine to lock its code', 100);
  await new Promise((r) => setTimeout(r, 500));
  const vmlck = kb(ea!, 'status', 'VmLck'), locked = kb(ea!, 'smaps_rollup', 'Locked'), rss = kb(ea!, 'status', 'VmRSS');
  t.ok(vmlck > 20_000, `VmLck ${vmlck} kB: the node binary's mappings and the libraries'`);
  t.ok(locked > 1024 && locked <= rss, `resident and locked ${locked} kB of RSS ${rss} kB`);
  t.ok(rss < 48 * 1024, `on fault only: RSS ${rss} kB stays under the 48 MB target`);
  t.notOk(va.lines.some((x) => /locking the engine's code in memory refused/.test(x)), 'no refusal logged (root)');
  t.equal(kb(eb!, 'status', 'VmLck'), 0, 'realtime: false: nothing locked');

  // A reload (a changed priority): the trim runs again, unlocking before its madvise, and the
  // engine runs on with its code locked again.
  l.work.file('a.yaml', vigilConfig({ priority: 200, interval: '100ms' }));
  va.signal('SIGHUP');
  await va.waitLine(/reload/i, 5000);
  await new Promise((r) => setTimeout(r, 7000));
  t.equal(engineOf(va.child.pid!), ea, 'the same engine process after the reload');
  t.ok(kb(ea!, 'status', 'VmLck') > 20_000, `VmLck ${kb(ea!, 'status', 'VmLck')} kB after the reload`);
  t.equal(va.child.exitCode, null, 'the agent runs');
});
