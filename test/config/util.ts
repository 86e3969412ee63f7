// Helpers for the config tests: parse text, get the problems, and find where a piece of text is,
// so an expected line:col is stated by the text it points at, not copied from the parser.
import { parseConfig } from '../../host/config/load.ts';
import { ConfigError, type ConfigProblem } from '../../host/config/errors.ts';
import type { AgentConfig } from '../../host/config/types.ts';

export const FILE = 'test.yaml';

export function lines(...ls: string[]): string {
  return ls.join('\n') + '\n';
}

export function ok(text: string): AgentConfig {
  return parseConfig(text, FILE);
}

export function problemsOf(text: string): ConfigProblem[] {
  try {
    parseConfig(text, FILE);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('expected the config to be refused, and it was accepted');
}

// 1-based line and column of the nth (1-based) occurrence of `needle` in `text`. A "|" in the
// needle marks the spot within it: "vmac: |1" is the 1 after "vmac: ".
export function where(text: string, needle: string, nth = 1): { line: number; col: number } {
  const bar = Math.max(0, needle.indexOf('|'));
  const plain = needle.replace('|', '');
  let i = -1;
  for (let k = 0; k < nth; k++) {
    i = text.indexOf(plain, i + 1);
    if (i < 0) throw new Error(`${JSON.stringify(needle)} occurs fewer than ${nth} times`);
  }
  i += bar;
  const before = text.slice(0, i);
  const line = before.split('\n').length;
  return { line, col: i - before.lastIndexOf('\n') };
}

// The expected problem at a needle: { file, line, col, message }.
export function at(text: string, needle: string | [string, number], message: string): ConfigProblem {
  const [n, nth] = typeof needle === 'string' ? [needle, 1] : needle;
  return { file: FILE, ...where(text, n, nth), message };
}

// A valid instance, as YAML lines (4 spaces in), to build files from.
export function instance(name: string, vrid: number, vip: string, extra: string[] = []): string[] {
  return [`  - name: ${name}`, '    interface: e0', `    vrid: ${vrid}`, `    virtualAddresses: [${vip}]`, ...extra.map((l) => `    ${l}`)];
}
