// vigil's own load-balancer reconciler (host/lb/reconciler.ts) timed against the kernel, run by
// bench/lb-apply.ts inside a namespace of its own:
//   - a full apply of N real servers (the first sync: the table replaced in one transaction):
//     wall time, of which nft, and this process's RSS (Node + the reconciler; `vigil lb` is
//     the same code in a process of its own);
//   - a check's down verdict to the transaction applied (the reconciler's debounce included),
//     and the up verdict back, alternating, p50/p99.
//   node bench/lb-reconcile.ts N ROUNDS      prints one JSON line (root, in a scratch namespace)
import { parseConfig } from '../host/config/load.ts';
import { Reconciler, type LbIo } from '../host/lb/reconciler.ts';
import { applyTransaction } from '../host/lb/nft.ts';
import type { CheckReport } from '../host/checks/protocol.ts';
import { quantile } from './lab.ts';

export interface ReconcileFigures {
  servers: number;
  fullApplyMs: number; fullApplyNftMs: number; fullApplyBytes: number;
  rssMB: number; maxRssMB: number;
  downToApplied: { p50: number; p99: number; n: number };
  /** of which nft -f (spawn, parse, commit): the rest is the reconciler's own work and the 5 ms debounce */
  downNft: { p50: number; p99: number; n: number };
  upToApplied: { p50: number; p99: number; n: number };
  downTxBytes: number;
}

/** One NAT virtual server with `n` real servers on 198.51.100.11, ports 1000..; the first has a check. */
export function configText(n: number): string {
  const rs = Array.from({ length: n }, (_, i) => `      - { address: 198.51.100.11, port: ${1000 + i}, weight: 1${i === 0 ? ', check: c0' : ''} }`);
  return ['checks:', '  - { name: c0, type: tcp, target: "198.51.100.11:1000" }',
    'virtualServers:', '  - name: web', '    address: 192.0.2.100', '    port: 80', '    scheduler: wrr', '    forwarding: nat',
    '    realServers:', ...rs].join('\n') + '\n';
}

const verdict = (up: boolean): CheckReport => ({ check: 'c0', up, settled: true, error: up ? null : 'refused', latencyMs: 1, transitions: 1, rounds: 3, failures: up ? 0 : 3 });

export async function measure(n: number, rounds: number): Promise<ReconcileFigures> {
  const quiet = () => {};
  let nftMs = 0, lastBytes = 0;
  let onApplied: (() => void) | undefined;
  const io: LbIo = {
    apply: async (text) => {
      const r = await applyTransaction(text);
      nftMs = r.ms;
      lastBytes = text.length;
      onApplied?.();
    },
    flushConntrack: async () => 0,
    egress: async () => undefined,
    runHook: () => {},
    now: () => performance.now(),
    log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
  };
  const config = parseConfig(configText(n), 'bench.yaml');
  const rec = new Reconciler(config, io);
  const t0 = performance.now();
  if (!(await rec.syncNow())) throw new Error(`the first apply of ${n} real servers failed: ${rec.lastError}`);
  const fullApplyMs = performance.now() - t0;
  const fullApplyNftMs = nftMs, fullApplyBytes = lastBytes;
  const rssMB = process.memoryUsage().rss / 2 ** 20;
  const down: number[] = [], up: number[] = [], downNft: number[] = [];
  let downTxBytes = 0;
  for (let i = 0; i < rounds; i++) {
    for (const v of [false, true]) {
      const applied = new Promise<void>((r) => { onApplied = r; });
      const s = performance.now();
      rec.report(verdict(v));
      await applied;
      (v ? up : down).push(performance.now() - s);
      if (!v) { downTxBytes = lastBytes; downNft.push(nftMs); }
    }
  }
  rec.stop();
  const q = (xs: number[]) => ({ p50: quantile(xs, 0.5), p99: quantile(xs, 0.99), n: xs.length });
  return { servers: n, fullApplyMs, fullApplyNftMs, fullApplyBytes, rssMB, maxRssMB: process.resourceUsage().maxRSS / 1024,
    downToApplied: q(down), downNft: q(downNft), upToApplied: q(up), downTxBytes };
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const n = Number(process.argv[2]);
  const rounds = Number(process.argv[3] ?? 30);
  process.stdout.write(JSON.stringify(await measure(n, rounds)) + '\n');
}
