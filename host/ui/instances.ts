// The VRRP instances table: state, priority, master, availability and its budget, and the
// timeline of the last transitions with their reasons.
import { el, svg, text, cls, attr, KeyedBody, type Row } from './dom.ts';
import { budget, duration, fmtNines, nines, percent, type Instance, type Status, type Transition } from './model.ts';

interface Cells {
  name: HTMLElement; where: HTMLElement; state: HTMLElement; prio: HTMLElement; master: HTMLElement;
  avail: HTMLElement; nines: HTMLElement; mttf: HTMLElement; mttr: HTMLElement; budget: HTMLElement;
  ribbon: SVGSVGElement; events: HTMLOListElement;
}

const RIBBON_MS = 3600_000;   // the ribbon shows the last hour, or since the agent started (at least a minute)
const RIBBON_W = 160, RIBBON_H = 10;
const SHOWN = 3;              // transitions listed per row; all (the engine keeps 100) on click

export function instancesTable(body: HTMLTableSectionElement, ctx: { status(): Status; now(): number }) {
  const expanded = new Set<string>();
  return new KeyedBody<Instance, Cells>(body, (tr) => {
    const td = (c?: string) => tr.appendChild(el('td', c));
    const first = td('name');
    const name = first.appendChild(el('div', 'strong'));
    const where = first.appendChild(el('div', 'sub'));
    const state = td().appendChild(el('span'));
    const prio = td('num');
    const master = td('mono');
    const a = td('num');
    const avail = a.appendChild(el('div'));
    const n = a.appendChild(el('div', 'sub'));
    const mttf = td('num');
    const mttr = td('num');
    const b = td('num');
    const tl = td('timeline');
    const ribbon = tl.appendChild(svg('svg', { width: RIBBON_W, height: RIBBON_H, class: 'ribbon', 'aria-label': 'state over the last hour' }));
    const events = tl.appendChild(el('ol', 'events'));
    tr.addEventListener('click', () => {
      const k = tr.dataset.key!;
      if (!expanded.delete(k)) expanded.add(k);
      tr.classList.toggle('open', expanded.has(k));
      draw(ctx.status().instances.find((i) => i.name === k), events, expanded.has(k));
    });
    return { name, where, state, prio, master, avail, nines: n, mttf, mttr, budget: b, ribbon, events };
  }, (row: Row<Cells>, i: Instance) => {
    const c = row.cells, s = ctx.status();
    const bad = i.state === 'fault', warn = i.state === 'init' || i.effectivePriority < i.priority;
    cls(row.tr, bad ? 'bad' : warn ? 'warn' : '');
    text(c.name, i.name);
    text(c.where, `${i.interface} · VRID ${i.vrid} · ${i.virtualAddresses.join(' ')}`);
    text(c.state, i.state);
    cls(c.state, `badge s-${i.state}`);
    text(c.prio, i.effectivePriority === i.priority ? String(i.priority) : `${i.effectivePriority} / ${i.priority}`);
    attr(c.prio, 'title', `effective ${i.effectivePriority}, configured ${i.priority}`);
    text(c.master, i.masterAddress ?? '–');
    const av = i.availability;
    text(c.avail, percent(av.availability));
    text(c.nines, fmtNines(nines(av.availability)));
    attr(c.avail.parentElement!, 'title', `up ${duration(av.upSeconds)}, down ${duration(av.downSeconds)}, ${av.failures} failure(s), ${av.repairs} repair(s)`);
    text(c.mttf, duration(av.mttfSeconds));
    text(c.mttr, duration(av.mttrSeconds));
    const target = s.availabilityTarget;
    if (target == null) {
      text(c.budget, '–');
      attr(c.budget, 'title', 'set status.target (e.g. 99.99) for a monthly downtime budget');
      cls(c.budget, 'num');
    } else {
      const b = budget(target, av.downSeconds, s.startedAt, new Date(ctx.now()));
      text(c.budget, `${duration(Math.max(b.left, 0))} of ${duration(b.allowed)}`);
      attr(c.budget, 'title', `${target} % this month (UTC): ${duration(b.allowed)} of downtime, ${duration(av.downSeconds)} seen${b.partial ? ` since the agent started (${s.startedAt}), before this month` : ''}`);
      cls(c.budget, b.left < 0 ? 'num over' : b.left < b.allowed / 4 ? 'num low' : 'num');
    }
    ribbon(c.ribbon, i, s.startedAt, ctx.now());
    draw(i, c.events, row.tr.classList.contains('open'));
    row.search = `${i.name} ${i.interface} ${i.state} ${i.masterAddress ?? ''} ${i.virtualAddresses.join(' ')} vrid ${i.vrid}`;
  });
}

function draw(i: Instance | undefined, ol: HTMLOListElement, all: boolean): void {
  if (!i) return;
  const list = i.transitions.slice(all ? 0 : -SHOWN).reverse();
  const sig = list.map((t) => t.at).join() + (all ? '+' : '');
  if (ol.dataset.sig === sig) return;
  ol.dataset.sig = sig;
  ol.replaceChildren(...list.map(eventItem));
  if (!all && i.transitions.length > SHOWN) ol.appendChild(el('li', 'more', `${i.transitions.length - SHOWN} earlier: click the row`));
}

function eventItem(t: Transition): HTMLLIElement {
  const li = el('li');
  const at = new Date(t.at);
  li.appendChild(el('time', 'mono', at.toLocaleTimeString([], { hour12: false }) + '.' + String(at.getMilliseconds()).padStart(3, '0'))).setAttribute('datetime', t.at);
  li.appendChild(el('span', `badge s-${t.from}`, t.from));
  li.appendChild(document.createTextNode('→'));
  li.appendChild(el('span', `badge s-${t.to}`, t.to));
  li.appendChild(el('span', 'why', t.why || t.reason));
  li.title = `${t.at}: ${t.from} → ${t.to} (${t.reason})`;
  return li;
}

// The last hour as coloured segments, from the transitions (the state before the first one
// listed is its `from`).
function ribbon(s: SVGSVGElement, i: Instance, startedAt: string, now: number): void {
  const span = Math.min(RIBBON_MS, Math.max(60_000, now - Date.parse(startedAt)));
  // Redrawn on a transition, else once a pixel's time has passed (22 s for the hour): not at every poll.
  const sig = `${i.transitions.at(-1)?.at}${i.state}${Math.floor(now / Math.max(1000, span / RIBBON_W))}`;
  if (s.dataset.sig === sig) return;
  s.dataset.sig = sig;
  attr(s, 'aria-label', `state over the last ${duration(span / 1000)}`);
  const from = now - span;
  const segs: { a: number; b: number; state: string }[] = [];
  let state = i.transitions[0]?.from ?? i.state;
  let at = Math.max(from, Date.parse(startedAt));
  for (const t of i.transitions) {
    const when = Date.parse(t.at);
    if (when > at) { segs.push({ a: at, b: when, state }); at = when; }
    state = t.to;
  }
  segs.push({ a: at, b: now, state: i.state });
  const x = (t: number) => Math.max(0, ((t - from) / span) * RIBBON_W);
  const rects = segs.filter((g) => g.b > from).map((g) => svg('rect', {
    x: x(g.a).toFixed(1), y: 0, width: Math.max(1, x(g.b) - x(g.a)).toFixed(1), height: RIBBON_H, class: `r-${g.state}`,
  }));
  s.replaceChildren(...rects);
}
