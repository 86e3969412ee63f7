// Reloads in a burst: 31 SIGHUPs straight to vigil lb, 20 ms apart, the file alternating between
// two weightings. Each reload syncs at once while the debounced syncs of the others run; at the
// end the kernel must hold the last config, every transaction taken.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { skipReason, nsExec } from '../net/netns.ts';
import { needTools } from '../helpers/tools.ts';
import { lbLab, spread, VIP, slotText } from './lab.ts';

const skip = skipReason() ?? needTools('nft', 'python3');

t.test('31 reloads in a burst: the last one wins, nothing refused', { skip, timeout: 60_000 }, async (t) => {
  const lab = lbLab(t, 'vtlbu6-', 'routed', 2);
  for (const s of lab.servers) await lab.backend(s.ns, 'http', s.addr, 8080, s.name);
  const config = (w: number) => [
    'virtualServers:',
    `  - { name: web, address: ${VIP}, port: 80, scheduler: wrr, realServers: [{ address: ${lab.servers[0].addr}, port: 8080, weight: ${w} }, { address: ${lab.servers[1].addr}, port: 8080, weight: 1 }] }`,
  ].join('\n') + '\n';
  const file = lab.work.file('storm.yaml', config(1));
  const vigil = lab.vigil(file);
  await vigil.waitLine(/load balancer: 1 virtual server\(s\), 2 real server\(s\) in table vigil, applied/, 20_000);
  const pid = vigil.child.pid!;
  const lb = Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)
    .find((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes('lb')));
  t.ok(lb > 0, `vigil lb is pid ${lb}`);
  const from = vigil.lines.length;
  for (let i = 0; i < 31; i++) {
    writeFileSync(file, config(i % 2 === 0 ? 3 : 1));
    process.kill(lb, 'SIGHUP');
    await new Promise((r) => setTimeout(r, 20));
  }
  // The last written: 3:1 (i = 30), not the 1:1 the service started with.
  await new Promise((r) => setTimeout(r, 1500));
  const refused = vigil.lines.slice(from).filter((l) => /refused|error/i.test(l));
  t.strictSame(refused.map((l) => JSON.parse(l).msg.slice(0, 200)), [], 'no transaction refused, no error');
  t.ok(vigil.lines.slice(from).some((l) => /load balancer: reloaded/.test(l)), 'reloaded');
  const slots = slotText(lab.director, 'web');
  const n = (id: string) => (slots.match(new RegExp(`goto rs-web-198_51_100_${id}-8080`, 'g')) ?? []).length;
  t.strictSame([n('11'), n('12')], [48, 16], `the kernel's slot map holds the last config, 3:1 (${n('11')} / ${n('12')})`);
  t.strictSame(spread(await lab.requests('http', VIP, 80, 64)), { r1: 48, r2: 16 }, 'traffic 48/16 over one turn of the table');
  t.equal(await vigil.stop(), 0);
});
