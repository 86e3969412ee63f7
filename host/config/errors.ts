// A configuration file that vigil refuses. It is refused whole: every problem in the file is
// collected first, then thrown at once, each with its place (1-based line and column of the
// offending node: the key for an unknown key, the value for a bad value), the way a compiler
// reports. Nothing is a warning: keepalived's "Unknown keyword" and carry on is what this avoids.
import { VigilError } from '../errors.ts';

export interface ConfigProblem {
  file: string;
  line: number;     // 1-based; 0 when the problem is the file itself (unreadable, too big)
  col: number;      // 1-based; 0 with line 0
  message: string;  // what is wrong and the fix
}

// `file:line:col: message`, or `file: message` for a problem with the whole file.
export function formatProblem(p: ConfigProblem): string {
  return p.line > 0 ? `${p.file}:${p.line}:${p.col}: ${p.message}` : `${p.file}: ${p.message}`;
}

export class ConfigError extends VigilError {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super('VIGIL_ECONFIG', problems.map(formatProblem).join('\n'));
    this.problems = problems;
  }
}
