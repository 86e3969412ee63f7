// The status page (GET / on the status listener) in a real browser against a real agent:
// headless Chromium, inside the agent's namespace, driven over the DevTools protocol
// (test/ui/browser.ts). Agent A has two instances and three checks (http, tcp, icmp) on
// backends in C, and a virtual server over two of them (`vigil lb`, NAT); B is a peer for A's
// first instance. What a person sees is asserted: the rows
// and their states; a check going down turning its row red within a second, without a reload;
// a failover in the instance's timeline with its reason. Screenshots of the normal and the
// degraded page go to test/ui/output/ (and, with VIGIL_UI_DOCS=1, the one with a check down to
// docs/status-page.png, the README's).
import t from 'tap';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { skipReason, nsExec } from '../net/netns.ts';
import { lab, until, holders, type Proc } from '../helpers/agents.ts';
import { needTools } from '../helpers/tools.ts';
import { startBackend } from '../checks/helpers.ts';
import { Browser, CHROMIUM } from './browser.ts';
import { buildPage } from '../../host/ui/build.ts';

const skip = skipReason() ?? needTools(CHROMIUM, 'python3', 'curl', 'nft', 'conntrack');
const OUT = join(import.meta.dirname, 'output');
const DOCS = join(import.meta.dirname, '..', '..', 'docs');
const VIP1 = '192.0.2.100', VIP2 = '192.0.2.101';

// Rows as a person reads them: name, state badge, whether the row is red, the timeline's text.
const ROWS = `(sel) => [...document.querySelectorAll(sel + ' tbody tr')].filter((r) => !r.hidden).map((r) => ({
  name: r.querySelector('.strong')?.textContent, state: r.querySelector('.badge')?.textContent,
  red: r.classList.contains('bad') && getComputedStyle(r.cells[1]).backgroundColor !== 'rgba(0, 0, 0, 0)',
  text: r.innerText }))`;
type RowView = { name: string; state: string; red: boolean; text: string };
const rows = (b: Browser, sel: string) => b.eval<RowView[]>(`(${ROWS})(${JSON.stringify(sel)})`);
const row = async (b: Browser, sel: string, name: string) => (await rows(b, sel)).find((r) => r.name === name);
const isRed = (sel: string, name: string) => `(${ROWS})(${JSON.stringify(sel)}).find((r) => r.name === ${JSON.stringify(name)})?.red`;

t.test('the status page shows instances, checks and failovers live', { skip }, async (t) => {
  mkdirSync(OUT, { recursive: true });
  const built = await buildPage();
  t.ok(built.bytes < 100_000, `the page is ${built.bytes} bytes, under 100 kB`);

  const l = lab(t, 'vui-', ['a', 'b', 'c']);
  const [a, b, c] = l.hosts;
  const backends: Proc[] = [];
  t.teardown(async () => { await Promise.all(backends.map((p) => p.stop())); });
  const web = await startBackend(c.ns, 'http', c.v4, '8080', 'healthy');
  const api = await startBackend(c.ns, 'tcp', c.v4, '8081', 'hello');
  backends.push(web, api);

  const checks = [
    'checks:',
    `  - { name: web, type: http, target: "http://${c.v4}:8080/health", interval: 200ms, timeout: 190ms, rise: 2, fall: 2 }`,
    `  - { name: api, type: tcp, target: "${c.v4}:8081", interval: 200ms, timeout: 190ms, rise: 2, fall: 2 }`,
    `  - { name: gateway, type: icmp, target: ${c.v4}, interval: 200ms, timeout: 150ms, rise: 1, fall: 3 }`,
  ];
  const cfgA = [
    'instances:',
    '  - { name: VI_web, interface: eth0, vrid: 51, priority: 150, advertInterval: 50ms,',
    `      virtualAddresses: [${VIP1}/24], track: { checks: [{ name: web, weight: -60 }] } }`,
    '  - { name: VI_api, interface: eth0, vrid: 52, priority: 120, advertInterval: 50ms,',
    `      virtualAddresses: [${VIP2}/24], track: { checks: [{ name: api, weight: 0 }] } }`,
    ...checks,
    'virtualServers:',
    `  - { name: shop, address: ${VIP1}, port: 80, protocol: tcp, scheduler: wrr, forwarding: nat, quorum: 2,`,
    `      realServers: [{ address: ${c.v4}, port: 8080, weight: 3, check: web }, { address: ${c.v4}, port: 8081, weight: 1, check: api }] }`,
    'status: { listen: 127.0.0.1:9110, target: 99.99 }',
    'realtime: { priority: 50 }',
  ].join('\n') + '\n';
  const pa = l.vigilFile(a, l.work.file('a.yaml', cfgA));
  const pb = l.vigil(b, 'b.yaml', { name: 'VI_web', vrid: 51, priority: 100, interval: '50ms', vips: [`${VIP1}/24`] });
  await pa.waitLine(/check web: up/, 15_000);
  await pa.waitLine(/check api: up/, 15_000);
  await until(() => holders([a.ns], VIP1).length === 1 && holders([a.ns], VIP2).length === 1, 5000, 'A to hold both VIPs', 20);
  await pb.waitLine(/"to":"backup"/, 5000);

  // The virtual server over the two backends: `vigil lb` has applied it, and /status shows it.
  await pa.waitLine(/load balancer: 1 virtual server\(s\), 2 real server\(s\)/, 20_000);

  // The page as the agent serves it: one HTML file, no other request but /status.
  const head = nsExec(a.ns, 'curl', '-sS', '-D', '-', '-o', '/dev/null', 'http://127.0.0.1:9110/');
  t.match(head, /^HTTP\/1\.1 200/);
  t.match(head, /content-type: text\/html; charset=utf-8/i);

  const browser = await Browser.launch(a.ns);
  t.teardown(() => browser.close());
  await browser.goto('http://127.0.0.1:9110/');
  await browser.until(`document.querySelectorAll('#checks tbody tr').length === 3`, 5000, 'three check rows');
  // Both instances master, and A (192.0.2.10) VI_web's master: B may hold it for a moment at the
  // start, before A's web check has risen.
  await browser.until(`[...document.querySelectorAll('#instances .badge')].filter((b) => b.textContent === 'master').length >= 2
    && document.querySelector('#instances tr[data-key="VI_web"] td:nth-child(4)').textContent === '192.0.2.10'`, 5000, 'both instances master');
  await browser.eval('window.__sameDocument = true');

  const inst = await rows(browser, '#instances');
  t.same(inst.map((r) => [r.name, r.state, r.red]), [['VI_api', 'master', false], ['VI_web', 'master', false]], 'two instances, both master, none red');
  await browser.until(`document.querySelectorAll('#vs tbody tr').length === 2`, 3000, 'the virtual server\'s two real servers');
  const vw = inst.find((r) => r.name === 'VI_web')!;
  t.match(vw.text, /192\.0\.2\.10\b/, 'the master\'s address (A\'s own)');
  t.match(vw.text, /150/, 'its priority');
  t.match(vw.text, /of 4 m 2\d s/, 'the month\'s budget at 99.99 % (4 m 2x s in a 28..31-day month)');
  t.match(vw.text, /nines/, 'availability in nines');
  t.match(vw.text, /backup\s*→\s*master/, 'its first transition in the timeline');
  const chk = await rows(browser, '#checks');
  t.same(chk.map((r) => [r.name, r.state, r.red]), [['api', 'up', false], ['gateway', 'up', false], ['web', 'up', false]], 'three checks, all up');
  t.match(chk.find((r) => r.name === 'web')!.text, /VI_web/, 'tracked by VI_web');
  t.match(chk.find((r) => r.name === 'gateway')!.text, /passing, down after 3 failed/, 'rise/fall progress (icmp: fall 3)');
  // Latency samples accumulate in the page: the sparkline draws a line once it has two.
  await browser.until(`document.querySelector('#checks tr[data-key="web"] polyline').getAttribute('points').split(' ').length >= 3`, 5000, 'a latency sparkline');
  t.equal(await browser.eval('document.querySelector("#conn").className'), 'conn ok', 'the page says it is live');
  writeFileSync(join(OUT, 'normal.png'), await browser.screenshot());

  // The TCP backend dies: the engine hears it (fall 2 x 200 ms), and the page turns the row red
  // within a second of that, in the same document.
  await api.stop();
  await pa.waitLine(/check api: down/, 5000);
  const known = performance.now();
  await browser.until(isRed('#checks', 'api'), 2000, 'the api row to turn red');
  const redMs = performance.now() - known;
  t.ok(redMs < 1000, `api's row red ${redMs.toFixed(0)} ms after the engine logged it down (under 1 s)`);
  const apiRow = (await row(browser, '#checks', 'api'))!;
  t.equal(apiRow.state, 'down');
  t.match(apiRow.text, /ECONNREFUSED/, 'the last error with its code');
  await browser.until(`document.querySelector('#checks tr[data-key="api"]').innerText.includes('up after 2 passed')`, 3000, 'api\'s rise progress');
  // Weight 0: VI_api goes to FAULT, its row red too.
  await browser.until(isRed('#instances', 'VI_api'), 3000, 'VI_api in fault, red');
  t.equal((await row(browser, '#instances', 'VI_api'))!.state, 'fault');
  // The load balancer takes api's real server out, and the virtual server loses its quorum of 2.
  await browser.until(`document.querySelector('#vs .vs.bad') && document.querySelector('#vs tr[data-key="${c.v4}:8081"]').classList.contains('bad')`, 3000, 'the virtual server without quorum');
  t.match(await browser.eval<string>(`document.querySelector('#vs .vs').innerText`), /quorum down 1\/2/, 'the virtual server\'s quorum down, 1 of 2');
  t.match(await browser.eval<string>(`document.querySelector('#vs tr[data-key="${c.v4}:8081"]').innerText`), /down\s+0 \/ 1/, 'its real server down, weight 0 of 1');
  writeFileSync(join(OUT, 'check-down.png'), await browser.screenshot());
  if (process.env.VIGIL_UI_DOCS === '1') { mkdirSync(DOCS, { recursive: true }); copyFileSync(join(OUT, 'check-down.png'), join(DOCS, 'status-page.png')); }

  // The web backend dies: VI_web's priority drops to 90 and B (100) preempts: a failover, in
  // the timeline with its reason.
  await web.stop();
  await pa.waitLine(/VI_web: master -> backup/, 5000);
  await browser.until(`document.querySelector('#instances tr[data-key="VI_web"] .events li')?.innerText.includes('backup')
    && /master\\s*→\\s*backup/.test(document.querySelector('#instances tr[data-key="VI_web"] .events li').innerText)`, 2000, 'the failover in the timeline');
  const failover = await browser.eval<string>(`document.querySelector('#instances tr[data-key="VI_web"] .events li').innerText`);
  t.match(failover, /advert with higher priority/, `the failover with its reason: ${failover.replace(/\s+/g, ' ')}`);
  const vweb = (await row(browser, '#instances', 'VI_web'))!;
  t.equal(vweb.state, 'backup');
  t.match(vweb.text, /90 \/ 150/, 'effective against configured priority');
  t.match(vweb.text, new RegExp(`${b.v4.replace(/\./g, '\\.')}\\b`), 'the new master\'s address (B)');
  t.equal(await browser.eval('window.__sameDocument'), true, 'all of it without a reload');

  // Filter and sort, as a person uses them with many rows.
  await browser.eval(`(() => { const f = document.querySelector('#filter'); f.value = 'down'; f.dispatchEvent(new Event('input')); })()`);
  t.same((await rows(browser, '#checks')).map((r) => r.name), ['api', 'web'], 'the filter "down" leaves the down checks');
  await browser.eval(`(() => { const f = document.querySelector('#filter'); f.value = ''; f.dispatchEvent(new Event('input'));
    const s = document.querySelector('#sort'); s.value = 'state'; s.dispatchEvent(new Event('change')); })()`);
  t.same((await rows(browser, '#checks')).map((r) => r.name), ['api', 'web', 'gateway'], 'sorted by state: down first');
  t.same((await rows(browser, '#instances')).map((r) => r.name), ['VI_api', 'VI_web'], 'fault before backup');
  await browser.until(`document.querySelector('#vs .vs .vs-head').innerText.includes('quorum down 0/2')`, 3000, 'no real server left: quorum down, 0 of 2');
  const png = await browser.screenshot();
  writeFileSync(join(OUT, 'degraded.png'), png);
  t.pass(`screenshots in ${OUT} (normal.png, check-down.png, degraded.png)`);

  // A click on an instance lists all its transitions (the engine keeps 100), not the last 3.
  const items = `document.querySelectorAll('#instances tr[data-key="VI_web"] .events li:not(.more)').length`;
  const total = (JSON.parse(nsExec(a.ns, 'curl', '-sf', 'http://127.0.0.1:9110/status')).instances as { name: string; transitions: unknown[] }[])
    .find((i) => i.name === 'VI_web')!.transitions.length;
  t.equal(await browser.eval<number>(items), 3, `the last 3 of ${total} transitions`);
  await browser.eval(`document.querySelector('#instances tr[data-key="VI_web"]').click()`);
  t.equal(await browser.eval<number>(items), total, `all ${total} after a click`);
  await browser.eval(`document.querySelector('#instances tr[data-key="VI_web"]').click()`);
  t.equal(await browser.eval<number>(items), 3, 'and the last 3 again after another');

  // The agent stops: the page says so, and keeps the last state it had.
  await pa.stop();
  await browser.until(`document.querySelector('#conn').className === 'conn lost'`, 5000, 'the page to say the agent is gone');
  t.match(await browser.eval<string>(`document.querySelector('#conn').textContent`), /no answer from the agent since/);
  t.equal((await rows(browser, '#instances')).length, 2, 'the last state stays on the page');
});
