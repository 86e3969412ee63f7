// The virtual servers: one table each, its quorum in the caption, its real servers as rows with
// weight, up/down and since when, active connections, and packets and bytes per second (rates
// from the counters of two polls, computed here).
import { el, text, cls, attr, KeyedBody, type Row } from './dom.ts';
import { duration, matches, Rate, si, stateRank, type RealServer, type VirtualServer } from './model.ts';

interface Cells {
  addr: HTMLElement; state: HTMLElement; weight: HTMLElement; since: HTMLElement;
  conns: HTMLElement; pps: HTMLElement; bps: HTMLElement; check: HTMLElement;
}

interface Block {
  box: HTMLElement; title: HTMLElement; info: HTMLElement; quorum: HTMLElement;
  rows: KeyedBody<RealServer, Cells>; empty: HTMLElement;
}

const HEAD = ['real server', 'state', 'weight', 'since', 'active conns', 'packets/s', 'bytes/s', 'check'];

export const rsKey = (r: RealServer) => `${r.address}:${r.port ?? ''}`;

export function virtualServers(root: HTMLElement, ctx: { now(): number }) {
  const blocks = new Map<string, Block>();
  const rates = new Map<string, Rate>();   // "vs/rs/p" -> its packets' rate, "vs/rs/b" its bytes'

  const block = (name: string): Block => {
    const box = el('div', 'vs');
    const cap = box.appendChild(el('div', 'vs-head'));
    const title = cap.appendChild(el('span', 'strong'));
    const quorum = cap.appendChild(el('span'));
    const info = cap.appendChild(el('span', 'sub'));
    const table = box.appendChild(el('table'));
    const tr = table.appendChild(el('thead')).appendChild(el('tr'));
    for (const h of HEAD) tr.appendChild(el('th', undefined, h));
    const body = table.appendChild(el('tbody'));
    const empty = box.appendChild(el('div', 'sub', 'no real server matches the filter'));
    const rows = new KeyedBody<RealServer, Cells>(body, (r) => {
      const td = (c?: string) => r.appendChild(el('td', c));
      return { addr: td('mono'), state: td().appendChild(el('span')), weight: td('num'), since: td('sub'),
        conns: td('num'), pps: td('num'), bps: td('num'), check: td('sub') };
    }, (row: Row<Cells>, rs: RealServer) => {
      const c = row.cells, now = ctx.now(), k = `${name}/${rsKey(rs)}`;
      const drained = (rs.effectiveWeight ?? rs.weight) === 0;
      cls(row.tr, !rs.up ? 'bad' : drained ? 'warn' : '');
      text(c.addr, rs.port === null ? rs.address : rs.address.includes(':') ? `[${rs.address}]:${rs.port}` : `${rs.address}:${rs.port}`);
      text(c.state, rs.up ? 'up' : 'down');
      cls(c.state, `badge s-${rs.up ? 'up' : 'down'}`);
      const eff = rs.effectiveWeight ?? rs.weight;
      text(c.weight, eff === rs.weight ? String(rs.weight) : `${eff} / ${rs.weight}`);
      attr(c.weight, 'title', `effective ${eff}, configured ${rs.weight}`);
      text(c.since, rs.since ? `${duration((now - Date.parse(rs.since)) / 1000)} ago` : '–');
      attr(c.since, 'title', rs.since ?? '');
      text(c.conns, rs.activeConnections === undefined ? '–' : String(rs.activeConnections));
      text(c.pps, si(sample(`${k}/p`, now, rs.packets)));
      text(c.bps, si(sample(`${k}/b`, now, rs.bytes), 'B'));
      text(c.check, rs.check ?? 'none (always up)');
      row.search = `${rsKey(rs)} ${rs.up ? 'up' : 'down'} ${rs.check ?? ''}`;
    });
    return { box, title, info, quorum, rows, empty };
  };

  const sample = (k: string, now: number, v: number | undefined): number | null => {
    let r = rates.get(k);
    if (!r) rates.set(k, r = new Rate());
    return r.sample(now, v);
  };

  let order: string[] = [];
  return {
    render(list: VirtualServer[], filter: string, byState: boolean): number {
      const seen = new Set<string>();
      let shown = 0;
      const sorted = byState ? [...list].sort((a, b) => Number(a.quorum.up) - Number(b.quorum.up) || a.name.localeCompare(b.name)) : list;
      for (const vs of sorted) {
        seen.add(vs.name);
        let b = blocks.get(vs.name);
        if (!b) blocks.set(vs.name, b = block(vs.name));
        const where = vs.fwmark !== null ? `fwmark ${vs.fwmark}` : `${vs.address?.includes(':') ? `[${vs.address}]` : vs.address}:${vs.port}`;
        text(b.title, vs.name);
        text(b.info, `${where} ${vs.protocol} · ${vs.scheduler} · ${vs.forwarding}`);
        const q = vs.quorum;
        text(b.quorum, `quorum ${q.up ? 'up' : 'down'} ${q.healthy}/${q.needed}${q.sorry ? ' · sorry server' : ''}`);
        cls(b.quorum, `badge s-${q.up ? 'up' : 'down'}`);
        attr(b.quorum, 'title', `${q.healthy} healthy of ${q.needed} needed${q.since ? `, since ${q.since}` : ''}`);
        cls(b.box, q.up ? 'vs' : 'vs bad');
        const head = `${vs.name} ${where} ${vs.protocol} quorum ${q.up ? 'up' : 'down'}`;
        const whole = !filter || matches(filter, head);
        const rss = byState ? [...vs.realServers].sort((a, c) => stateRank(a.up ? 'up' : 'down') - stateRank(c.up ? 'up' : 'down')) : vs.realServers;
        const n = b.rows.render(rss, rsKey, (r) => whole || matches(filter, r.search));
        b.box.hidden = !whole && n === 0;
        b.empty.hidden = n > 0 || vs.realServers.length === 0;
        if (!b.box.hidden) shown++;
      }
      for (const [k, b] of blocks) if (!seen.has(k)) { b.box.remove(); blocks.delete(k); }
      for (const k of rates.keys()) if (!seen.has(k.slice(0, k.indexOf('/')))) rates.delete(k);
      const now = sorted.map((v) => v.name);
      if (now.join('\0') !== order.join('\0')) { for (const k of now) root.appendChild(blocks.get(k)!.box); order = now; }
      return shown;
    },
  };
}
