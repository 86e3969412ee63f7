// bench/lb.ts's rules from vigil's own data plane (host/lb/): the virtual server written as a
// config, its first transaction taken from the reconciler (the table replaced whole, as at a
// start), so the benchmark measures the rules vigil applies, not a hand-written stand-in
// (bench/lb-rules.ts, VIGIL_LB_RULES=hand).
import { parseConfig } from '../host/config/load.ts';
import { Reconciler, type LbIo } from '../host/lb/reconciler.ts';
import type { BenchService } from './lb-rules.ts';

export async function vigilRules(table: string, services: BenchService[]): Promise<string> {
  const text = ['virtualServers:', ...services.flatMap((s, i) => [`  - name: bench${i}`, `    address: ${s.vip}`, `    port: ${s.port}`, '    scheduler: rr',
    `    forwarding: ${s.forwarding}`, ...(s.forwarding === 'dr' ? [`    interface: ${s.ingress}`] : []), '    realServers:',
    ...s.realServers.map((r) => `      - { address: ${r.address}, port: ${r.port} }`)]),
    `loadBalancer: { table: ${table} }`].join('\n') + '\n';
  const egress = new Map(services.map((s) => [s.forwarding, s.egress]));
  let applied = '';
  const quiet = () => {};
  const io: LbIo = {
    apply: async (x) => { applied += x; }, flushConntrack: async () => 0, egress: async () => egress.get('dr'),
    runHook: () => {}, now: () => performance.now(), log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
  };
  const rec = new Reconciler(parseConfig(text, 'bench-lb.yaml'), io);
  if (!(await rec.syncNow())) throw new Error(`vigil's reconciler refused the bench's virtual server: ${rec.lastError}`);
  rec.stop();
  return applied;
}
