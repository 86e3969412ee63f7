// Reading a YAML document node by node, keeping every node's place in the file. Each reader
// either returns a value or records a problem (what is wrong and the fix) and returns undefined,
// so the parser carries on and reports every problem of the file at once.
import {
  isAlias, isMap, isScalar, isSeq,
  type Document, type LineCounter, type Node, type Scalar, type YAMLMap, type YAMLSeq,
} from 'yaml';
import { parseDuration } from '../duration.ts';
import type { ConfigProblem } from './errors.ts';
import { MAPS, unknownKeyMessage, type MapKind } from './keys.ts';
import { nameProblem } from './values.ts';

export type YNode = Node | null | undefined;

export const MAX_PROBLEMS = 100;
/** Thrown by Ctx.report at MAX_PROBLEMS: parseConfig refuses the file with those. */
export class TooManyProblems extends Error {}

export class Ctx {
  readonly file: string;
  readonly problems: ConfigProblem[] = [];
  readonly maps: Fields[] = [];     // every map read, for the check that no key went unread
  private readonly lc: LineCounter;
  private readonly doc: Document;
  constructor(file: string, lc: LineCounter, doc: Document) {
    this.file = file;
    this.lc = lc;
    this.doc = doc;
  }

  pos(at: YNode | number): { line: number; col: number } {
    const offset = typeof at === 'number' ? at : at?.range?.[0] ?? 0;
    return this.lc.linePos(offset);
  }

  report(at: YNode | number, message: string): void {
    const { line, col } = this.pos(at);
    this.problems.push({ file: this.file, line, col, message });
    // A file of thousands of problems is refused on its first ones, at once.
    if (this.problems.length >= MAX_PROBLEMS) throw new TooManyProblems();
  }

  // What an alias stands for; anything else as it is.
  deref(node: YNode): YNode {
    return isAlias(node) ? (node.resolve(this.doc) as Node | undefined) : node;
  }

  // An alias with no anchor: reported once; the caller then skips the value.
  private readonly broken = new Set<Node>();
  unresolved(node: YNode): boolean {
    if (!isAlias(node) || node.resolve(this.doc) !== undefined) return false;
    if (!this.broken.has(node)) {
      this.broken.add(node);
      this.report(node, `alias *${node.source} has no anchor: define &${node.source} on a value before this use`);
    }
    return true;
  }
}

// One key: value of a map. `at` is where a problem with the value is reported: the value itself,
// or the key when the value is empty.
export interface Entry {
  label: string;   // how messages name it: "priority", "garp.count"
  key: Scalar;
  value: YNode;    // as written (an alias stays an alias, so problems point at its use)
}

export function at(e: Entry): Node {
  return isEmpty(e.value) ? e.key : (e.value as Node);
}

function isEmpty(n: YNode): boolean {
  return n == null || (isScalar(n) && n.value === null);
}

// What a node is, for "must be X, not Y".
export function describe(ctx: Ctx, n: YNode): string {
  const d = ctx.deref(n);
  if (isEmpty(d)) return 'empty';
  if (isSeq(d)) return 'a list';
  if (isMap(d)) return 'a map';
  if (isScalar(d)) return typeof d.value === 'string' ? JSON.stringify(d.value) : String(d.value);
  return 'something else';
}

// The keys of one map, checked against the keys the parser knows for its kind.
export class Fields {
  readonly node: YAMLMap;
  readonly prefix: string;
  private readonly entries = new Map<string, Entry>();
  private readonly read = new Set<string>();

  constructor(ctx: Ctx, node: YAMLMap, kind: MapKind, prefix = '') {
    this.node = node;
    this.prefix = prefix;
    ctx.maps.push(this);
    const known = MAPS[kind] as Record<string, unknown>;
    for (const pair of node.items) {
      const key = pair.key as YNode;
      if (key == null || (isScalar(key) && key.value === null)) {
        const v = pair.value as YNode;
        ctx.report(!isEmpty(v) ? v : key ?? node, `a key is missing before the ":" of ${describe(ctx, v)}`);
        continue;
      }
      if (!isScalar(key) || typeof key.value !== 'string') {
        ctx.report(key ?? node, `${describe(ctx, key)} is not a key name: keys are words like "priority"`);
        continue;
      }
      const name = key.value;
      if (name === '<<') {
        ctx.report(key, 'merge keys (<<) are not supported: write the keys out');
        continue;
      }
      if (!Object.hasOwn(known, name)) {
        ctx.report(key, unknownKeyMessage(name, kind));
        continue;
      }
      const first = this.entries.get(name);
      if (first) {
        ctx.report(key, `duplicate key "${name}" (first on line ${ctx.pos(first.key).line}): keep one of them`);
        continue;
      }
      this.entries.set(name, { label: prefix + name, key, value: pair.value as YNode });
    }
  }

  get(name: string): Entry | undefined {
    this.read.add(name);
    return this.entries.get(name);
  }

  // Keys that were accepted but that no code asked for: a key the parser knows and ignores
  // would be keepalived's "Unknown keyword" again, so load.ts treats this as a bug.
  unread(): string[] {
    return [...this.entries.keys()].filter((k) => !this.read.has(k)).map((k) => this.prefix + k);
  }
}

// ---- values ----------------------------------------------------------------------------------
// `what` completes "must be ..." and "write ...": "a whole number 1..255", "true or false".

function scalar(ctx: Ctx, e: Entry, what: string): Scalar | undefined {
  if (ctx.unresolved(e.value)) return undefined;
  const n = ctx.deref(e.value);
  if (isEmpty(n)) { ctx.report(e.key, `${e.label} is empty: write ${what}`); return undefined; }
  if (!isScalar(n)) { ctx.report(at(e), `${e.label} must be ${what}, not ${describe(ctx, n)}`); return undefined; }
  return n;
}

export function integer(ctx: Ctx, e: Entry, min: number, max: number, outOfRange?: (v: number) => string): number | undefined {
  const what = `a whole number ${min}..${max}`;
  const s = scalar(ctx, e, what);
  if (!s) return undefined;
  if (typeof s.value !== 'number' || !Number.isInteger(s.value)) {
    const extra = typeof s.value === 'string' && /^\s*-?\d+\s*$/.test(s.value) ? ' (write it without quotes)' : '';
    ctx.report(at(e), `${e.label} must be ${what}, not ${describe(ctx, s)}${extra}`);
    return undefined;
  }
  if (s.value < min || s.value > max) {
    ctx.report(at(e), outOfRange ? outOfRange(s.value) : `${e.label} ${s.value} is out of range ${min}..${max}`);
    return undefined;
  }
  return s.value;
}

export function boolean(ctx: Ctx, e: Entry): boolean | undefined {
  const s = scalar(ctx, e, 'true or false');
  if (!s) return undefined;
  if (typeof s.value !== 'boolean') {
    ctx.report(at(e), `${e.label} must be true or false, not ${describe(ctx, s)}`);
    return undefined;
  }
  return s.value;
}

export function string(ctx: Ctx, e: Entry, what: string): string | undefined {
  const s = scalar(ctx, e, what);
  if (!s) return undefined;
  if (typeof s.value !== 'string') {
    ctx.report(at(e), `${e.label} must be ${what}, not ${describe(ctx, s)} (quote it if you mean the text)`);
    return undefined;
  }
  return s.value;
}

// A duration as people write it ("10ms", "1s", "2m"), in microseconds; `text` is as written.
export function duration(ctx: Ctx, e: Entry): { us: number; text: string } | undefined {
  const s = scalar(ctx, e, 'a duration such as 10ms, 1s or 2m');
  if (!s) return undefined;
  const text = typeof s.value === 'string' ? s.value : String(s.value);
  try {
    return { us: parseDuration(text), text: text.trim() };
  } catch (err) {
    ctx.report(at(e), `${e.label}: ${(err as Error).message}`);
    return undefined;
  }
}

export function durationIn(ctx: Ctx, e: Entry, min: number, max: number, stepUs = 1): number | undefined {
  const d = duration(ctx, e);
  if (!d) return undefined;
  if (d.us < min || d.us > max) {
    ctx.report(at(e), `${e.label} ${d.text} is out of range ${fmtUs(min)}..${fmtUs(max)}`);
    return undefined;
  }
  if (d.us % stepUs !== 0) {
    ctx.report(at(e), `${e.label} ${d.text} must be a multiple of ${fmtUs(stepUs)}`);
    return undefined;
  }
  return d.us;
}

// The largest unit that states the duration exactly: 10ms, 40.95s, 2m, 0s.
export function fmtUs(us: number): string {
  if (us === 0) return '0s';
  for (const [unit, n] of [['h', 3600e6], ['m', 60e6], ['s', 1e6]] as const) {
    if (us % n === 0) return `${us / n}${unit}`;
  }
  if (us >= 1e6 && us % 1e4 === 0) return `${us / 1e6}s`;
  return us % 1e3 === 0 ? `${us / 1e3}ms` : `${us}us`;
}

// A list: its items as written (aliases kept, for their place), or undefined.
export function list(ctx: Ctx, e: Entry, what: string): YNode[] | undefined {
  if (ctx.unresolved(e.value)) return undefined;
  const n = ctx.deref(e.value);
  if (isEmpty(n)) { ctx.report(e.key, `${e.label} is empty: write a list of ${what}`); return undefined; }
  if (!isSeq(n)) { ctx.report(at(e), `${e.label} must be a list of ${what}, not ${describe(ctx, n)}`); return undefined; }
  return (n as YAMLSeq).items as YNode[];
}

// A map of a known kind.
export function map(ctx: Ctx, e: Entry, kind: MapKind, example: string): Fields | undefined {
  if (ctx.unresolved(e.value)) return undefined;
  const n = ctx.deref(e.value);
  if (isEmpty(n)) { ctx.report(e.key, `${e.label} is empty: write a map, e.g. ${example}, or remove the key`); return undefined; }
  if (!isMap(n)) { ctx.report(at(e), `${e.label} must be a map, e.g. ${example}, not ${describe(ctx, n)}`); return undefined; }
  return new Fields(ctx, n as YAMLMap, kind, `${e.label}.`);
}

// A list item that must be a map (an instance, a sync group, a tracked interface).
export function itemMap(ctx: Ctx, item: YNode, kind: MapKind, what: string, example: string): Fields | undefined {
  if (ctx.unresolved(item)) return undefined;
  const n = ctx.deref(item);
  if (!isMap(n)) {
    ctx.report(item ?? 0, `${what} must be a map, e.g. ${example}, not ${describe(ctx, n)}`);
    return undefined;
  }
  return new Fields(ctx, n as YAMLMap, kind);
}

// A list item that must be a string (an address, a name).
export function itemString(ctx: Ctx, item: YNode, what: string): string | undefined {
  if (ctx.unresolved(item)) return undefined;
  const n = ctx.deref(item);
  if (!isScalar(n) || typeof n.value !== 'string') {
    ctx.report(item ?? 0, `${describe(ctx, n)} is not ${what}`);
    return undefined;
  }
  return n.value;
}

// The `name` of the i-th item of a list of `kind`s (check, policy, sync group): present, a
// well-formed name, and not used by an earlier item (`seen`: name -> where, updated here).
// Undefined, with the problem reported, otherwise.
export function uniqueName(ctx: Ctx, f: Fields, item: YNode, i: number, kind: string, example: string, seen: Map<string, YNode>): string | undefined {
  const e = f.get('name');
  if (!e) { ctx.report(item, `${kind} ${i + 1} has no name: add "name: ${example}"`); return undefined; }
  const name = string(ctx, e, `a name such as ${example}`);
  if (name === undefined) return undefined;
  const why = nameProblem(`${kind} name`, name);
  if (why) { ctx.report(at(e), why); return undefined; }
  const first = seen.get(name);
  if (first !== undefined) { ctx.report(at(e), `${kind} name "${name}" is already used (line ${ctx.pos(first).line}): names must be unique`); return undefined; }
  seen.set(name, at(e));
  return name;
}
