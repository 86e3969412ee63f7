// YAML out, by hand: comments above each item, flow style for short lists and maps, every
// string that YAML could read as something else quoted.
import type { Item, Value } from './context.ts';

const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./-]*$|^\d+(\.\d+)?(us|ms|s|m|h)$/;
const RESERVED = /^(true|false|yes|no|on|off|null|y|n|~)$/i;

export function scalar(v: Value): string {
  if (typeof v === 'string') return PLAIN.test(v) && !RESERVED.test(v) ? v : JSON.stringify(v);
  if (v === null) return 'null';
  return String(v);
}

const isItem = (v: unknown): v is Item => typeof v === 'object' && v !== null && !Array.isArray(v);
const fields = (o: Item) => Object.entries(o).filter(([k, v]) => k !== '#' && !k.startsWith('__') && v !== undefined) as [string, Value][];

function flow(v: Value): string | undefined {
  if (Array.isArray(v)) {
    const parts = v.map(flow);
    return parts.every((p) => p !== undefined) ? `[${parts.join(', ')}]` : undefined;
  }
  if (isItem(v)) {
    const parts = fields(v).map(([k, x]) => { const f = flow(x); return f === undefined ? undefined : `${k}: ${f}`; });
    return parts.every((p) => p !== undefined) ? `{ ${parts.join(', ')} }` : undefined;
  }
  return scalar(v);
}

function block(o: Item, indent: string, out: string[], first = ''): void {
  let lead = first;
  for (const [k, v] of fields(o)) {
    const f = flow(v);
    const simple = !Array.isArray(v) && !isItem(v);
    if (f !== undefined && (simple || f.length + indent.length + k.length < 100)) out.push(`${lead || indent}${k}: ${f}`);
    else if (Array.isArray(v)) { out.push(`${lead || indent}${k}:`); list(v, indent + '  ', out); }
    else { out.push(`${lead || indent}${k}:`); block(v as Item, indent + '  ', out); }
    lead = '';
  }
}

export function list(items: Value[], indent: string, out: string[]): void {
  for (const it of items) {
    if (isItem(it)) {
      for (const c of it['#'] ?? []) out.push(`${indent}# ${c}`);
      block(it, indent + '  ', out, `${indent}- `);
    } else out.push(`${indent}- ${flow(it)}`);
  }
}

export function yamlOf(top: [string, Item[]][], header: string[]): string {
  const out = header.map((h) => (h ? `# ${h}` : '#'));
  for (const [k, items] of top) {
    if (!items.length) continue;
    out.push('', `${k}:`);
    list(items, '  ', out);
  }
  return out.join('\n') + '\n';
}
