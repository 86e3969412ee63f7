// Two desired states (host/lb/model.ts) into one nftables transaction that turns the first into
// the second, touching only what changed: a chain whose rules changed is flushed and refilled
// (kube-proxy does the same), a map changes element by element, and nothing else is named.
// With no earlier state the table is replaced whole, still in one transaction: created if it is
// not there, deleted, and written anew, so forwarding never stops in between.
import { render, ruleLine, type TableState } from './model.ts';

export function diff(old: TableState | null, next: TableState): string {
  const T = `${next.family} ${next.name}`;
  if (old === null) return `add table ${T}\ndelete table ${T}\n${render(next)}`;
  const out: string[] = [];
  // 1. New objects.
  for (const c of next.counters) if (!old.counters.has(c)) out.push(`add counter ${T} ${c}`);
  for (const [s, decl] of next.sets) {
    const was = old.sets.get(s);
    if (was !== undefined && was !== decl) out.push(`delete set ${T} ${s}`);   // a new timeout or size: the set anew
    if (was !== decl) out.push(`add set ${T} ${s} { ${decl} }`);
  }
  for (const [m, { decl }] of next.maps) if (old.maps.get(m)?.decl !== decl) out.push(`add map ${T} ${m} { ${decl}; }`);
  for (const [c, lines] of next.chains) {
    const was = old.chains.get(c);
    const hook = lines[0]?.startsWith('type ') ? lines[0] : null;
    if (was && hook !== (was[0]?.startsWith('type ') ? was[0] : null)) out.push(`delete chain ${T} ${c}`);
    if (!was || hook !== (was[0]?.startsWith('type ') ? was[0] : null)) out.push(`add chain ${T} ${c}` + (hook ? ` { ${hook} }` : ''));
  }
  // 2. Elements gone or changed (a changed value is a delete and an add: nft refuses to add over one).
  const elementsAdded: string[] = [];
  for (const [m, { elements }] of next.maps) {
    if (old.maps.get(m)?.elements === elements) continue;   // a service's map not made again
    const was = old.maps.get(m)?.elements ?? new Map<string, string>();
    const del = [...was].filter(([k, v]) => elements.get(k) !== v).map(([k]) => k);
    if (del.length) out.push(`delete element ${T} ${m} { ${del.join(', ')} }`);
    const add = [...elements].filter(([k, v]) => was.get(k) !== v).map(([k, v]) => `${k} : ${v}`);
    if (add.length) elementsAdded.push(`add element ${T} ${m} { ${add.join(', ')} }`);
  }
  // 3. Chains whose rules changed: flushed and refilled.
  for (const [c, lines] of next.chains) {
    const was = old.chains.get(c);
    if (was === lines) continue;
    const rules = lines.filter((l) => !l.startsWith('type '));
    const wasRules = was?.filter((l) => !l.startsWith('type ')) ?? [];
    if (was && rules.join('\n') === wasRules.join('\n')) continue;
    if (was && wasRules.length) out.push(`flush chain ${T} ${c}`);
    for (const r of rules) out.push(ruleLine(next, c, r));
  }
  out.push(...elementsAdded);
  // 4. What is gone: chains (emptied first), then the maps, sets and counters they used.
  for (const [c] of old.chains) if (!next.chains.has(c)) out.push(`flush chain ${T} ${c}`);
  for (const [m] of old.maps) if (!next.maps.has(m)) out.push(`delete map ${T} ${m}`);
  for (const [c] of old.chains) if (!next.chains.has(c)) out.push(`delete chain ${T} ${c}`);
  for (const [s] of old.sets) if (!next.sets.has(s)) out.push(`delete set ${T} ${s}`);
  for (const c of old.counters) if (!next.counters.has(c)) out.push(`delete counter ${T} ${c}`);
  return out.length ? out.join('\n') + '\n' : '';
}
