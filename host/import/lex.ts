// keepalived's configuration grammar, read into a tree of statements: a keyword, its words, and
// a block when a "{" follows (on the same line or the next). What keepalived itself accepts:
// "#" and "!" comments, braces anywhere ("global_defs{", "{" on its own line, "}" after a
// value), CRLF, tabs, no final newline, "include" with relative globs, "@name" / "@^name"
// conditional lines, "$NAME=value" definitions used as ${NAME} or $NAME.
const { readFileSync, statSync, globSync } = process.getBuiltinModule('node:fs');
const path = process.getBuiltinModule('node:path');

export interface Word { text: string; quoted: boolean; file: string; line: number; col: number }
export interface Stmt {
  key: string;
  args: Word[];
  kids: Stmt[] | null;        // null: no block
  file: string;
  line: number;
  col: number;
}
export interface Where { file: string; line: number; col: number }
export interface Problem extends Where { keyword: string; why: string }

export interface LexResult {
  top: Stmt[];
  problems: Problem[];         // lines that are not config (unbalanced braces, includes that match nothing)
  templates: (Where & { token: string })[];   // template markers: the file is a template, not a config
  files: string[];
  skipped: number;             // @name lines for another config id
}

interface Line { words: (Word | '{' | '}')[]; file: string; line: number; wheres: Where[] }

const MAX_INCLUDE_DEPTH = 8;
const MAX_BYTES = 4 << 20;

export function lex(file: string, configId: string): LexResult {
  const r: LexResult = { top: [], problems: [], templates: [], files: [], skipped: 0 };
  const defs = new Map<string, string>();
  const lines: Line[] = [];
  readInto(path.resolve(file), 0, r, defs, lines, configId, undefined);
  r.top = build(lines, r);
  return r;
}

function readInto(file: string, depth: number, r: LexResult, defs: Map<string, string>, out: Line[], configId: string, from: Where | undefined): void {
  let text: string;
  try {
    if (statSync(file).size > MAX_BYTES) throw new Error(`larger than ${MAX_BYTES >> 20} MiB`);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (!from) throw err;
    r.problems.push({ ...from, keyword: 'include', why: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    return;
  }
  r.files.push(file);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const raw = text.split(/\r\n|\n|\r/);
  let skipDepth = 0;          // inside a block whose opening line was for another config id
  let multi: { name: string; parts: string[] } | undefined;   // a $NAME= \ definition going on
  raw.forEach((src, i) => {
    const line = i + 1;
    if (multi) {
      // Each line but the last ends in "\".
      if (/\\\s*$/.test(src)) { multi.parts.push(src.replace(/\\\s*$/, '')); return; }
      multi.parts.push(src);
      defs.set(multi.name, multi.parts.join('\n'));
      multi = undefined;
      return;
    }
    if (skipDepth > 0) { skipDepth += braces(src); r.skipped++; return; }
    const c = conditional(src, configId);
    if (c === undefined) { skipDepth = Math.max(0, braces(src)); r.skipped++; return; }
    const [body, offset] = c;
    // $NAME=value: a definition, used as ${NAME} or $NAME on later lines (keepalived.conf(5),
    // "Parameter substitution"); "$NAME= \" starts one of several lines.
    const def = /^\s*\$([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(body);
    if (def) {
      if (/^\s*\\\s*$/.test(def[2])) multi = { name: def[1], parts: [] };
      else defs.set(def[1], def[2].trim());
      return;
    }
    templateMarks(file, line, body, offset, r);
    undefinedParams(file, line, body, offset, defs, r);
    // Substituted at use, recursively; a definition may hold several lines, even blocks.
    const expanded = expand(body, defs);
    const lines = expanded === body ? [[body, offset] as const] : expanded.split('\n').flatMap((l) => { const x = conditional(l, configId); return x ? [x] : []; });
    for (const [text, off] of lines) {
      const words = tokenize(text, file, line, off, r);
      if (words.length) lineOut(words, file, line, depth, r, defs, out, configId);
    }
  });
}

// [the line without its @id, where it starts], or undefined when it is for another config id:
// @name is for the config id `name` only, @^name for every other.
function conditional(src: string, configId: string): [string, number] | undefined {
  const cond = /^(\s*)@(\^?)([^\s]*)\s?/.exec(src);
  if (!cond) return [src, 0];
  if ((cond[3] === configId) === (cond[2] === '^')) return undefined;
  return [src.slice(cond[0].length), cond[0].length];
}

// ${NAME} and $NAME (before white space or the end) by their definitions, until none is left
// (a value may use another); an undefined one stays as written.
function expand(t: string, defs: Map<string, string>): string {
  if (!t.includes('$') || !defs.size) return t;
  for (let i = 0; i < 16; i++) {
    const next = t.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)(?=\s|$)/g, (m, a: string | undefined, b: string | undefined) => defs.get(a ?? b!) ?? m);
    if (next === t) return t;
    t = next;
  }
  return t;
}

// An undefined ${NAME} outside quotes is a template's (Terraform, shell) placeholder.
function undefinedParams(file: string, line: number, body: string, offset: number, defs: Map<string, string>, r: LexResult): void {
  let q = false;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch === '"') q = !q;
    else if (!q && (ch === '#' || ch === '!')) return;
    else if (!q && ch === '$' && body[i + 1] === '{') {
      const m = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(body.slice(i));
      if (m && !defs.has(m[1])) { r.templates.push({ file, line, col: offset + i + 1, token: m[0] }); return; }
    }
  }
}

// One line's words: an include read in place, or a line of the config.
function lineOut(words: (Word | '{' | '}')[], file: string, line: number, depth: number, r: LexResult, defs: Map<string, string>, out: Line[], configId: string): void {
  const first = words[0];
  if (first !== '{' && first !== '}' && first.text === 'include' && !first.quoted) {
    const where = { file, line, col: first.col };
    const pat = words[1];
    if (!pat || pat === '{' || pat === '}') { r.problems.push({ ...where, keyword: 'include', why: 'include names no file' }); return; }
    if (depth >= MAX_INCLUDE_DEPTH) { r.problems.push({ ...where, keyword: 'include', why: `includes nested over ${MAX_INCLUDE_DEPTH} deep (a loop?)` }); return; }
    const base = path.dirname(file);
    const pattern = path.isAbsolute(pat.text) ? pat.text : path.join(base, pat.text);
    let found: string[] = [];
    try { found = /[*?[]/.test(pattern) ? globSync(pattern).map((p: string) => path.resolve(p)).sort() : [pattern]; } catch { found = []; }
    if (!found.length) { r.problems.push({ ...where, keyword: 'include', why: `${pat.text} matches no file (relative to ${base})` }); return; }
    for (const f of found) readInto(f, depth + 1, r, defs, out, configId, where);
    return;
  }
  out.push({ words, file, line, wheres: [] });
}

// Net "{" less "}" on a line, outside quotes and comments.
function braces(line: string): number {
  let n = 0, q = false;
  for (const c of line) {
    if (c === '"') q = !q;
    else if (!q && (c === '#' || c === '!')) break;
    else if (!q && c === '{') n++;
    else if (!q && c === '}') n--;
  }
  return n;
}

// A template's markers, found before comments are taken out (a Jinja "{# #}" or a "#NAME#"
// placeholder looks like a comment to keepalived).
function templateMarks(file: string, line: number, body: string, offset: number, r: LexResult): void {
  // "{#" is Jinja's comment only at a line's start or closed by "#}": "global_defs {#note" is
  // keepalived's brace and comment.
  const re = /\{\{|\{%|^\s*\{#|\{#.*#\}|#[A-Z][A-Z0-9_]*#|<--[^>]*-->/g;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    const tok = m[0].trimStart(), at = m.index + m[0].length - tok.length;
    const token = tok.startsWith('{{') ? templateSpan(body, at, '}}') : tok.startsWith('{%') ? templateSpan(body, at, '%}') : tok.startsWith('{#') ? templateSpan(body, at, '#}') : tok;
    r.templates.push({ file, line, col: offset + at + 1, token });
    return;
  }
}
const templateSpan = (s: string, at: number, close: string) => {
  const end = s.indexOf(close, at + 2);
  return end < 0 ? s.slice(at, at + 20) : s.slice(at, end + close.length);
};

function tokenize(s: string, file: string, line: number, offset: number, r: LexResult): (Word | '{' | '}')[] {
  const out: (Word | '{' | '}')[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    // Any white space, a no-break space included (the word loop below stops at the same set).
    if (/\s/.test(c)) { i++; continue; }
    if (c === '#' || c === '!') break;
    if (c === '{' || c === '}') { out.push(c); i++; continue; }
    const col = offset + i + 1;
    if (c === '"') {
      let j = i + 1, text = '';
      while (j < s.length && s[j] !== '"') {
        if (s[j] === '\\' && j + 1 < s.length && (s[j + 1] === '"' || s[j + 1] === '\\')) { text += s[j + 1]; j += 2; continue; }
        text += s[j++];
      }
      out.push({ text, quoted: true, file, line, col });
      i = j + 1;
      continue;
    }
    let j = i;
    // keepalived ends a word at "#" or "!" too: "priority 150#x" is 150, "auth_pass ab!cd" is ab
    // (2.2.7's dump).
    while (j < s.length && !/[\s{}#!]/.test(s[j])) {
      // ${NAME} is one word, braces and all.
      if (s[j] === '$' && s[j + 1] === '{') { const end = s.indexOf('}', j); j = end < 0 ? s.length : end + 1; continue; }
      j++;
    }
    const text = s.slice(i, j);
    // <NAME>, <ip address>: a placeholder a template engine or a person was meant to fill.
    const angle = /<[^<>]+>?/.exec(s.slice(i));
    if (angle && (angle.index < j - i || /^<[^<>]*>/.test(s.slice(i)))) r.templates.push({ file, line, col: col + angle.index, token: angle[0].length > 40 ? angle[0].slice(0, 40) : angle[0] });
    out.push({ text, quoted: false, file, line, col });
    i = j;
  }
  return out;
}

// Lines into statements. "{" opens a block for the statement before it on the same line, or for
// the one on the line before when it starts a line; words after "{" on the same line are a
// statement inside the block.
function build(lines: Line[], r: LexResult): Stmt[] {
  const root: Stmt = { key: '', args: [], kids: [], file: '', line: 0, col: 0 };
  const stack: Stmt[] = [root];
  const top = () => stack[stack.length - 1];
  let last: Stmt | null = null;       // the last statement ended by a line end, without a block
  for (const l of lines) {
    let cur: Word[] = [];
    const flush = (): Stmt | null => {
      if (!cur.length) return null;
      const [k, ...args] = cur;
      const s: Stmt = { key: k.text, args, kids: null, file: k.file, line: k.line, col: k.col };
      top().kids!.push(s);
      cur = [];
      return s;
    };
    let lineStart = true;
    for (const w of l.words) {
      if (w === '{') {
        const s = flush() ?? (lineStart && last && last.kids === null ? last : null);
        if (s) { s.kids = []; stack.push(s); }
        else {
          // "{" with nothing before it: an anonymous block, kept so its "}" balances.
          const anon: Stmt = { key: '{', args: [], kids: [], file: l.file, line: l.line, col: 1 };
          top().kids!.push(anon); stack.push(anon);
        }
        last = null;
      } else if (w === '}') {
        flush();
        if (stack.length > 1) stack.pop();
        else r.problems.push({ file: l.file, line: l.line, col: 1, keyword: '}', why: 'closes a block that was never opened' });
        last = null;
      } else cur.push(w);
      lineStart = false;
    }
    last = flush();
  }
  while (stack.length > 1) {
    const s = stack.pop()!;
    r.problems.push({ file: s.file, line: s.line, col: s.col, keyword: s.key, why: 'its block is never closed with "}"' });
  }
  return root.kids!;
}
