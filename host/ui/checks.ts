// The checks table: up/down, rise/fall progress, the last error with its code, and a latency
// sparkline from the page's own history (kept here, between polls: /status has the last round).
import { el, svg, text, cls, attr, KeyedBody, type Row } from './dom.ts';
import { Series, duration, errorCode, progress, sparkPoints, type Check } from './model.ts';

interface Cells {
  name: HTMLElement; what: HTMLElement; state: HTMLElement; prog: HTMLElement; bar: HTMLElement;
  code: HTMLElement; error: HTMLElement; latency: HTMLElement; line: SVGPolylineElement; since: HTMLElement; by: HTMLElement;
}

export const SPARK_MS = 5 * 60_000;   // the sparkline's span: the last five minutes
const W = 120, H = 22;

export function checksTable(body: HTMLTableSectionElement, ctx: { now(): number }) {
  const history = new Map<string, { rounds: number; series: Series }>();
  return new KeyedBody<Check, Cells>(body, (tr) => {
    const td = (c?: string) => tr.appendChild(el('td', c));
    const first = td('name');
    const name = first.appendChild(el('div', 'strong'));
    const what = first.appendChild(el('div', 'sub'));
    const state = td().appendChild(el('span'));
    const p = td('progress');
    const prog = p.appendChild(el('div', 'sub'));
    const bar = p.appendChild(el('div', 'bar')).appendChild(el('i'));
    const e = td('error');
    const code = e.appendChild(el('span', 'code'));
    const error = e.appendChild(el('span'));
    const l = td('latency');
    const latency = l.appendChild(el('span', 'num'));
    const s = l.appendChild(svg('svg', { width: W, height: H, class: 'spark', 'aria-label': 'latency over the last five minutes' }));
    const line = s.appendChild(svg('polyline', { points: '' }));
    const since = td('sub');
    const by = td('sub');
    return { name, what, state, prog, bar, code, error, latency, line, since, by };
  }, (row: Row<Cells>, c: Check) => {
    const x = row.cells, now = ctx.now();
    cls(row.tr, c.state === 'down' ? 'bad' : c.state === 'unknown' ? 'warn' : '');
    text(x.name, c.name);
    text(x.what, `${c.type} ${c.target}`);
    text(x.state, c.state);
    cls(x.state, `badge s-${c.state}`);
    const p = progress(c);
    text(x.prog, p ? p.text : `${c.rounds} rounds, ${c.failures} failed`);
    x.bar.style.width = p && p.of ? `${Math.min(100, (p.done / p.of) * 100)}%` : '0%';
    cls(x.bar, p && c.up ? 'down' : '');
    const code = c.error ? c.code ?? errorCode(c.error) : null;
    text(x.code, code ?? '');
    x.code.hidden = code === null;
    text(x.error, c.error ?? (c.state === 'up' ? '' : '–'));
    attr(x.error, 'title', c.error ?? '');
    text(x.latency, c.latencyMs === null ? '–' : `${c.latencyMs < 10 ? c.latencyMs.toFixed(1) : Math.round(c.latencyMs)} ms`);
    // A new sample when the check ran a round since the last poll (rounds drop when the checker
    // restarts: that is a new round too).
    let h = history.get(c.name);
    if (!h) history.set(c.name, h = { rounds: -1, series: new Series(SPARK_MS, 600) });
    if (c.rounds !== h.rounds && c.latencyMs !== null) { h.series.push(now, c.latencyMs); h.rounds = c.rounds; }
    // The last five minutes, or since the page opened (at least 30 s) while it has less.
    const span = Math.min(SPARK_MS, Math.max(30_000, now - (h.series.t[0] ?? now)));
    attr(x.line, 'points', sparkPoints(h.series, now, span, W, H));
    attr(x.line.parentElement!, 'aria-label', `latency over the last ${duration(span / 1000)}`);
    text(x.since, c.since ? `${duration((now - Date.parse(c.since)) / 1000)} ago` : '–');
    attr(x.since, 'title', c.since ?? 'no change of state seen by this engine');
    text(x.by, c.trackedBy.join(', ') || '–');
    row.search = `${c.name} ${c.type} ${c.target} ${c.state} ${c.error ?? ''} ${c.trackedBy.join(' ')}`;
  });
}
