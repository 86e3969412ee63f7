// Packets per second through the native shim between two network namespaces, and JS heap
// bytes allocated per packet on the send and receive paths (target 0).
//
//   node bench/net.ts            standalone (root): prints the figures
//   node bench/run.ts            as part of `make bench` (run() below)
//
// Layout: namespaces vnet-bench-a / vnet-bench-b joined by a veth pair. A receiver process
// in b listens on a VrrpSocket (multicast 224.0.0.18, receive buffer 32 MB); a sender in a
// sends VRRPv3 adverts back to back from one preallocated buffer. Allocation on the send path
// and on the receive path is measured as the growth of the young generation's used bytes
// (v8.getHeapSpaceStatistics(): new_space + new_large_object_space), which is exact to the
// byte, over many short samples inside each process after warm-up, less the probe's own cost
// (read -> read with nothing between, taken next to each sample: it changes as young() tiers
// up); a sample during which a GC ran (PerformanceObserver 'gc' entries against
// the sample's performance.now() bounds) is excluded and counted, since a collection shrinks
// the young generation. A calibration that allocates a known amount shows the method sees
// allocations at all. Native (malloc) allocation is not measured: the shim's send and receive
// paths use only the stack.
//
// Not v8.getHeapStatistics().total_allocated_bytes: it counts in linear-allocation-area
// units, not bytes. Each read closes the area, and the next allocation (the statistics object
// the read returns) opens one that is counted whole, so two back-to-back reads differ by
// anything from ~400 B to ~350 KB however little ran between them. Summed over 2000 samples
// less one probe read at startup, the receive figure was the sign of a lottery (usually
// negative, clamped to 0; sometimes 1,000-2,700 B/packet). Only the receive all-in window
// still uses it: one window over >100,000 packets, so its error is a few bytes per packet.
import { execFileSync, spawn } from 'node:child_process';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import v8 from 'node:v8';
import { fileURLToPath } from 'node:url';
import { targetsTable, rate, type Target } from './table.ts';

const SELF = fileURLToPath(import.meta.url);
const NODE = process.execPath;
const NS_A = 'vnet-bench-a';
const NS_B = 'vnet-bench-b';
const QUICK = process.env.VIGIL_BENCH_QUICK === '1';
const COUNT = QUICK ? 100_000 : 500_000;
const WARMUP = 5_000;

/** Cumulative, in linear-allocation-area units (see above): for the long all-in window only. */
const allocated = () => (v8.getHeapStatistics() as v8.HeapInfo & { total_allocated_bytes: number }).total_allocated_bytes;

/** Bytes in use in the young generation: exact, but a GC shrinks it (samples that saw one are excluded). */
const young = () => {
  let u = 0;
  for (const sp of v8.getHeapSpaceStatistics()) if (sp.space_name === 'new_space' || sp.space_name === 'new_large_object_space') u += sp.space_used_size;
  return u;
};

/** GC intervals (performance.now() ms), delivered asynchronously: read them once the samples are done. */
function gcLog() {
  const spans: number[] = [];
  const obs = new PerformanceObserver((l) => {
    for (const e of l.getEntries()) spans.push(e.startTime, e.startTime + e.duration);
  });
  obs.observe({ entryTypes: ['gc'] });
  return {
    /** stop observing, after letting pending entries arrive */
    async done() {
      await new Promise((r) => setTimeout(r, 50));
      obs.disconnect();
    },
    /** whether a GC overlapped [t0, t1] */
    during(t0: number, t1: number) {
      for (let i = 0; i < spans.length; i += 2) if (spans[i]! <= t1 && spans[i + 1]! >= t0) return true;
      return false;
    },
  };
}


export interface NetBenchResult {
  module: 'net';
  skipped?: string;
  sent: number;
  received: number;
  lossPct: number;
  sendPerSecond: number;
  recvPerSecond: number;
  sendBytesPerPacket: number;
  /** everything between two packets, the libuv -> JS turn per wakeup included */
  recvBytesPerPacket: number;
  /** the drain alone: recvMsg + VrrpSocket.recv, per packet */
  recvOpBytesPerPacket: number;
  recvWakeups: number;
  packetsPerWakeup: number;
  allocCalibrationBytesPerOp: number;
  /** receive samples (wakeups) taken, and how many were left out because a GC ran during them */
  recvSamples: number;
  recvSamplesExcluded: number;
  /** send batches (1000 packets) measured, and how many were left out because a GC ran during them */
  sendBatches: number;
  sendBatchesExcluded: number;
  method: string;
  targets: Target[];
}

// ---------- workers (run inside a namespace) ----------

async function worker(role: string, count: number): Promise<void> {
  const { VrrpSocket } = await import('../host/net/vrrp-socket.ts');
  const { K, shim } = await import('../host/net/shim.ts');
  const out = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
  if (role === 'recv') {
    const s = await VrrpSocket.open({ ifname: 'eth0', family: 4 });
    shim().setsockoptInt(s.rx, K('SOL_SOCKET'), K('SO_RCVBUFFORCE'), 32 << 20);
    const buf = new Uint8Array(2048);
    let n = 0;
    let wakeups = 0;
    let t0 = 0n;
    let t1 = 0n;
    let n1 = 0;
    let a0 = 0;
    let a1 = 0;
    let windowN = 0;
    // The all-in window starts after the sampled wakeups below (whose probes allocate).
    const windowStart = Math.min(WARMUP + 100_000, Math.floor(count / 2));
    const windowEnd = windowStart + Math.floor((count - windowStart) / 2);
    const onPacket = () => {
      n++;
      // Timestamps are BigInts (allocated): take one per 4096 packets, outside the window.
      if ((n & 4095) === 0 || n === 1) {
        t1 = process.hrtime.bigint();
        n1 = n;
        if (n === 1) t0 = t1;
      }
      if (n === windowStart) a0 = allocated();
      if (n === windowEnd) {
        a1 = allocated();
        windowN = windowEnd - windowStart;
      }
    };
    // The receive path as VrrpSocket.listen runs it (poll -> recvMsg -> ReceivedPacket),
    // spelled out here only to count wakeups.
    // For SAMPLE wakeups after warm-up, the drain alone is measured (the probe's own cost
    // taken out): that is the shim + VrrpSocket.recv path, apart from the libuv -> JS turn.
    const SAMPLE = 2000;
    let sampled = 0;
    const sT0 = new Float64Array(SAMPLE);
    const sT1 = new Float64Array(SAMPLE);
    const sBytes = new Float64Array(SAMPLE);
    const sPackets = new Float64Array(SAMPLE);
    const gcs = gcLog();
    shim().pollStart(s.rx, K('UV_READABLE'), () => {
      wakeups++;
      if (n >= WARMUP && sampled < SAMPLE) {
        const before = n;
        sT0[sampled] = performance.now();
        const p0 = young();
        const b0 = young();
        while (s.recv(buf, 0, buf.length)) n++;
        const b1 = young();
        sT1[sampled] = performance.now();
        sBytes[sampled] = b1 - b0 - (b0 - p0);
        sPackets[sampled] = n - before;
        sampled++;
        return;
      }
      while (s.recv(buf, 0, buf.length)) onPacket();
    });
    out({ ready: true });
    createInterface({ input: process.stdin }).on('line', async () => {
      s.close();
      await gcs.done();
      let sampledBytes = 0;
      let sampledPackets = 0;
      let recvSamplesExcluded = 0;
      for (let i = 0; i < sampled; i++) {
        if (gcs.during(sT0[i]!, sT1[i]!)) recvSamplesExcluded++;
        else {
          sampledBytes += sBytes[i]!;
          sampledPackets += sPackets[i]!;
        }
      }
      const secs = Number(t1 - t0) / 1e9;
      out({ received: n, recvPerSecond: secs > 0 ? (n1 - 1) / secs : 0, recvBytesPerPacket: windowN ? (a1 - a0) / windowN : NaN, windowN, wakeups, recvOpBytesPerPacket: sampledBytes / sampledPackets, sampledPackets, recvSamples: sampled, recvSamplesExcluded });
      process.exit(0);
    });
    return;
  }
  // send
  const s = await VrrpSocket.open({ ifname: 'eth0', family: 4 });
  const adv = Uint8Array.of(0x31, 1, 100, 1, 0, 100, 0, 0, 203, 0, 113, 1);
  const group = s.group;
  let sent = 0;
  let dropped = 0;
  const loop = (k: number) => {
    for (let i = 0; i < k; i++) {
      if (s.send(adv, 0, adv.length, group) > 0) sent++;
      else dropped++;
    }
  };
  loop(WARMUP);
  const gcs = gcLog();
  const a0 = allocated();
  const t0 = process.hrtime.bigint();
  // Batches with a turn of the event loop between them, as the engine would run.
  const batch = 1000;
  let left = count - WARMUP;
  const batches: number[] = []; // [t0, t1, bytes, packets] per batch
  while (left > 0) {
    const k = Math.min(batch, left);
    const u0 = performance.now();
    const p0 = young();
    const b0 = young();
    loop(k);
    const b1 = young();
    batches.push(u0, performance.now(), b1 - b0 - (b0 - p0), k);
    left -= k;
    await new Promise((r) => setImmediate(r));
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const total = allocated() - a0;
  await gcs.done();
  let loopBytes = 0;
  let loopN = 0;
  let sendBatchesExcluded = 0;
  for (let i = 0; i < batches.length; i += 4) {
    if (gcs.during(batches[i]!, batches[i + 1]!)) sendBatchesExcluded++;
    else {
      loopBytes += batches[i + 2]!;
      loopN += batches[i + 3]!;
    }
  }
  out({ sent, dropped, sendPerSecond: (count - WARMUP) / secs, sendBytesPerPacket: loopBytes / loopN, withLoopTurnsBytesPerPacket: total / (count - WARMUP), sendBatches: batches.length / 4, sendBatchesExcluded });
  s.close();
}

// ---------- orchestration (root namespace) ----------

const ip = (...a: string[]) => execFileSync('ip', a, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

function setup(): void {
  teardown();
  ip('netns', 'add', NS_A);
  ip('netns', 'add', NS_B);
  ip('link', 'add', 'eth0', 'netns', NS_A, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS_B);
  for (const [ns, addr] of [[NS_A, '192.0.2.1/24'], [NS_B, '192.0.2.2/24']] as const) {
    ip('-n', ns, 'addr', 'add', addr, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
}

function teardown(): void {
  for (const ns of [NS_A, NS_B]) try { ip('netns', 'del', ns); } catch { /* not there */ }
}

function spawnWorker(ns: string, role: string, count: number) {
  const p = spawn('ip', ['netns', 'exec', ns, NODE, SELF, '--worker', role, String(count)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: object[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: p.stdout! }).on('line', (l) => {
    lines.push(JSON.parse(l));
    for (const w of waiters.splice(0)) w();
  });
  const next = (i: number, ms = 60_000) =>
    new Promise<Record<string, number>>((resolve, reject) => {
      const check = () => (lines.length > i ? resolve(lines[i] as Record<string, number>) : waiters.push(check));
      setTimeout(() => reject(new Error(`${role} worker: no output within ${ms} ms`)), ms).unref();
      check();
    });
  return { p, next };
}

/** young() bytes per new Float64Array(4): the median of 50 runs of 100 (a run a GC cut short reads low). */
function calibrate(): number {
  let sink: unknown;
  const per: number[] = [];
  for (let r = 0; r < 50; r++) {
    const p0 = young();
    const y0 = young();
    for (let i = 0; i < 100; i++) sink = new Float64Array(4);
    per.push((young() - y0 - (y0 - p0)) / 100);
  }
  void sink;
  return per.sort((a, b) => a - b)[25]!;
}

export async function run(): Promise<NetBenchResult> {
  const empty = { module: 'net' as const, sent: 0, received: 0, lossPct: 0, sendPerSecond: 0, recvPerSecond: 0, sendBytesPerPacket: NaN, recvBytesPerPacket: NaN, recvOpBytesPerPacket: NaN, recvWakeups: 0, packetsPerWakeup: 0, allocCalibrationBytesPerOp: NaN, recvSamples: 0, recvSamplesExcluded: 0, sendBatches: 0, sendBatchesExcluded: 0, method: '', targets: [] };
  if (process.getuid?.() !== 0) return { ...empty, skipped: 'needs root (network namespaces, raw sockets)' };
  const exitHook = () => teardown();
  process.on('exit', exitHook);
  try {
    setup();
    const rx = spawnWorker(NS_B, 'recv', COUNT);
    await rx.next(0);
    const tx = spawnWorker(NS_A, 'send', COUNT);
    const s = await tx.next(0);
    await new Promise((r) => setTimeout(r, 300)); // let the receiver drain
    rx.p.stdin!.write('stop\n');
    const r = await rx.next(1);
    const calib = calibrate();
    const result: NetBenchResult = {
      module: 'net',
      sent: s.sent!,
      received: r.received!,
      lossPct: (100 * (s.sent! - r.received!)) / s.sent!,
      sendPerSecond: s.sendPerSecond!,
      recvPerSecond: r.recvPerSecond!,
      sendBytesPerPacket: s.sendBytesPerPacket!,
      recvBytesPerPacket: r.recvBytesPerPacket!,
      recvOpBytesPerPacket: r.recvOpBytesPerPacket!,
      recvWakeups: r.wakeups!,
      packetsPerWakeup: r.received! / Math.max(1, r.wakeups!),
      allocCalibrationBytesPerOp: calib,
      recvSamples: r.recvSamples!,
      recvSamplesExcluded: r.recvSamplesExcluded!,
      sendBatches: s.sendBatches!,
      sendBatchesExcluded: s.sendBatchesExcluded!,
      method: 'young-generation used bytes (v8.getHeapSpaceStatistics) per sample after warm-up, less the probe (a read->read pair next to each), samples with a GC excluded; all-in: total_allocated_bytes over one window',
      targets: [],
    };
    result.targets = [
      { name: 'net: JS heap bytes per packet sent', target: '0 B', value: `${result.sendBytesPerPacket.toFixed(2)} B`, met: result.sendBytesPerPacket < 0.5 },
      { name: 'net: JS heap bytes per packet received (recv path)', target: '0 B', value: `${result.recvOpBytesPerPacket.toFixed(2)} B`, met: result.recvOpBytesPerPacket < 0.5 },
    ];
    return result;
  } finally {
    teardown();
    process.off('exit', exitHook);
  }
}

export function format(r: NetBenchResult): string {
  if (r.skipped) return `net: skipped (${r.skipped})`;
  return [
    'net: VRRPv3 adverts through the shim between two namespaces (veth), one sender, one receiver',
    `  sent      ${rate(r.sendPerSecond)} packets/s   (${r.sent.toLocaleString('en')} packets)`,
    `  received  ${rate(r.recvPerSecond)} packets/s   (${r.received.toLocaleString('en')} packets, loss ${r.lossPct.toFixed(2)} %)`,
    `  receive wakeups ${r.recvWakeups.toLocaleString('en')} (${r.packetsPerWakeup.toFixed(2)} packets per wakeup)`,
    `  JS heap allocated per packet: send ${r.sendBytesPerPacket.toFixed(2)} B; receive path (recvMsg + VrrpSocket.recv) ` +
      `${r.recvOpBytesPerPacket.toFixed(2)} B; receive all-in ${r.recvBytesPerPacket.toFixed(2)} B, which is Node's ` +
      `libuv -> JS turn (${(r.recvBytesPerPacket * r.packetsPerWakeup).toFixed(0)} B per wakeup) spread over ${r.packetsPerWakeup.toFixed(2)} packets per wakeup` +
      `  (calibration: new Float64Array(4) measures ${r.allocCalibrationBytesPerOp.toFixed(1)} B)`,
    `  samples with a GC during them, excluded: receive ${r.recvSamplesExcluded} of ${r.recvSamples} wakeups, send ${r.sendBatchesExcluded} of ${r.sendBatches} batches`,
    targetsTable(r.targets),
  ].join('\n');
}

if (process.argv[2] === '--worker') {
  await worker(process.argv[3]!, Number(process.argv[4]));
} else if (process.argv[1] === SELF) {
  const r = await run();
  console.log(format(r));
}
