// The shim on its own, over UDP on loopback (no namespaces needed): readiness through
// libuv, recvMsg's metadata, errno mapping, bounds checks, and fd reuse after close inside a
// callback. Under `make asan` this runs against the AddressSanitizer build, and proves the
// sanitizer is really loaded by letting it catch a deliberate overflow in a child process.
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { hostLittleEndian as LE, sockaddrIn } from '../../host/net/sockaddr.ts';
import { K, shim, shimPath } from '../../host/net/shim.ts';
import { enableRealtime } from '../../host/net/realtime.ts';
import { NODE } from './netns.ts';

let s: ReturnType<typeof shim>;
try {
  s = shim();
} catch (e) {
  t.plan(0, (e as Error).message);
  process.exit(0);
}

function udp(): { fd: number; port: number } {
  const fd = s.socket(K('AF_INET'), K('SOCK_DGRAM'), 0);
  s.bind(fd, sockaddrIn('127.0.0.1'));
  const sa = new Uint8Array(K('SIZEOF_SOCKADDR_STORAGE'));
  s.getsockname(fd, sa);
  return { fd, port: (sa[2]! << 8) | sa[3]! };
}
const to = (port: number) => sockaddrIn('127.0.0.1', port);

t.test('a datagram: poll fires, recvMsg fills buffer and metadata', async (t) => {
  const a = udp();
  const b = udp();
  s.setsockoptInt(b.fd, K('IPPROTO_IP'), K('IP_RECVTTL'), 1);
  s.setsockoptInt(b.fd, K('IPPROTO_IP'), K('IP_PKTINFO'), 1);
  const buf = new Uint8Array(64).fill(0xee);
  const src = new Uint8Array(128);
  const meta = new Int32Array(8);
  t.equal(s.recvMsg(b.fd, buf, 0, 64, src, meta), -1, 'nothing queued: -1, no exception');
  const got = new Promise<number>((resolve) =>
    s.pollStart(b.fd, K('UV_READABLE'), (status, events) => {
      t.equal(status, 0);
      t.equal(events & K('UV_READABLE'), K('UV_READABLE'));
      resolve(s.recvMsg(b.fd, buf, 8, 16, src, meta));
    }),
  );
  const msg = new TextEncoder().encode('..hello vigil..');
  t.equal(s.sendTo(a.fd, msg, 2, 11, to(b.port)), 11, 'sendTo honours off/len');
  t.equal(await got, 11);
  t.same([...buf.subarray(8, 19)], [...new TextEncoder().encode('hello vigil')], 'written at the offset');
  t.equal(buf[7], 0xee, 'nothing before the offset touched');
  t.equal(buf[19], 0xee, 'nothing after the datagram touched');
  t.equal(meta[0], 16, 'sockaddr_in length');
  t.equal(meta[1], 64, 'TTL from IP_RECVTTL');
  t.equal(meta[2], s.ifNameToIndex('lo'), 'ifindex from IP_PKTINFO');
  t.same([...new Uint8Array(meta.buffer, 16, 4)], [127, 0, 0, 1], 'destination from IP_PKTINFO');
  t.same([...src.subarray(4, 8)], [127, 0, 0, 1], 'source address');
  t.equal((src[2]! << 8) | src[3]!, a.port, 'source port');
  s.close(a.fd);
  s.close(b.fd);
});

t.test('a truncated datagram reports its real length and MSG_TRUNC', async (t) => {
  const a = udp();
  const b = udp();
  s.sendTo(a.fd, new Uint8Array(100), 0, 100, to(b.port));
  const buf = new Uint8Array(10);
  const meta = new Int32Array(8);
  let n = -1;
  for (let i = 0; i < 100 && n < 0; i++) {
    n = s.recvMsg(b.fd, buf, 0, 10, new Uint8Array(128), meta);
    if (n < 0) await new Promise((r) => setTimeout(r, 5));
  }
  t.equal(n, 100);
  t.ok(meta[3]! & K('MSG_TRUNC'));
  s.close(a.fd);
  s.close(b.fd);
});

t.test('SO_TIMESTAMPNS: meta[8] is the age of a datagram that waited in the queue', async (t) => {
  const a = udp();
  const b = udp();
  s.setsockoptInt(b.fd, K('SOL_SOCKET'), K('SO_TIMESTAMPNS'), 1);
  // The first socket to ask for stamps turns the kernel's stamping on through a work queue
  // (net_enable_timestamp): a datagram sent at once may arrive unstamped, and recvmsg then
  // stamps it itself (age ~0). Once on, it stays on while any socket wants it.
  await new Promise((r) => setTimeout(r, 50));
  const buf = new Uint8Array(16);
  const meta = new Int32Array(9);
  const recv = async () => {
    let n = -1;
    for (let i = 0; i < 100 && n < 0; i++) {
      n = s.recvMsg(b.fd, buf, 0, 16, new Uint8Array(128), meta);
      if (n < 0) await new Promise((r) => setTimeout(r, 1));
    }
    return n;
  };
  s.sendTo(a.fd, new Uint8Array(4), 0, 4, to(b.port));
  const sent = performance.now();
  // A 30 ms setTimeout can fire a little early against the wall clock: libuv counts from its
  // cached loop time, which was taken before the send. Wait until 31 ms have really passed.
  while (performance.now() - sent < 31) await new Promise((r) => setTimeout(r, 31 - (performance.now() - sent)));
  t.equal(await recv(), 4);
  const waited = (performance.now() - sent) * 1000;
  t.ok(meta[8]! >= 30_000, `age ${meta[8]} us covers the 30 ms it waited`);
  t.ok(meta[8]! <= waited + 1000, `age ${meta[8]} us is no more than the ${waited.toFixed(0)} us since the send`);

  s.sendTo(a.fd, new Uint8Array(4), 0, 4, to(b.port));
  t.equal(await recv(), 4);
  t.ok(meta[8]! >= 0 && meta[8]! < 30_000, `received at once: age ${meta[8]} us`);

  const plain = udp(); // no SO_TIMESTAMPNS: no stamp
  s.sendTo(a.fd, new Uint8Array(4), 0, 4, to(plain.port));
  meta[8] = 12345;
  let n = -1;
  for (let i = 0; i < 100 && n < 0; i++) {
    n = s.recvMsg(plain.fd, buf, 0, 16, new Uint8Array(128), meta);
    if (n < 0) await new Promise((r) => setTimeout(r, 1));
  }
  t.equal(n, 4);
  t.equal(meta[8], -1, 'no stamp: -1');

  // An 8-slot meta (the netlink and ICMP callers) gets no age and nothing written past it.
  const wide = new Int32Array(10).fill(7);
  const eight = new Int32Array(wide.buffer, 0, 8);
  s.sendTo(a.fd, new Uint8Array(4), 0, 4, to(b.port));
  n = -1;
  for (let i = 0; i < 100 && n < 0; i++) {
    n = s.recvMsg(b.fd, buf, 0, 16, new Uint8Array(128), eight);
    if (n < 0) await new Promise((r) => setTimeout(r, 1));
  }
  t.equal(n, 4);
  t.same([wide[8], wide[9]], [7, 7], 'slots past an 8-slot meta untouched');
  for (const fd of [a.fd, b.fd, plain.fd]) s.close(fd);
});

t.test('OS errors carry code, errno and syscall', async (t) => {
  t.throws(() => s.close(-1), { code: 'EBADF', syscall: 'close' });
  t.throws(() => s.ifNameToIndex('nosuch0'), { code: 'ENODEV', syscall: 'if_nametoindex' });
  t.throws(() => s.socket(12345, K('SOCK_RAW'), 0), { code: 'EAFNOSUPPORT', syscall: 'socket' });
  t.throws(() => s.setsockoptInt(-1, 0, 0, 0), { code: 'EBADF', syscall: 'setsockopt' });
});

t.test('bounds and types are checked before any syscall', async (t) => {
  const { fd } = udp();
  const buf = new Uint8Array(8);
  t.throws(() => s.sendTo(fd, buf, 4, 8, to(9)), RangeError);
  t.throws(() => s.sendTo(fd, buf, -1, 1, to(9)), RangeError);
  t.throws(() => s.recvMsg(fd, buf, 0, 9, new Uint8Array(128), new Int32Array(8)), RangeError);
  t.throws(() => s.recvMsg(fd, buf, 0, 8, new Uint8Array(128), new Int32Array(4)), RangeError, 'meta too short');
  t.throws(() => s.sendTo(fd, 'x' as unknown as Uint8Array, 0, 1, null), TypeError);
  t.throws(() => s.bind(fd, new Uint8Array(4096)), RangeError, 'sockaddr larger than sockaddr_storage');
  t.throws(() => s.attachFilter(fd, new Uint8Array(7)), RangeError);
  t.throws(() => (s.socket as (...a: unknown[]) => number)(1), TypeError, 'missing arguments');
  s.close(fd);
});

// The one spawn op: file actions built by the caller (host/net/spawn.ts builds vigil's), the
// child's exit through a pidfd, and refusals before any process exists.
t.test('spawn: file actions, a pipe back, the exit by pidfd; bad actions refused', async (t) => {
  const [r, w] = s.pipe(1);
  const pid = s.spawn(['/bin/sh', '-c', 'echo "$V" >&3; ls /proc/self/fd'], ['V=from-the-child'], Int32Array.of(
    K('SPAWN_OPEN'), 0, K('O_RDONLY'), 0, K('SPAWN_DUP2'), w, 3, 0, K('SPAWN_OPEN'), 1, K('O_WRONLY'), 0, K('SPAWN_CLOSEFROM'), 4, 0, 0,
  ), ['/dev/null'], 0);
  s.close(w);
  const pidfd = s.pidfdOpen(pid);
  await new Promise<void>((resolve) => s.pollStart(pidfd, K('UV_READABLE'), () => resolve()));
  t.equal(s.pidfdWait(pidfd), 0, 'exited 0');
  s.close(pidfd);
  const buf = new Uint8Array(64);
  const n = s.read(r, buf);
  t.equal(new TextDecoder().decode(buf.subarray(0, n)), 'from-the-child\n', 'envp and fd 3 as the actions said');
  t.equal(s.read(r, buf), 0, 'EOF: the child held no other copy of the write end');
  s.close(r);
  t.throws(() => s.spawn(['/bin/true'], [], Int32Array.of(9, 0, 0, 0), [], 0), { code: 'EINVAL', syscall: 'posix_spawn' }, 'an unknown action');
  t.throws(() => s.spawn(['/bin/true'], [], Int32Array.of(K('SPAWN_OPEN'), 0, 0, 5), [], 0), { code: 'EINVAL' }, 'a path index out of range');
  t.throws(() => s.spawn([], [], new Int32Array(0), [], 0), RangeError, 'no argv[0]');
  t.throws(() => s.spawn(['/bin/true'], [], new Int32Array(3), [], 0), RangeError, 'not whole records');
  t.throws(() => s.spawn(['/nonexistent/x'], [], new Int32Array(0), [], 0), { code: 'ENOENT', syscall: 'posix_spawn' });
});

t.test('close inside the callback, re-arm, and fd reuse', async (t) => {
  for (let round = 0; round < 200; round++) {
    const a = udp();
    const b = udp();
    s.pollStart(b.fd, K('UV_READABLE'), () => t.fail('replaced callback must not run'));
    await new Promise<void>((resolve) => {
      s.pollStart(b.fd, K('UV_READABLE'), () => {
        s.close(b.fd); // the watch is released while its callback runs
        resolve();
      });
      s.sendTo(a.fd, new Uint8Array(1), 0, 1, to(b.port));
    });
    s.close(a.fd);
  }
  t.pass('200 rounds');
});

t.test('timerfd: fires once per arming; re-arming or disarming leaves nothing to read', async (t) => {
  const fd = s.timerCreate();
  t.teardown(() => s.close(fd));
  const fired: number[] = [];
  const t0 = performance.now();
  s.pollStart(fd, K('UV_READABLE'), () => {
    fired.push(performance.now() - t0);
    // As the engine does on every expiry: no read(2), only the next arming. A fd left readable
    // would fire this callback again at once (level-triggered), hundreds of times below.
    s.timerSet(fd, next.shift() ?? Infinity);
  });
  const next = [20_000];
  s.timerSet(fd, 10_000);
  await new Promise((r) => setTimeout(r, 150));
  t.equal(fired.length, 2, `fired at ${fired.map((x) => x.toFixed(1)).join(', ')} ms: once per arming, none once disarmed`);
  t.ok(fired[0]! >= 9.9, 'not before its 10 ms');
  t.ok(fired[1]! - fired[0]! >= 19.9, 're-armed for 20 ms from the first expiry');
  // Re-armed before it expires: the earlier deadline is gone, only the new one fires.
  fired.length = 0;
  const t1 = performance.now();
  s.timerSet(fd, 5_000);
  s.timerSet(fd, 40_000);
  await new Promise((r) => setTimeout(r, 20));
  t.equal(fired.length, 0, 'the replaced 5 ms deadline did not fire');
  await new Promise((r) => setTimeout(r, 60));
  t.equal(fired.length, 1, 'the 40 ms one did');
  t.ok(performance.now() - t1 >= 40);
  s.pollStop(fd);
});

t.test('timerAt: an absolute CLOCK_MONOTONIC deadline; the poll callback gets the wake-up time', async (t) => {
  const fd = s.timerCreate();
  t.teardown(() => s.close(fd));
  const woke: number[] = [];
  s.pollStart(fd, K('UV_READABLE'), (_status, _events, nowUs) => {
    woke.push(nowUs);
    s.timerAt(fd, Infinity);
  });
  const c0 = s.clockMonotonic();
  t.ok(Math.abs(c0 - Number(process.hrtime.bigint()) / 1e3) < 50_000, 'clockMonotonic is libuv\'s hrtime clock, in us');
  const deadline = c0 + 15_000;
  s.timerAt(fd, deadline);
  await new Promise((r) => setTimeout(r, 60));
  t.equal(woke.length, 1, 'fired once, then disarmed');
  t.ok(woke[0]! >= deadline, `not before its deadline (${(woke[0]! - deadline).toFixed(0)} us after)`);
  t.ok(woke[0]! <= s.clockMonotonic(), 'the callback\'s time is the clock\'s, as it woke');
  // A deadline already past fires at once, however far back (0 too: never a disarm).
  for (const past of [s.clockMonotonic() - 1e6, 0]) {
    woke.length = 0;
    s.timerAt(fd, past);
    await new Promise((r) => setTimeout(r, 20));
    t.equal(woke.length, 1, `a deadline in the past (${past === 0 ? '0' : 'a second ago'}) fires at once`);
  }
  s.pollStop(fd);
});

t.test('pollStartFast: a plain call; its microtasks run after it only when it says it queued some', async (t) => {
  const fd = s.timerCreate();
  t.teardown(() => s.close(fd));
  const cell = new Float64Array(new ArrayBuffer(8));
  s.clockCell(cell);
  const order: string[] = [];
  let answer = 1;
  let wokeAt = NaN;
  const fired = new Promise<void>((resolve) => {
    s.pollStartFast(fd, K('UV_READABLE'), () => {
      wokeAt = cell[0]!;
      s.timerAt(fd, Infinity);
      void Promise.resolve().then(() => order.push('microtask'));
      setImmediate(() => { order.push('immediate'); resolve(); });
      return answer;
    });
  });
  const deadline = s.clockMonotonic() + 5_000;
  s.timerAt(fd, deadline);
  await fired;
  t.same(order, ['microtask', 'immediate'], 'returned 1: its microtask ran as the callback ended, before the loop went on');
  t.ok(wokeAt >= deadline && wokeAt <= s.clockMonotonic(), 'clockCell holds the wake-up\'s time');
  // Returning 0 says "nothing queued": no checkpoint of its own; one queued anyway is not lost,
  // it runs at the next checkpoint (whichever callback comes first: not asserted).
  order.length = 0;
  answer = 0;
  const again = new Promise<void>((resolve) => {
    s.pollStartFast(fd, K('UV_READABLE'), () => {
      s.timerAt(fd, Infinity);
      void Promise.resolve().then(() => order.push('microtask'));
      setImmediate(() => { order.push('immediate'); setImmediate(resolve); });
      return answer;
    });
  });
  s.timerAt(fd, s.clockMonotonic() + 5_000);
  await again;
  await new Promise((r) => setImmediate(r));
  t.same([...order].sort(), ['immediate', 'microtask'], 'returned 0: the microtask still ran');
  t.throws(() => s.clockCell(new Float64Array(0)), { name: 'RangeError' }, 'a cell needs an element');
  s.pollStop(fd);
});

const noScript = spawnSync('script', ['--version']).error ? 'script(1) is missing: apt-get install -y bsdutils' : false;
t.test('isatty: a terminal or not (script(1) gives a child one)', { skip: noScript }, async (t) => {
  const { fd } = udp();
  t.teardown(() => s.close(fd));
  t.equal(s.isatty(fd), 0, 'a socket');
  t.equal(s.isatty(123456), 0, 'no such descriptor');
  // A child on a pseudo-terminal: what the engine's log sees when vigil runs on a terminal.
  const probe = `import { shim } from ${JSON.stringify(new URL('../../host/net/shim.ts', import.meta.url).href)}; console.log('isatty', shim().isatty(1), shim().isatty(3));`;
  const r = spawnSync('script', ['-qec', `${NODE} --input-type=module -e ${JSON.stringify(probe)} 3</dev/null`, '/dev/null'], { encoding: 'utf8', timeout: 20_000 });
  t.match(r.stdout, /isatty 1 0/, 'stdout is the terminal, /dev/null is not');
});

t.test('realtime: SCHED_FIFO and mlockall as root, a clear warning otherwise', async (t) => {
  const code = `import { enableRealtime, schedulerPolicy } from ${JSON.stringify(new URL('../../host/net/realtime.ts', import.meta.url).pathname)};
    import { execSync } from 'node:child_process';
    const r = enableRealtime({ priority: 10 });
    // A child's policy (proc(5) field 41), as a notify hook of the engine's would have it.
    const child = Number(execSync("awk '{ print $41 }' /proc/self/stat", { encoding: 'utf8' }));
    console.log(JSON.stringify({ ...r, policy: schedulerPolicy(), child }));`;
  const run = (wrapper: string[]) => {
    const p = spawnSync(wrapper[0] ?? NODE, [...wrapper.slice(1), ...(wrapper.length ? [NODE] : []), '--input-type=module', '-e', code], { encoding: 'utf8' });
    return JSON.parse(p.stdout);
  };
  if (process.getuid?.() === 0) {
    t.match(run([]), { scheduled: true, locked: true, policy: 'fifo', warnings: [] });
    t.equal(run([]).child, 0, 'what it starts runs SCHED_OTHER (SCHED_RESET_ON_FORK): a hook never competes with the engine');
    const r = run(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all']);
    t.match(r, { scheduled: false, policy: 'other' });
    t.match(r.warnings[0], /CAP_SYS_NICE/);
  } else {
    const r = enableRealtime({ priority: 10, lockMemory: false });
    t.match(r.warnings[0] ?? '', /CAP_SYS_NICE/);
  }
});

t.test('AddressSanitizer build: loaded and catching', { skip: s.asan() ? false : process.env.VIGIL_EXPECT_ASAN ? false : 'not the ASan build (make asan runs this)' }, async (t) => {
  t.equal(s.asan(), 1, `${shimPath} carries ASan`);
  const code = `require(${JSON.stringify(shimPath)}).asan(1); console.log('survived')`;
  const p = spawnSync(NODE, ['-e', code], { encoding: 'utf8' });
  t.not(p.status, 0, 'the deliberate overflow killed the child');
  t.match(p.stderr, /AddressSanitizer: heap-buffer-overflow/);
  t.notMatch(p.stdout, /survived/);
});

void LE;
