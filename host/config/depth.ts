// How deep a YAML text nests, found by a linear scan before the YAML parser runs: the parser
// recurses per level, and a few thousand levels ([[[[... or "- - - -", easily within the file
// size limit) overflow its stack after seconds of work. A vigil config nests about 6 levels.
export const MAX_DEPTH = 64;

/** The first place nesting goes past MAX_DEPTH, as a 0-based offset, or undefined. */
export function tooDeep(text: string): number | undefined {
  let flow = 0;
  const indents: number[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    // A line: its indentation (block depth), then "- " items opening more levels, then flow.
    let indent = 0;
    while (i < n && text[i] === ' ') { indent++; i++; }
    if (flow === 0 && i < n && text[i] !== '\n' && text[i] !== '#') {
      while (indents.length && indents[indents.length - 1]! >= indent) indents.pop();
      indents.push(indent);
      let dashes = 0;
      while (i < n && text[i] === '-' && (text[i + 1] === ' ' || text[i + 1] === '\n' || i + 1 === n)) {
        dashes++;
        i += 2;
        while (i < n && text[i] === ' ') i++;
        if (indents.length + dashes > MAX_DEPTH) return i;
      }
      if (indents.length > MAX_DEPTH) return i;
    }
    for (; i < n && text[i] !== '\n'; i++) {
      const c = text[i];
      if (c === '#' && (i === 0 || text[i - 1] === ' ' || text[i - 1] === '\t')) {
        while (i < n && text[i] !== '\n') i++;
        break;
      }
      // A quote opens a quoted scalar only where a scalar starts (not in "don't").
      if ((c === '"' || c === "'") && (i === 0 || ' \t[{,:-'.includes(text[i - 1]!))) { i = skipQuoted(text, i); continue; }
      if (c === '[' || c === '{') {
        if (++flow + indents.length > MAX_DEPTH) return i;
      } else if ((c === ']' || c === '}') && flow > 0) flow--;
    }
    i++;
  }
  return undefined;
}

// Past a quoted scalar (it may span lines); at its closing quote, or the end.
function skipQuoted(text: string, at: number): number {
  const q = text[at];
  for (let i = at + 1; i < text.length; i++) {
    if (q === '"' && text[i] === '\\') { i++; continue; }
    if (text[i] === q) {
      if (q === "'" && text[i + 1] === "'") { i++; continue; }
      return i;
    }
  }
  return text.length;
}
