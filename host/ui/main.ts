// vigil's status page (GET / on the status listener): polls /status, the JSON the agent already
// serves, and renders it in place. No framework: a few keyed tables (dom.ts). Read-only.
import { el, text, cls } from './dom.ts';
import { matches, stateRank, type Status } from './model.ts';
import { instancesTable } from './instances.ts';
import { checksTable } from './checks.ts';
import { virtualServers } from './virtual-servers.ts';

// 500 ms: a change shows within a second (the poll, plus the engine's answer of a few ms).
// A hidden tab polls every 5 s: the engine answers /status on its own thread.
const EVERY_MS = 500, HIDDEN_MS = 5000;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

let status: Status | undefined;
let lastOk = 0;
const ctx = { status: () => status!, now: () => Date.now() };
const filterBox = $<HTMLInputElement>('filter');
const sortBox = $<HTMLSelectElement>('sort');
const instances = instancesTable($<HTMLTableElement>('instances').tBodies[0], ctx);
const checks = checksTable($<HTMLTableElement>('checks').tBodies[0], ctx);
const vs = virtualServers($('vs'), ctx);

// The filter and sort survive a reload (in the URL's fragment: a link shows the same view).
const params = new URLSearchParams(location.hash.slice(1));
filterBox.value = params.get('q') ?? '';
sortBox.value = params.get('sort') === 'state' ? 'state' : 'name';
const onView = () => {
  const p = new URLSearchParams();
  if (filterBox.value) p.set('q', filterBox.value);
  if (sortBox.value !== 'name') p.set('sort', sortBox.value);
  history.replaceState(null, '', p.size ? `#${p}` : location.pathname);
  render();
};
filterBox.addEventListener('input', onView);
sortBox.addEventListener('change', onView);
document.addEventListener('keydown', (e) => {
  if (e.key === '/' && document.activeElement !== filterBox) { e.preventDefault(); filterBox.focus(); }
});

function sorted<T>(items: T[], name: (t: T) => string, state: (t: T) => string): T[] {
  const byState = sortBox.value === 'state';
  return [...items].sort((a, b) => (byState ? stateRank(state(a)) - stateRank(state(b)) : 0) || name(a).localeCompare(name(b), undefined, { numeric: true }));
}

function render(): void {
  if (!status) return;
  const t0 = performance.now();
  const f = filterBox.value.trim();
  const visible = (r: { search: string }) => !f || matches(f, r.search);
  const s = status;
  const list = s.virtualServers ?? [];
  // Each section on its own: one the page cannot read (a /status of another version) says so in
  // its heading, and the others stay live.
  section('n-instances', s.instances.length, () => instances.render(sorted(s.instances, (i) => i.name, (i) => i.state), (i) => i.name, visible));
  section('n-checks', s.checks.length, () => checks.render(sorted(s.checks, (c) => c.name, (c) => c.state), (c) => c.name, visible));
  section('n-vs', list.length, () => vs.render(sorted(list, (v) => v.name, () => 'up'), f, sortBox.value === 'state'));
  $('vs-section').hidden = list.length === 0;
  try { summary(s); } catch { /* the sections say what they could not read */ }
  // How long a render takes (tests read it: a few hundred rows stay well under a poll's time).
  document.body.dataset.renderMs = (performance.now() - t0).toFixed(1);
}

const count = (shown: number, all: number) => (shown === all ? `${all}` : `${shown} of ${all}`);

function section(countId: string, all: number, draw: () => number): void {
  const c = $(countId);
  try {
    text(c, count(draw(), all));
    cls(c, 'sub');
  } catch (err) {
    text(c, `not shown: ${(err as Error).message}`);
    cls(c, 'sub unreadable');
  }
}

function summary(s: Status): void {
  const tally = (xs: string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
  const parts: [string, string][] = [];
  for (const [k, n] of tally(s.instances.map((i) => i.state))) parts.push([`s-${k}`, `${n} ${k}`]);
  for (const [k, n] of tally(s.checks.map((c) => c.state))) parts.push([`s-${k}`, `${n} check${n === 1 ? '' : 's'} ${k}`]);
  const rs = (s.virtualServers ?? []).flatMap((v) => v.realServers);
  if (rs.length) {
    const down = rs.filter((r) => !r.up).length;
    parts.push([down ? 's-down' : 's-up', `${rs.length - down}/${rs.length} real servers up`]);
  }
  const box = $('summary');
  const sig = parts.map((p) => p.join(':')).sort().join();
  if (box.dataset.sig === sig) return;
  box.dataset.sig = sig;
  box.replaceChildren(...parts.sort((a, b) => stateRank(a[0].slice(2)) - stateRank(b[0].slice(2))).map(([c, t]) => el('span', `badge ${c}`, t)));
  document.title = `vigil: ${parts.map((p) => p[1]).join(', ')}`;
}

function connection(ok: boolean, why?: string): void {
  const c = $('conn');
  document.body.classList.toggle('stale', !ok);
  if (ok) {
    cls(c, 'conn ok');
    text(c, `live · ${new Date(lastOk).toLocaleTimeString([], { hour12: false })}`);
  } else {
    cls(c, 'conn lost');
    text(c, `no answer from the agent${lastOk ? ` since ${new Date(lastOk).toLocaleTimeString([], { hour12: false })}` : ''}: ${why}`);
  }
}

let timer: ReturnType<typeof setTimeout> | undefined;
let inFlight = false;
const schedule = (ms: number) => { clearTimeout(timer); timer = setTimeout(poll, ms); };

async function poll(): Promise<void> {
  if (inFlight) return;
  inFlight = true;
  try {
    const r = await fetch('status', { cache: 'no-store', signal: AbortSignal.timeout(3000) });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    status = await r.json() as Status;
    lastOk = Date.now();
    text($('agent'), `engine pid ${status.pid} · started ${new Date(status.startedAt).toLocaleString([], { hour12: false })}`);
    render();
    connection(true);
  } catch (err) {
    connection(false, (err as Error).message);
  }
  inFlight = false;
  schedule(document.hidden ? HIDDEN_MS : EVERY_MS);
}
document.addEventListener('visibilitychange', () => { if (!document.hidden && !inFlight) schedule(0); });
void poll();
