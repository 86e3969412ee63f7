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
  raw.forEach((src, i) => {
    const line = i + 1;
    let body = src;
    let offset = 0;
    // @name: the line is for the config id `name` only; @^name: for every other.
    const cond = /^(\s*)@(\^?)([^\s]*)\s?/.exec(body);
    if (cond) {
      const not = cond[2] === '^';
      const match = cond[3] === configId;
      if (match === not) { r.skipped++; return; }
      offset = cond[0].length;
      body = body.slice(offset);
    }
    // $NAME=value: a definition, used as ${NAME} or $NAME on later lines.
    const def = /^\s*\$([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(body);
    if (def) { defs.set(def[1], def[2].trim()); return; }
    templateMarks(file, line, body, offset, r);
    const words = tokenize(body, file, line, offset, defs, r);
    if (!words.length) return;
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
  });
}

// A template's markers, found before comments are taken out (a Jinja "{# #}" or a "#NAME#"
// placeholder looks like a comment to keepalived).
function templateMarks(file: string, line: number, body: string, offset: number, r: LexResult): void {
  const re = /\{\{|\{%|\{#|#[A-Z][A-Z0-9_]*#|<--[^>]*-->/g;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    r.templates.push({ file, line, col: offset + m.index + 1, token: m[0].startsWith('<') ? m[0] : m[0] === '{{' ? templateSpan(body, m.index, '}}') : m[0] === '{%' ? templateSpan(body, m.index, '%}') : m[0] === '{#' ? templateSpan(body, m.index, '#}') : m[0] });
    return;
  }
}
const templateSpan = (s: string, at: number, close: string) => {
  const end = s.indexOf(close, at + 2);
  return end < 0 ? s.slice(at, at + 20) : s.slice(at, end + close.length);
};

function tokenize(s: string, file: string, line: number, offset: number, defs: Map<string, string>, r: LexResult): (Word | '{' | '}')[] {
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
      out.push({ text: substitute(text, defs, true, file, line, col, r), quoted: true, file, line, col });
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < s.length && !/[\s{}]/.test(s[j])) {
      // ${NAME} is one word, braces and all.
      if (s[j] === '$' && s[j + 1] === '{') { const end = s.indexOf('}', j); j = end < 0 ? s.length : end + 1; continue; }
      j++;
    }
    const text = substitute(s.slice(i, j), defs, false, file, line, col, r);
    // <NAME>, <ip address>: a placeholder a template engine or a person was meant to fill.
    const angle = /<[^<>]+>?/.exec(s.slice(i));
    if (angle && (angle.index < j - i || /^<[^<>]*>/.test(s.slice(i)))) r.templates.push({ file, line, col: col + angle.index, token: angle[0].length > 40 ? angle[0].slice(0, 40) : angle[0] });
    // A definition may hold several words.
    for (const w of text.split(/\s+/).filter(Boolean)) out.push({ text: w, quoted: false, file, line, col });
    i = j;
  }
  return out;
}

// ${NAME} and $NAME from the definitions; an undefined ${NAME} outside quotes is a template's
// (Terraform, shell) placeholder, not keepalived config.
function substitute(t: string, defs: Map<string, string>, quoted: boolean, file: string, line: number, col: number, r: LexResult): string {
  if (!t.includes('$')) return t;
  return t.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (m, a: string | undefined, b: string | undefined, at: number) => {
    const name = a ?? b!;
    const v = defs.get(name);
    if (v !== undefined) return v;
    if (a !== undefined && !quoted) r.templates.push({ file, line, col: col + at, token: m });
    return m;
  });
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
