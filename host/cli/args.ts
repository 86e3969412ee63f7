// parseArgs with vigil's error standard: a bad flag is a one-line UsageError naming the fix.
// process.getBuiltinModule, not import: see host/core/addr.ts.
const { parseArgs } = process.getBuiltinModule('node:util');
import type { ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.ts';

// Here, not in run.ts: the checker and `vigil check` read it without loading the agent's code.
export const DEFAULT_CONFIG = '/etc/vigil/vigil.yaml';

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, command: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    const msg = (err as Error).message.replace(/\. To specify.*$/s, '');
    throw new UsageError(`${msg} (see \`vigil ${command} --help\`)`);
  }
}
