// The engine's memory trim (host/agent/trim.ts) and the shim ops under it: which mappings are
// offered, the steps, and that dropCleanPages takes file pages out of the page tables (RSS
// goes down, the process keeps running) but never a range holding a private page (the heap,
// relocated RELRO), whose contents would be lost.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileChunks, fileMappings, MemoryLockError, MemoryTrim, trimAfterStart } from '../../host/agent/trim.ts';
import { dropCleanPages } from '../../host/net/memory.ts';
import { shim } from '../../host/net/shim.ts';

// The tests on this process need the shim built (make native).
const noShim = (() => { try { shim(); return undefined; } catch (e) { return (e as Error).message; } })();

const MAPS = [
  '00400000-0082e000 r--p 00000000 fe:00 5399037                            /usr/bin/node',
  '0082e000-03489000 r-xp 0042e000 fe:00 5399037                            /usr/bin/node',
  '072a7000-072dc000 r--p 06ea7000 fe:00 5399037                            /usr/bin/node',
  '072dc000-07308000 rw-p 06edc000 fe:00 5399037                            /usr/bin/node',
  '28124000-28479000 rw-p 00000000 00:00 0                                  [heap]',
  '7f50bdf0e000-7f50be01e000 rw-p 00000000 00:00 0 ',
  '7f50be044000-7f50be19a000 r-xp 00026000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6',
  '7f50be1a0000-7f50be1a1000 ---p 00000000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6',
  '7f50be1a2000-7f50be1a3000 r--s 00000000 00:05 77                         /dev/shm/x',
  '7ffd5c3f1000-7ffd5c3f5000 r--p 00000000 00:00 0                          [vvar]',
  '7ffd5c3f5000-7ffd5c3f7000 r-xp 00000000 00:00 0                          [vdso]',
  '',
].join('\n');

t.test('fileChunks: readable, unwritable file mappings only, in chunks', async (t) => {
  const c = fileChunks(MAPS, 2 * 1024 * 1024);
  // the binary's header (4.2 MB: 3 chunks), text (44.4 MB), RELRO (offered: the shim refuses
  // its private pages), libc's text, a shared read-only file; not rw-p, ---p, [heap], [vdso]
  const starts = new Set(c.map(([a]) => a));
  t.ok(starts.has(0x400000) && starts.has(0x82e000) && starts.has(0x72a7000) && starts.has(0x7f50be044000) && starts.has(0x7f50be1a2000));
  for (const bad of [0x72dc000, 0x28124000, 0x7f50bdf0e000, 0x7f50be1a0000, 0x7ffd5c3f1000, 0x7ffd5c3f5000]) t.notOk(starts.has(bad), bad.toString(16));
  for (const [, len] of c) t.ok(len > 0 && len <= 2 * 1024 * 1024 && len % 4096 === 0);
  // the chunks of each mapping cover it exactly
  const text = c.filter(([a]) => a >= 0x82e000 && a < 0x3489000);
  t.equal(text[0]![0], 0x82e000);
  t.equal(text.reduce((n, [, l]) => n + l, 0), 0x3489000 - 0x82e000);
  t.equal(fileChunks('').length, 0);
});

t.test('MemoryTrim: malloc trim and the maps first, then chunks within the budget', async (t) => {
  const calls: string[] = [];
  const fake = {
    mallocTrim: () => { calls.push('trim'); return 1; },
    madvise: () => {},
    dropCleanPages: (a: number, l: number) => { calls.push(`drop ${a.toString(16)}`); return l / 1024; },
    mlock2: () => { calls.push('mlock2'); },
    munlockall: () => { calls.push('munlockall'); },
    constants: { MLOCK_ONFAULT: 1 },
  };
  const m = new MemoryTrim(fake, { maps: () => MAPS, drop: fake.dropCleanPages });
  t.equal(m.step(), true);
  t.same(calls, ['trim']);
  // a zero budget: one chunk per step
  let steps = 0;
  while (m.step(0)) steps++;
  const chunks = fileChunks(MAPS).length;
  t.equal(steps + 1, chunks);
  t.equal(calls.length, 1 + chunks);
  t.equal(m.droppedKb, fileChunks(MAPS).reduce((n, [, l]) => n + l / 1024, 0));
  t.equal(new MemoryTrim(fake, { maps: () => '', drop: fake.dropCleanPages }).step(), false, 'nothing to drop: done at once');
  t.notOk(calls.some((c) => c.startsWith('mlock2') || c === 'munlockall'), 'no lock asked for: none made or undone');
});

t.test('fileMappings: every file mapping whole, not devices, memfds or anonymous memory', async (t) => {
  const m = fileMappings(MAPS + '\n7f50be1a4000-7f50be1a6000 rw-s 00000000 00:01 1234 /memfd:v8 (deleted)\n');
  t.same(m.map(([a]) => a.toString(16)), ['400000', '82e000', '72a7000', '72dc000', '7f50be044000'],
    'the binary (header, text, RELRO, data) and libc\'s text; not ---p, /dev/shm, [heap], [vdso], a memfd');
  t.same(m[1], [0x82e000, 0x3489000 - 0x82e000], 'a mapping whole, not in chunks');
});

t.test('MemoryTrim with lock: unlock first, drop, then lock every file mapping on fault', async (t) => {
  const calls: string[] = [];
  const fake = {
    mallocTrim: () => 1,
    madvise: () => {},
    dropCleanPages: () => { calls.push('drop'); return 4; },
    mlock2: (a: number, l: number, f: number) => { calls.push(`mlock2 ${a.toString(16)} ${l} ${f}`); },
    munlockall: () => { calls.push('munlockall'); },
    constants: { MLOCK_ONFAULT: 1 },
  };
  const first = new MemoryTrim(fake, { maps: () => MAPS, lock: true, drop: fake.dropCleanPages });
  while (first.step(0));
  t.notOk(calls.includes('munlockall'), 'the first pass: nothing to unlock (munlockall is ~1.3 ms)');
  calls.length = 0;
  const m = new MemoryTrim(fake, { maps: () => MAPS, lock: true, unlockFirst: true, drop: fake.dropCleanPages });
  // A zero budget: one drop or one lock per step, so none holds the loop long.
  let steps = 0;
  while (m.step(0)) steps++;
  t.equal(steps, fileChunks(MAPS).length + fileMappings(MAPS).length, 'one chunk or one mapping a step');
  t.equal(calls[0], 'munlockall', 'a reload\'s pass undoes the last locks before its madvise');
  const locks = calls.filter((c) => c.startsWith('mlock2'));
  t.equal(locks.length, fileMappings(MAPS).length);
  t.ok(calls.lastIndexOf('drop') < calls.indexOf(locks[0]!), 'locked after every drop');
  t.ok(locks.every((c) => c.endsWith(' 1')), 'MLOCK_ONFAULT: nothing read in');
  t.equal(m.lockedBytes, fileMappings(MAPS).reduce((n, [, l]) => n + l, 0));

  // Refused half way: a named error saying how to grant it, and nothing left locked.
  calls.length = 0;
  let n = 0;
  const refusing = { ...fake, mlock2: () => { if (++n === 3) throw new Error('mlock2: Cannot allocate memory'); calls.push('mlock2'); } };
  const r = new MemoryTrim(refusing, { maps: () => MAPS, lock: true, drop: refusing.dropCleanPages });
  const err = (() => { try { while (r.step(0)); } catch (e) { return e; } })();
  t.ok(err instanceof MemoryLockError, 'MemoryLockError');
  t.equal((err as MemoryLockError).code, 'VIGIL_EMEMLOCK');
  t.match((err as Error).message, /CAP_IPC_LOCK.*LimitMEMLOCK/);
  t.equal(calls.at(-1), 'munlockall', 'the locks made before the refusal are undone');
  t.equal(r.lockedBytes, 0);
});

t.test('dropCleanPages on this process', { skip: noShim }, async (t) => {
  const s = shim();
  const drop = (a: number, l: number) => dropCleanPages(s, a, l);
  const maps = readFileSync('/proc/self/maps', 'utf8').split('\n');
  const range = (line: string): [number, number] => {
    const [a, b] = line.split(' ')[0]!.split('-').map((x) => parseInt(x, 16));
    return [a!, b! - a!];
  };
  const rss = () => Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);

  t.throws(() => drop(4097, 4096), RangeError, 'not page aligned');
  t.throws(() => drop(4096, 0), RangeError, 'empty');

  // The malloc heap and V8's heap: private pages, refused, and still intact after.
  const heap = maps.find((l) => l.endsWith('[heap]'));
  if (heap) t.equal(drop(...range(heap)), 0, '[heap] refused');
  const keep = new Uint8Array(1 << 20).fill(7);
  for (const l of maps.filter((l) => / rw-p 00000000 00:00 0 /.test(l))) drop(...range(l));
  t.ok(keep.every((x) => x === 7), 'anonymous memory untouched');

  // A read-only private file mapping holding copied pages (the RELRO after relocation):
  // refused whole. Found from smaps (Anonymous > 0).
  const smaps = readFileSync('/proc/self/smaps', 'utf8').split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/);
  const relro = smaps.find((m) => / r--p [0-9a-f]+ \S+ [1-9]/.test(m.split('\n')[0]!) && /^Anonymous:\s+[1-9]/m.test(m));
  if (relro) t.equal(drop(...range(relro.split('\n')[0]!)), 0, 'RELRO refused');
  else t.comment('no read-only file mapping with a private page here');

  // The node binary's text: dropped, RSS down, and the process runs on (the pages fault back).
  const before = rss();
  let kb = 0;
  for (const [a, l] of fileChunks(maps.join('\n'))) kb += drop(a, l);
  t.ok(kb > 4096, `dropped ${kb} kB`);
  t.ok(rss() < before - 4096, `RSS ${before} -> ${rss()} kB`);
  t.equal(JSON.parse(JSON.stringify({ still: [1, 2, 3] })).still.length, 3);
  t.equal(s.mallocTrim() >= 0, true);
});

t.test('mlock2 (MLOCK_ONFAULT) and munlockall on this process', { skip: noShim }, async (t) => {
  const s = shim();
  if (process.getuid?.() !== 0) {
    t.plan(0, 'needs root (CAP_IPC_LOCK) to lock more than RLIMIT_MEMLOCK');
    return;
  }
  const status = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))![1]);
  const rss = status('VmRSS');
  const files = fileMappings(readFileSync('/proc/self/maps', 'utf8'));
  for (const [a, l] of files) s.mlock2(a, l, s.constants.MLOCK_ONFAULT!);
  const total = files.reduce((n, [, l]) => n + l, 0) / 1024;
  t.equal(status('VmLck'), total, `VmLck ${status('VmLck')} kB: every file mapping`);
  const locked = Number(/^Locked:\s+(\d+)/m.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))![1]);
  t.ok(locked > 1024 && locked < total, `resident and locked: ${locked} kB of ${total.toFixed(0)}`);
  t.ok(status('VmRSS') < rss + 8192, `on fault: nothing read in (RSS ${rss} -> ${status('VmRSS')} kB)`);
  t.throws(() => s.mlock2(0, 0, 0), RangeError);
  s.munlockall();
  t.equal(status('VmLck'), 0, 'munlockall: nothing locked');
});

// The supervisor's and the checker's pass: after the delay, malloc's pages, then file pages in
// steps off the caller's stack (this process's own maps, through a recording shim).
t.test('trimAfterStart: later, in steps, malloc first then madvise', { skip: noShim }, async (t) => {
  const calls: string[] = [];
  const s = shim();
  const fake = {
    mallocTrim: () => { calls.push('trim'); return 1; },
    madvise: () => { calls.push('madvise'); },
    mlock2: () => { calls.push('mlock2'); }, munlockall: () => { calls.push('munlockall'); },
    constants: s.constants,
  };
  trimAfterStart(fake, 50);
  t.same(calls, [], 'nothing at once');
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(calls[0], 'trim', 'malloc first');
  t.ok(calls.filter((c) => c === 'madvise').length > 0, `${calls.length - 1} madvise call(s)`);
  t.notOk(calls.includes('mlock2'), 'no locking outside the engine');
});
