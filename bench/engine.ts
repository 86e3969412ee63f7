// The engine's state machine on its hot paths (host/agent/engine-state.ts), without sockets: JS
// heap bytes allocated per advert received by a backup (packetIp: the core's decode and FSM, the
// drain, the timer re-armed) and per advert sent by a master (timeout: the SEND command to the
// driver's sink), and the time per input. Target 0 B: a scavenge forced by allocation is a late
// advert (host/agent/engine-loop.ts).
//
// Measured as bench/core.ts does (total_allocated_bytes over 1,000,000 inputs, the least of three),
// with the time of the packets held still: a double that changes is a new HeapNumber at each step
// wherever V8 has not optimized the harness's loop, the harness's bytes, not the engine's.
import v8 from 'node:v8';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { EngineState, type Commands } from '../host/agent/engine-state.ts';
import { Core } from '../host/core/core.ts';
import { parseConfig } from '../host/config/load.ts';
import { toEngineSpec } from '../host/agent/spec.ts';
import { targetsTable, type Target } from './table.ts';

// 1,000,000: at ~90 ns an input, 100,000 were a 9 ms window, short enough for a compile the JIT
// finished in it to read as 1-9 B per input in 2 runs of 10 (0 of 8 with 1,000,000).
const N = 1_000_000;
const totalAllocated = () => (v8.getHeapStatistics() as v8.HeapInfo & { total_allocated_bytes: number }).total_allocated_bytes;

// Bytes allocated per input over N inputs, less the probe's own, the least of three tries (a
// compiler thread installing code mid-loop is not charged to the code measured); and ns per input.
function perInput(step: () => void): { bytesPerInput: number; nsPerInput: number } {
  for (let i = 0; i < 20_000; i++) step();   // warm-up: the JIT, the core's views
  let best = Infinity, ns = Infinity;
  for (let k = 0; k < 3; k++) {
    const e0 = totalAllocated(), e1 = totalAllocated();
    const a0 = totalAllocated();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) step();
    const t1 = process.hrtime.bigint();
    const a1 = totalAllocated();
    best = Math.min(best, Math.max(0, a1 - a0 - (e1 - e0)) / N);
    ns = Math.min(ns, Number(t1 - t0) / N);
  }
  return { bytesPerInput: best, nsPerInput: ns };
}

const sink: Commands = { send() {}, vips() {}, swapVips() {}, announce() {}, armTimer() {}, notify() {}, log() {} };
const yaml = (p: number) => `instances:\n  - { name: VI_1, interface: eth0, vrid: 51, priority: ${p}, advertInterval: 10ms, virtualAddresses: [192.0.2.100/24] }\n`;
const env = (source: string) => ({ ifindex: 1, ifname: 'eth0', mac: '02:00:00:00:00:01', source, linkFailing: false, tracksFailing: [], vmac: null });

// Each in a process of its own, as the engine is: one state, one core. Two in one process make
// the core's call sites polymorphic (two WebAssembly instances), and V8 then boxes the doubles
// that cross them, bytes of the harness's making.
function backupReceives() {
  const backup = new EngineState({ commands: sink, wallOffsetMs: 0 });
  const now = 1e9;
  backup.add(now, toEngineSpec(parseConfig(yaml(100), 'bench.yaml')).instances[0]!, -1, env('192.0.2.2'));
  backup.start(now, 'VI_1');
  const pkt = new Core().encode({ version: 3, family: 4, vrid: 51, priority: 150, advertInterval: 1, addresses: ['192.0.2.100'],
    source: '192.0.2.1', destination: '224.0.0.18', ipHeader: true });
  const inBuf = backup.core.inBuf;
  const r = perInput(() => { inBuf.set(pkt); backup.packetIp(now, 1, pkt.length); });
  if (backup.core.state(0) !== 'backup') throw new Error(`the backup is ${backup.core.state(0)}`);
  return r;
}

function masterSends() {
  const master = new EngineState({ commands: sink, wallOffsetMs: 0 });
  master.add(1e9, toEngineSpec(parseConfig(yaml(255), 'bench.yaml')).instances[0]!, -1, env('192.0.2.1'));
  master.start(1e9, 'VI_1');
  const core = master.core;
  const r = perInput(() => { master.timeout(core.pollTimeout()); });
  if (core.state(0) !== 'master') throw new Error(`the master is ${core.state(0)}`);
  return r;
}

const SELF = fileURLToPath(import.meta.url);
const inChild = (which: string) => JSON.parse(execFileSync(process.execPath, [SELF, '--one', which], { encoding: 'utf8' })) as ReturnType<typeof perInput>;

export async function run() {
  const received = inChild('received'), sent = inChild('sent');
  const targets: Target[] = [
    { name: 'engine state: JS heap bytes per advert received (backup)', target: '0 B', value: `${received.bytesPerInput.toFixed(2)} B`, met: received.bytesPerInput < 0.5 },
    { name: 'engine state: JS heap bytes per advert sent (master)', target: '0 B', value: `${sent.bytesPerInput.toFixed(2)} B`, met: sent.bytesPerInput < 0.5 },
  ];
  return { module: 'engine', received, sent, targets };
}

export function format(r: Awaited<ReturnType<typeof run>>): string {
  return [
    'engine state (host/agent/engine-state.ts), no sockets: per input, the least of 3 runs of 1,000,000',
    `  advert received (backup, packetIp): ${r.received.bytesPerInput.toFixed(2)} B, ${r.received.nsPerInput.toFixed(0)} ns`,
    `  advert sent (master, timeout -> SEND): ${r.sent.bytesPerInput.toFixed(2)} B, ${r.sent.nsPerInput.toFixed(0)} ns`,
    '',
    targetsTable(r.targets),
  ].join('\n');
}

if (import.meta.main) {
  if (process.argv[2] === '--one') console.log(JSON.stringify(process.argv[3] === 'sent' ? masterSends() : backupReceives()));
  else console.log(format(await run()));
}
