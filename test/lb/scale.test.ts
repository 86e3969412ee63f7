// 1,000 real servers on the real kernel: `vigil lb` applies them, and a reload that changes one
// weight applies a transaction of three commands (the one slot element, the modulus), read from
// its debug log and from the kernel's own table.
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { skipReason, nsExec } from '../net/netns.ts';
import { needTools } from '../helpers/tools.ts';
import { Proc, VIGIL, Workdir } from '../helpers/agents.ts';

const skip = skipReason() ?? needTools('nft');
const NS = 'vtlbs-d';

const config = (w500: number) => [
  'virtualServers:',
  '  - name: big', '    address: 192.0.2.100', '    port: 80', '    scheduler: wrr', '    realServers:',
  ...Array.from({ length: 1000 }, (_, i) => `      - { address: 198.51.100.${11 + (i % 200)}, port: ${10000 + i}, weight: ${i === 500 ? w500 : 1} }`),
  'status: false',
].join('\n') + '\n';

t.test('1,000 real servers apply; one weight changed is one element', { skip, timeout: 60_000 }, async (t) => {
  const work = new Workdir();
  try { execFileSync('ip', ['netns', 'del', NS], { stdio: 'ignore' }); } catch { /* none */ }
  execFileSync('ip', ['netns', 'add', NS]);
  const file = work.file('big.yaml', config(1));
  const lb = new Proc(spawn('ip', ['netns', 'exec', NS, VIGIL, 'lb', 'run', '-c', file, '--debug', '--log-json'], { stdio: ['pipe', 'pipe', 'pipe'] }));
  t.teardown(async () => { await lb.stop(); execFileSync('ip', ['netns', 'del', NS]); work.remove(); });
  const applied = JSON.parse(await lb.waitLine(/load balancer: 1 virtual server\(s\), 1000 real server\(s\)/, 30_000)) as { msg: string };
  t.comment(applied.msg);
  const slots = JSON.parse(nsExec(NS, 'nft', '-j', 'list', 'map', 'inet', 'vigil', 'marks-big')).nftables.find((o: { map?: unknown }) => o.map).map.elem;
  t.equal(slots.length, 1000, '1,000 slots in the kernel');

  // Real server 500's ct mark, as the kernel's rs-targets4 has it.
  const mark500 = /(0x[0-9a-f]{8}) : 198\.51\.100\.111 \. 10500/.exec(nsExec(NS, 'nft', 'list', 'map', 'inet', 'vigil', 'rs-targets4'))?.[1];
  t.ok(mark500, 'real server 500 has its mark');
  writeFileSync(file, config(2));
  const before = lb.lines.length;
  lb.signal('SIGHUP');
  await lb.waitLine(/load balancer: reloaded/, 10_000);
  const line = await new Promise<string>((resolve, reject) => {
    const end = Date.now() + 10_000;
    const poll = () => {
      const l = lb.lines.slice(before).find((x) => x.includes('transaction applied'));
      if (l) resolve(l); else if (Date.now() > end) reject(new Error('no transaction after the reload')); else setTimeout(poll, 20);
    };
    poll();
  });
  const tx = (JSON.parse(line) as { transaction: string; msg: string });
  t.comment(tx.msg);
  t.strictSame(tx.transaction.trim().split('\n'), [
    'flush chain inet vigil vs-big',
    'add rule inet vigil vs-big ct mark set numgen inc mod 1001 map @marks-big',
    'add rule inet vigil vs-big meta l4proto tcp dnat ip to ct mark map @rs-targets4',
    `add element inet vigil marks-big { 1000 : ${mark500} }`,
  ], 'the transaction: one element (the mark of the server whose weight grew) and the modulus');
  const after = JSON.parse(nsExec(NS, 'nft', '-j', 'list', 'map', 'inet', 'vigil', 'marks-big')).nftables.find((o: { map?: unknown }) => o.map).map.elem;
  t.equal(after.length, 1001, 'the kernel has it');
  t.match(nsExec(NS, 'nft', 'list', 'chain', 'inet', 'vigil', 'vs-big'), /numgen inc mod 1001 map @marks-big/);
  t.notMatch(nsExec(NS, 'nft', 'list', 'table', 'inet', 'vigil'), /chain rs-/, 'no chain per real server');
});
