// vigil policy check FILE / vigil policy load NAME FILE: validate a check policy the way the
// checker will (compile, imports, exports, memory limit, instantiate in the sandbox), and
// install one over a running agent's: the new file is renamed over the policy's configured
// file, which the checker watches and swaps in between two rounds. Nothing is installed unless
// the new file passed here first, and the running agent refuses it again on its own if not.
import { copyFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UsageError, VigilError } from '../errors.ts';
import { loadConfig } from '../config/load.ts';
import { DEFAULTS, type PolicySpec } from '../config/types.ts';
import { parseDuration } from '../duration.ts';
import { closest } from '../config/keys.ts';
import { formatListen } from '../config/values.ts';
import { parse } from './args.ts';
import type { Command } from './command.ts';
import { DEFAULT_CONFIG } from './run.ts';
import { fetchJson } from './status.ts';

const usage = `Usage: vigil policy check FILE [--memory MIB] [--cpu DURATION]
       vigil policy load NAME FILE [-c CONFIG] [--wait DURATION]

WebAssembly check policies (policies/GUIDE.md).

  check FILE       validate a component as the checker would: a component of the world
                   vigil:policy/policy that imports only what vigil grants, exports evaluate,
                   fits its memory limit and starts in its sandbox. Exit 0 when it would load.
  load NAME FILE   validate FILE, then install it as policy NAME of the configuration (its
                   "file:" is replaced atomically). The running agent swaps it in between two
                   rounds; this waits (--wait, default 5s) until the agent's status reports it.

  -c, --config FILE   the configuration (default ${DEFAULT_CONFIG})
  --memory MIB        check: the memory limit to validate against (default ${DEFAULTS.policy.memory})
  --cpu DURATION      check: the start-up budget (default ${DEFAULTS.policy.cpu})
  --wait DURATION     load: how long to wait for the agent to report the swap; 0 = don't

Examples:
  vigil policy check policies/build/http-budget.wasm
  vigil policy load web-budget ./http-budget-v2.wasm -c /etc/vigil/vigil.yaml`;

const options = {
  config: { type: 'string', short: 'c' }, memory: { type: 'string' }, cpu: { type: 'string' },
  wait: { type: 'string' }, help: { type: 'boolean', short: 'h' },
} as const;

async function validate(file: string, memoryPages: number, cpuUs: number): Promise<{ sha256: string; imports: string[] }> {
  const { validatePolicy } = await import('../policy/validate.ts');
  const [r] = await validatePolicy([file], { memoryPages, cpuUs });
  if (r instanceof Error) throw r instanceof VigilError ? r : new VigilError('VIGIL_EPOLICY_FORMAT', r.message);
  return r;
}

function mib(text: string | undefined): number {
  if (text === undefined) return Number(/\d+/.exec(DEFAULTS.policy.memory)![0]) * 16;
  const m = /^(\d{1,3})(MiB)?$/.exec(text);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 256) throw new UsageError(`--memory ${text}: a size in MiB, 1..256`);
  return Number(m[1]) * 16;
}

function us(text: string, what: string): number {
  if (text === '0') return 0;
  try { return parseDuration(text); } catch { throw new UsageError(`${what} ${text}: a duration such as 50ms or 5s`); }
}

export const policy: Command = {
  name: 'policy',
  summary: 'validate a check policy, or hot-swap one into the running agent',
  usage,
  async run(argv, io) {
    const { values, positionals } = parse(argv, options, 'policy');
    if (values.help) { io.stdout(usage); return 0; }
    const [sub, ...rest] = positionals;
    if (sub === 'check') {
      if (rest.length !== 1) throw new UsageError('policy check takes one FILE (see `vigil policy --help`)');
      const r = await validate(rest[0], mib(values.memory), values.cpu ? us(values.cpu, '--cpu') : parseDuration(DEFAULTS.policy.cpu));
      io.stdout(`${rest[0]}: ok: sha256 ${r.sha256}; imports ${r.imports.join(', ') || 'nothing'}`);
      return 0;
    }
    if (sub !== 'load') throw new UsageError(sub === undefined ? 'policy needs check or load (see `vigil policy --help`)' : `unknown policy command ${JSON.stringify(sub)}: check or load`);
    if (rest.length !== 2) throw new UsageError('policy load takes NAME FILE (see `vigil policy --help`)');
    const [name, file] = rest;
    const config = loadConfig(values.config ?? DEFAULT_CONFIG);
    const p: PolicySpec | undefined = config.policies.find((x) => x.name === name);
    if (!p) {
      const guess = closest(name, config.policies.map((x) => x.name));
      throw new UsageError(`${config.file} has no policy ${JSON.stringify(name)}${guess ? ` (did you mean "${guess}"?)` : config.policies.length ? `: its policies are ${config.policies.map((x) => x.name).join(', ')}` : ''}`);
    }
    if (p.file.startsWith('builtin:')) throw new UsageError(`policy ${name} is the built-in ${p.file}: point its "file:" at a path (e.g. /etc/vigil/policies/${name}.wasm) to load your own`);
    try { statSync(file); } catch { throw new UsageError(`cannot read ${file}`); }
    const waitUs = values.wait ? us(values.wait, '--wait') : 5e6;
    const r = await validate(file, p.memoryPages, p.cpuUs);
    // Same directory, then rename: the checker sees one complete file or the old one.
    const tmp = join(dirname(p.file), `.${basename(p.file)}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      copyFileSync(file, tmp);
      renameSync(tmp, p.file);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw new VigilError('VIGIL_EPOLICY_READ', `cannot install ${file} as ${p.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    io.stdout(`policy ${name}: installed ${r.sha256.slice(0, 12)} as ${p.file}`);
    if (waitUs === 0 || !config.status.listen) return 0;
    const url = `http://${formatListen(config.status.listen)}/status`;
    const until = Date.now() + waitUs / 1000;
    let last: { sha256?: string; lastSwapMs?: number; lastRefusal?: string | null } | undefined;
    while (Date.now() < until) {
      try {
        const s = await fetchJson(url, 1000) as { checks?: { policy?: { name: string; sha256: string; lastSwapMs: number; lastRefusal: string | null } | null }[] };
        last = s.checks?.map((c) => c.policy).find((x) => x?.name === name) ?? undefined;
        if (last?.sha256 === r.sha256) { io.stdout(`policy ${name}: the agent swapped it in (${last.lastSwapMs} ms from the file change to the new version answering)`); return 0; }
      } catch { /* not up yet, or no agent: keep trying until --wait */ }
      await new Promise((res) => setTimeout(res, 100));
    }
    io.stderr(`policy ${name}: installed, but the agent at ${url} did not report it within ${waitUs / 1e6} s${last?.lastRefusal ? ` (it says: ${last.lastRefusal})` : ' (is it running, with a check that uses this policy?)'}`);
    return 1;
  },
};
