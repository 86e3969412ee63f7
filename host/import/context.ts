// What the mapper shares: where each line came from, the lines left out and why, and the
// values it reads the way keepalived reads them.
import type { Problem, Stmt, Where, Word } from './lex.ts';
const path = process.getBuiltinModule('node:path');

// One YAML item: its fields in order, and the comment lines written above it.
export type Value = string | number | boolean | null | Value[] | Item;
export interface Item { [key: string]: Value | string[] | undefined; '#'?: string[] }

export class Ctx {
  readonly left: Problem[] = [];
  readonly placeholders: (Where & { token: string })[] = [];
  readonly base: string;
  constructor(base: string) { this.base = base; }

  rel(file: string): string {
    const r = path.relative(this.base, file);
    return r.startsWith('..') ? file : r || path.basename(file);
  }
  from(s: Stmt | Word): string { return `${this.rel(s.file)}:${s.line}`; }
  // A line vigil cannot express: listed, never dropped in silence.
  skip(s: Stmt | Word, keyword: string, why: string): void {
    this.left.push({ file: s.file, line: s.line, col: s.col, keyword, why });
  }
  format(p: Problem): string { return `${this.rel(p.file)}:${p.line}:${p.col}: ${p.keyword}: not supported (${p.why})`; }
}

// keepalived's numbers: "01" is 1; a word that is not a number is undefined.
export function int(w: Word | undefined): number | undefined {
  if (!w || !/^[+-]?\d+$/.test(w.text)) return undefined;
  return Number.parseInt(w.text, 10);
}
export function num(w: Word | undefined): number | undefined {
  if (!w || !/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(w.text)) return undefined;
  return Number(w.text);
}
// Seconds as a vigil duration: 1 -> 1s, 0.5 -> 500ms.
export function secs(v: number): string {
  if (Number.isInteger(v)) return `${v}s`;
  const ms = Math.round(v * 1000);
  return Number.isInteger(ms) ? `${ms}ms` : `${Math.round(v * 1e6)}us`;
}

// A bare word in UPPER_SNAKE where a value was expected: a template's placeholder
// (KEEPALIVE_VIP, SET_DEVICE, __VIRTUAL_IP__).
const ENUMS = new Set(['MASTER', 'BACKUP', 'PASS', 'AH', 'NAT', 'DR', 'TUN', 'TCP', 'UDP', 'SCTP', 'FNAT', 'A', 'AAAA', 'SOA', 'NS', 'MX', 'TXT', 'CNAME', 'PTR']);
export function placeholder(text: string): boolean {
  const t = text.split('/')[0];
  return /^_*[A-Z][A-Z0-9]*(_+[A-Z0-9]+)+_*$|^__[A-Z][A-Z0-9]*__$/.test(t) && !ENUMS.has(t);
}

// A name vigil accepts (letters, digits, "_", "." and "-", 64 at most), or a made one.
export function vigilName(text: string, fallback: string): string {
  let n = text.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 64);
  if (!n) n = fallback;
  return n;
}

// Each block's keys, for "two keywords on one line": `state MASTER priority 200` is two.
export function splitLine(s: Stmt, known: ReadonlySet<string>, arity: number): Stmt[] {
  if (s.kids || s.args.length <= arity) return [s];
  const at = s.args.findIndex((w, i) => i >= arity && !w.quoted && known.has(w.text));
  if (at < 0) return [s];
  const head: Stmt = { ...s, args: s.args.slice(0, at) };
  const k = s.args[at];
  const rest: Stmt = { key: k.text, args: s.args.slice(at + 1), kids: null, file: k.file, line: k.line, col: k.col };
  return [head, ...splitLine(rest, known, ARITY[rest.key] ?? 1)];
}
export const ARITY: Record<string, number> = {
  state: 1, priority: 1, interface: 1, virtual_router_id: 1, advert_int: 1, nopreempt: 0, preempt: 0,
  preempt_delay: 1, use_vmac: 0, accept: 0, no_accept: 0, dont_track_primary: 0, unicast_src_ip: 1,
  mcast_src_ip: 1, version: 1, garp_master_delay: 1, garp_master_repeat: 1, garp_master_refresh: 1,
  garp_master_refresh_repeat: 1, garp_interval: 1, gna_interval: 1, smtp_alert: 0, debug: 0,
};
