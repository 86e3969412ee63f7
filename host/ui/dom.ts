// Small DOM helpers for the status page: element builders and a keyed table body that keeps
// its rows between updates (a few hundred rows update in place: only changed text is written,
// and rows move only when the order changed).

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export const SVG = 'http://www.w3.org/2000/svg';
export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/** Sets text only when it changed (no layout work for the unchanged majority). */
export function text(e: Element, s: string): void {
  if (e.textContent !== s) e.textContent = s;
}

export function cls(e: Element, c: string): void {
  if (e.className !== c) e.className = c;
}

export function attr(e: Element, k: string, v: string): void {
  if (e.getAttribute(k) !== v) e.setAttribute(k, v);
}

/** A row of a KeyedBody: its element, its cells, and what the filter matches it on. */
export interface Row<C> { tr: HTMLTableRowElement; cells: C; search: string }

export class KeyedBody<T, C> {
  private rows = new Map<string, Row<C>>();
  private order: string[] = [];
  readonly body: HTMLTableSectionElement;
  private make: (tr: HTMLTableRowElement) => C;
  private update: (row: Row<C>, item: T) => void;
  constructor(body: HTMLTableSectionElement, make: (tr: HTMLTableRowElement) => C, update: (row: Row<C>, item: T) => void) {
    this.body = body; this.make = make; this.update = update;
  }

  /** Renders `items` (already sorted) keyed by `key`; rows not matching `visible` are hidden. */
  render(items: T[], key: (t: T) => string, visible: (row: Row<C>) => boolean): number {
    const seen = new Set<string>();
    const order: string[] = [];
    let shown = 0;
    for (const item of items) {
      const k = key(item);
      if (seen.has(k)) continue;
      seen.add(k);
      order.push(k);
      let row = this.rows.get(k);
      if (!row) {
        const tr = el('tr');
        tr.dataset.key = k;
        row = { tr, cells: this.make(tr), search: '' };
        this.rows.set(k, row);
      }
      this.update(row, item);
      const v = visible(row);
      if (row.tr.hidden === v) row.tr.hidden = !v;
      if (v) shown++;
    }
    for (const [k, row] of this.rows) if (!seen.has(k)) { row.tr.remove(); this.rows.delete(k); }
    if (order.length !== this.order.length || order.some((k, i) => k !== this.order[i])) {
      // appendChild moves an existing row: the body ends up in `order`.
      for (const k of order) this.body.appendChild(this.rows.get(k)!.tr);
      this.order = order;
    }
    return shown;
  }
}
