// Reloads that reshape a service, each applied as a diff against the running table (never a
// rebuild): a rename, a new port, persistence added / changed / removed, tcp to udp, an
// address to a fwmark, NAT to DR and back, the table renamed and back, no virtual server at
// all and back. Each transaction must be taken by the kernel, and the NAT shapes carry traffic
// right after.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { skipReason, nsExec } from '../net/netns.ts';
import { needTools } from '../helpers/tools.ts';
import { until } from '../helpers/agents.ts';
import { lbLab, spread, VIP } from './lab.ts';

const skip = skipReason() ?? needTools('nft', 'python3');

t.test('reloads that reshape a service: each one a transaction the kernel takes', { skip, timeout: 90_000 }, async (t) => {
  const lab = lbLab(t, 'vtlbs-', 'routed', 2);
  for (const s of lab.servers) await lab.backend(s.ns, 'http', s.addr, 8080, s.name);
  const rs = (port = ', port: 8080') => `[${lab.servers.map((s) => `{ address: ${s.addr}${port} }`).join(', ')}]`;
  const vs = (extra: string) => `virtualServers:\n  - { ${extra}, realServers: ${extra.includes('fwmark') || extra.includes('forwarding: dr') ? rs('') : rs()} }\n`;
  const file = lab.work.file('reshape.yaml', vs(`name: web, address: ${VIP}, port: 80, scheduler: rr`));
  const vigil = lab.vigil(file);
  await vigil.waitLine(/load balancer: 1 virtual server\(s\), 2 real server\(s\) in table vigil, applied/, 20_000);
  const tables = () => nsExec(lab.director, 'nft', 'list', 'tables');
  t.strictSame(spread(await lab.requests('http', VIP, 80, 4)), { r1: 2, r2: 2 }, 'rr before any reload');

  const steps: [what: string, config: string, traffic: [port: number, want: Record<string, number> | 'one'] | null][] = [
    ['renamed', vs(`name: www, address: ${VIP}, port: 80, scheduler: rr`), [80, { r1: 2, r2: 2 }]],
    ['a new port', vs(`name: www, address: ${VIP}, port: 81, scheduler: rr`), [81, { r1: 2, r2: 2 }]],
    ['persistence added', vs(`name: www, address: ${VIP}, port: 81, scheduler: rr, persistence: { timeout: 5s }`), [81, 'one']],
    ['persistence /24, 10 s', vs(`name: www, address: ${VIP}, port: 81, scheduler: rr, persistence: { timeout: 10s, netmask: 255.255.255.0 }`), [81, 'one']],
    ['persistence removed', vs(`name: www, address: ${VIP}, port: 81, scheduler: rr`), [81, { r1: 2, r2: 2 }]],
    ['sh', vs(`name: www, address: ${VIP}, port: 81, scheduler: sh`), [81, 'one']],
    ['mh', vs(`name: www, address: ${VIP}, port: 81, scheduler: mh`), [81, 'one']],
    ['udp', vs(`name: www, address: ${VIP}, port: 81, protocol: udp, scheduler: rr`), null],
    ['a fwmark', vs('name: www, fwmark: 5, scheduler: rr'), null],
    ['direct routing', vs(`name: www, address: ${VIP}, port: 8080, forwarding: dr, interface: eth0, scheduler: wrr`), null],
    ['NAT again', vs(`name: web, address: ${VIP}, port: 80, scheduler: rr`), [80, { r1: 2, r2: 2 }]],
    ['two services', vs(`name: web, address: ${VIP}, port: 80, scheduler: rr`) + vs(`name: web2, address: ${VIP}, port: 82, scheduler: wrr`).replace('virtualServers:\n', ''), [82, { r1: 2, r2: 2 }]],
    ['the table renamed', vs(`name: web, address: ${VIP}, port: 80, scheduler: rr`) + 'loadBalancer: { table: vigil2 }\n', [80, { r1: 2, r2: 2 }]],
    ['and back', vs(`name: web, address: ${VIP}, port: 80, scheduler: rr`), [80, { r1: 2, r2: 2 }]],
  ];
  for (const [what, config, traffic] of steps) {
    writeFileSync(file, config);
    const from = vigil.lines.length;
    vigil.signal('SIGHUP');
    await until(() => vigil.lines.slice(from).some((l) => /load balancer: reloaded|transaction was refused|reload refused/.test(l)), 10_000, `the reload (${what})`, 20).catch(() => {});
    const said = vigil.lines.slice(from).filter((l) => /load balancer: reloaded|refused/.test(l)).map((l) => JSON.parse(l).msg + (JSON.parse(l).detail ? ` ${JSON.parse(l).detail}` : ''));
    t.ok(said.length === 1 && /reloaded/.test(said[0]), `${what}: ${said.join(' | ').slice(0, 600) || 'nothing said'}`);
    if (traffic) {
      const raw = await lab.requests('http', VIP, traffic[0], 4);
      const a = spread(raw);
      if (a.ERR) { console.error(raw[0].body); console.error(nsExec(lab.director, 'nft', 'list', 'table', 'inet', 'vigil')); }
      if (traffic[1] === 'one') t.ok(Object.keys(a).length === 1 && !a.ERR, `${what}: 4 connections to port ${traffic[0]}, one real server: ${JSON.stringify(a)}`);
      else t.strictSame(a, traffic[1], `${what}: 4 connections to port ${traffic[0]}: ${JSON.stringify(a)}`);
    }
    t.equal(tables().includes('table netdev vigil'), what === 'direct routing', `${what}: a netdev table only while a service is DR`);
    const inet = tables().split('\n').filter((l) => l.startsWith('table inet vigil'));
    t.strictSame(inet, [what === 'the table renamed' ? 'table inet vigil2' : 'table inet vigil'], `${what}: one inet table of vigil's: ${inet.join(', ')}`);
  }

  // No virtual server: vigil lb stops and the table goes; back: a new table.
  writeFileSync(file, 'virtualServers: []\n');
  vigil.signal('SIGHUP');
  await until(() => !tables().includes('vigil'), 10_000, 'the table removed', 50).then(() => t.pass('no virtual server: the table removed'), (e) => t.fail(String(e)));
  writeFileSync(file, vs(`name: web, address: ${VIP}, port: 80, scheduler: rr`));
  const from = vigil.lines.length;
  vigil.signal('SIGHUP');
  await until(() => vigil.lines.slice(from).some((l) => /load balancer: 1 virtual server\(s\)/.test(l)), 10_000, 'vigil lb again', 20).catch((e) => { console.error(vigil.lines.slice(from - 15).join('\n')); throw e; });
  t.strictSame(spread(await lab.requests('http', VIP, 80, 4)), { r1: 2, r2: 2 }, 'a virtual server again: vigil lb back, traffic');
  t.equal(await vigil.stop(), 0);
});
