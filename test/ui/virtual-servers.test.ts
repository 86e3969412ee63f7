// The status page's virtual servers with counters that move at a known rate, and a page of a few
// hundred rows, against a real agent. `vigil lb` hands its state to the status server as a file
// the server splices into /status unparsed (host/lb/status-file.ts); this test writes that file
// itself, the way `vigil lb` does (writeLbStatus), so the rates (500 packets/s) and the 300 real
// servers are exactly known; the page reads them through the agent's own /status. A real
// `vigil lb` behind the page: test/ui/page.test.ts. It also measures the engine's RSS while a
// page polls it.
import t from 'tap';
import { readFileSync, readlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { skipReason, nsExec } from '../net/netns.ts';
import { lab, until } from '../helpers/agents.ts';
import { needTools } from '../helpers/tools.ts';
import { Browser, CHROMIUM } from './browser.ts';
import { buildPage } from '../../host/ui/build.ts';
import { removeLbStatus, writeLbStatus } from '../../host/lb/status-file.ts';

const skip = skipReason() ?? needTools(CHROMIUM, 'curl');
const OUT = join(import.meta.dirname, 'output');
const PORT = 9110;

const rssMB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface RS { address: string; port: number; weight: number; effectiveWeight: number; up: boolean; since: string; check: string | null; activeConnections: number; packets: number; bytes: number }
function vs(name: string, address: string, rss: RS[], quorumNeeded = 1) {
  const healthy = rss.filter((r) => r.up).length;
  return { name, address, port: 80, fwmark: null, protocol: 'tcp', scheduler: 'wrr', forwarding: 'nat',
    quorum: { up: healthy >= quorumNeeded, needed: quorumNeeded, healthy, since: new Date(Date.now() - 60_000).toISOString(), sorry: false },
    realServers: rss };
}
const rs = (i: number, up = true, packets = 0): RS => ({ address: `198.51.100.${10 + (i % 200)}`, port: 8000 + Math.floor(i / 200), weight: 1 + (i % 3), effectiveWeight: up ? 1 + (i % 3) : 0,
  up, since: new Date(Date.now() - 3_600_000).toISOString(), check: `web${i}`, activeConnections: i % 7, packets, bytes: packets * 800 });

t.test('virtual servers and their real servers, live, and a page of 300 rows', { skip }, async (t) => {
  mkdirSync(OUT, { recursive: true });
  await buildPage();
  const l = lab(t, 'vuv-', ['a']);
  const [a] = l.hosts;
  const pa = l.vigil(a, 'a.yaml', { priority: 150, interval: '100ms', statusPort: PORT });
  await pa.waitLine(/status on http/, 10_000);
  const st = JSON.parse(nsExec(a.ns, 'curl', '-sf', `http://127.0.0.1:${PORT}/status`));
  const engine = st.pid as number;
  // Where the status server of this agent reads `vigil lb`'s file: its namespace and its port.
  const nsId = /\[(\d+)\]/.exec(readlinkSync(`/proc/${engine}/ns/net`))![1];
  const base = join('/run/vigil', `lb-${nsId}-${PORT}`);
  t.teardown(() => removeLbStatus(base));
  const write = (list: unknown[]) => writeLbStatus(base, JSON.stringify(list), '');

  // The engine's RSS: a control window with nobody looking, then the same time with the page open.
  const rss0 = rssMB(engine);
  await sleep(8000);
  const rssControl = rssMB(engine);

  let packets = 1000;
  const two = () => [vs('web', '192.0.2.100', [rs(0, true, packets), rs(1, true, packets * 2)]), vs('api', '192.0.2.101', [rs(2, false)])];
  write(two());
  const b = await Browser.launch(a.ns);
  t.teardown(() => b.close());
  await b.goto(`http://127.0.0.1:${PORT}/`);
  await b.until(`document.querySelectorAll('#vs .vs').length === 2`, 5000, 'two virtual servers');
  // The counters move: 500 packets/s for the first real server (1000 every 2 s).
  for (let i = 0; i < 3; i++) { await sleep(2000); packets += 1000; write(two()); }
  await b.until(`document.querySelector('#vs .vs tr[data-key="198.51.100.10:8000"] td:nth-child(6)').textContent !== '–'`, 3000, 'a packet rate');
  const web = await b.eval<{ quorum: string; rows: { key: string; text: string; red: boolean }[]; bad: boolean }[]>(`[...document.querySelectorAll('#vs .vs')].map((v) => ({
    quorum: v.querySelector('.vs-head .badge').textContent, bad: v.classList.contains('bad'),
    rows: [...v.querySelectorAll('tbody tr')].map((r) => ({ key: r.dataset.key, text: r.innerText, red: r.classList.contains('bad') })) }))`);
  t.equal(web.length, 2);
  const [api, w] = web[0].rows.length === 1 ? web : [web[1], web[0]];
  t.match(w.quorum, /quorum up 2\/1/, 'web: quorum up, 2 healthy of 1 needed');
  t.equal(w.rows.length, 2);
  t.notOk(w.rows[0].red, 'an up real server is not red');
  const cells = w.rows[0].text.split('\t');
  t.match(cells[1], /up/);
  t.match(cells[3], /1 h 0 m ago|60 m/, 'up since an hour ago');
  const pps = Number(cells[5]);
  // Over the 6 s of changes the page saw, a poll's 500 ms of lateness is under 10 %.
  t.ok(pps > 420 && pps < 580, `packets per second from the counters the page saw: ${cells[5]} (500 written)`);
  t.match(cells[6], /kB/, `bytes per second: ${cells[6]}`);
  t.match(api.quorum, /quorum down 0\/1/);
  t.ok(api.bad && api.rows[0].red, 'api: quorum down, its real server red');
  t.match(api.rows[0].text, /0 \/ 2|0 \/ 3|0 \/ 1/, 'effective weight 0 against configured');
  writeFileSync(join(OUT, 'virtual-servers.png'), await b.screenshot());

  // Engine RSS with the page polling (about 24 requests of /status and 1 of the page so far).
  await sleep(Math.max(0, 8000 - 6000));
  const rssPage = rssMB(engine);
  t.comment(`engine RSS: ${rss0.toFixed(1)} MB at start, ${rssControl.toFixed(1)} MB after 8 s unwatched (control), ${rssPage.toFixed(1)} MB after 8 s with the page polling`);
  // Most of it is V8's heap for serving /status twice a second (an agent polled by curl at the
  // same rate, never asked for the page, grows as much); the page itself is one 21 kB read.
  // And once, ~5 MB: the core's functions /status calls reach TurboFan here (the engine's
  // --wasm-tiering-budget, host/agent/boot.ts): 4.4 MB more without that flag, 9.7-11.5 with.
  t.ok(rssPage - rssControl < 12, `the engine's RSS with the page polling: ${(rssPage - rssControl).toFixed(1)} MB more than unwatched (control drift ${(rssControl - rss0).toFixed(1)} MB)`);

  // A few hundred rows: 300 real servers in one virtual server, 30 of them down; filter and sort.
  const many = Array.from({ length: 300 }, (_, i) => rs(i, i % 10 !== 3, i * 10));
  write([vs('big', '192.0.2.110', many, 250)]);
  await b.until(`document.querySelectorAll('#vs tbody tr').length === 300`, 5000, '300 rows');
  await sleep(1500);
  const renderMs = Number(await b.eval<string>('document.body.dataset.renderMs'));
  t.ok(renderMs < 100, `a render of 300 rows takes ${renderMs} ms (polls every 500 ms)`);
  await b.eval(`(() => { const s = document.querySelector('#sort'); s.value = 'state'; s.dispatchEvent(new Event('change')); })()`);
  const first = await b.eval<string[]>(`[...document.querySelectorAll('#vs tbody tr')].slice(0, 30).map((r) => r.cells[1].textContent)`);
  t.same(new Set(first), new Set(['down']), 'sorted by state: the 30 down real servers first');
  await b.eval(`(() => { const f = document.querySelector('#filter'); f.value = '198.51.100.13:'; f.dispatchEvent(new Event('input')); })()`);
  const shown = await b.eval<number>(`[...document.querySelectorAll('#vs tbody tr')].filter((r) => !r.hidden).length`);
  t.equal(shown, 2, 'the filter leaves the two real servers on 198.51.100.13 (ports 8000 and 8001)');

  // A virtual server the page cannot read (no quorum: a /status of another version): its
  // section says so, and the instances stay live.
  write([{ name: 'odd', address: '192.0.2.120', port: 80, realServers: [] }]);
  await b.until(`document.querySelector('#n-vs').textContent.startsWith('not shown:')`, 3000, 'the section to say it cannot show it');
  t.match(await b.eval<string>(`document.querySelector('#n-vs').textContent`), /^not shown: \S/, 'with the reason');
  t.equal(await b.eval<string>(`document.querySelector('#conn').className`), 'conn ok', 'the page still live');
  t.equal(await b.eval<number>(`document.querySelectorAll('#instances tbody tr').length`), 1, 'the instance still shown');
  await until(() => true, 1, 'noop');
});
