// A small JSON Schema (2020-12) validator for the keywords schema/vigil.schema.json uses, so the
// tests can check the schema against real files without a dependency. Any keyword it does not
// know is an error, so the schema cannot quietly grow beyond what is tested.
type Schema = Record<string, unknown> | boolean;

const ANNOTATIONS = new Set(['$schema', '$id', '$comment', 'title', 'description', 'default', 'examples', '$defs']);
const KEYWORDS = new Set(['$ref', 'type', 'enum', 'const', 'properties', 'required', 'additionalProperties', 'items',
  'minItems', 'maxItems', 'uniqueItems', 'maxProperties', 'propertyNames', 'minimum', 'maximum', 'pattern', 'minLength', 'maxLength', 'anyOf', 'oneOf', 'allOf']);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

export function validate(root: Schema, value: unknown): string[] {
  const errors: string[] = [];
  const resolve = (ref: string): Schema => {
    if (!ref.startsWith('#/')) throw new Error(`only local $ref: ${ref}`);
    let s: unknown = root;
    for (const part of ref.slice(2).split('/')) s = (s as Record<string, unknown>)[part];
    if (s === undefined) throw new Error(`dangling $ref ${ref}`);
    return s as Schema;
  };
  const walk = (s: Schema, v: unknown, path: string, out: string[]): void => {
    if (s === true) return;
    if (s === false) { out.push(`${path}: not allowed`); return; }
    for (const k of Object.keys(s)) if (!KEYWORDS.has(k) && !ANNOTATIONS.has(k)) throw new Error(`unsupported keyword ${k} at ${path}`);
    if (typeof s.$ref === 'string') walk(resolve(s.$ref), v, path, out);
    const t = typeOf(v);
    if (s.type !== undefined) {
      const types = ([] as string[]).concat(s.type as string);
      if (!types.some((x) => x === t || (x === 'number' && t === 'integer'))) { out.push(`${path}: ${t} is not ${types.join('|')}`); return; }
    }
    if (s.enum && !(s.enum as unknown[]).some((e) => JSON.stringify(e) === JSON.stringify(v))) out.push(`${path}: ${JSON.stringify(v)} not in enum`);
    if ('const' in s && JSON.stringify(s.const) !== JSON.stringify(v)) out.push(`${path}: not ${JSON.stringify(s.const)}`);
    if (t === 'integer' || t === 'number') {
      if (typeof s.minimum === 'number' && (v as number) < s.minimum) out.push(`${path}: ${v} < ${s.minimum}`);
      if (typeof s.maximum === 'number' && (v as number) > s.maximum) out.push(`${path}: ${v} > ${s.maximum}`);
    }
    if (t === 'string') {
      const str = v as string;
      if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(str)) out.push(`${path}: ${JSON.stringify(str)} does not match ${s.pattern}`);
      if (typeof s.minLength === 'number' && [...str].length < s.minLength) out.push(`${path}: shorter than ${s.minLength}`);
      if (typeof s.maxLength === 'number' && [...str].length > s.maxLength) out.push(`${path}: longer than ${s.maxLength}`);
    }
    if (t === 'array') {
      const a = v as unknown[];
      if (typeof s.minItems === 'number' && a.length < s.minItems) out.push(`${path}: fewer than ${s.minItems} items`);
      if (typeof s.maxItems === 'number' && a.length > s.maxItems) out.push(`${path}: more than ${s.maxItems} items`);
      if (s.uniqueItems === true && new Set(a.map((x) => JSON.stringify(x))).size !== a.length) out.push(`${path}: items repeat`);
      if (s.items !== undefined) a.forEach((x, i) => walk(s.items as Schema, x, `${path}[${i}]`, out));
    }
    if (t === 'object') {
      const o = v as Record<string, unknown>;
      for (const r of (s.required as string[] | undefined) ?? []) if (!(r in o)) out.push(`${path}: missing ${r}`);
      const props = (s.properties ?? {}) as Record<string, Schema>;
      if (typeof s.maxProperties === 'number' && Object.keys(o).length > s.maxProperties) out.push(`${path}: more than ${s.maxProperties} keys`);
      if (s.propertyNames !== undefined) for (const k of Object.keys(o)) walk(s.propertyNames as Schema, k, `${path} key ${JSON.stringify(k)}`, out);
      for (const [k, x] of Object.entries(o)) {
        if (k in props) walk(props[k], x, `${path}.${k}`, out);
        else if (s.additionalProperties !== undefined) walk(s.additionalProperties as Schema, x, `${path}.${k}`, out);
      }
    }
    for (const [kw, need] of [['anyOf', (n: number) => n >= 1], ['oneOf', (n: number) => n === 1]] as const) {
      if (!Array.isArray(s[kw])) continue;
      const results = (s[kw] as Schema[]).map((b) => { const e: string[] = []; walk(b, v, path, e); return e; });
      if (!need(results.filter((e) => e.length === 0).length)) out.push(`${path}: ${kw} failed (${results.map((e) => e.join('; ')).join(' | ')})`);
    }
    if (Array.isArray(s.allOf)) for (const b of s.allOf as Schema[]) walk(b, v, path, out);
  };
  walk(root, value, '$', errors);
  return errors;
}
