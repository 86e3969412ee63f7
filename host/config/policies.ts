// The top-level `policies:` list: WebAssembly check policies the checker loads (host/policy/),
// each named so checks of type policy can use it and `vigil policy load NAME FILE` can replace
// it. Only the file's place is checked here (the config stays synchronous and I/O-free but
// for its own file); reading and validating the component is the checker's and
// `vigil check`'s job.
import { isAbsolute, dirname, resolve } from 'node:path';
import type { Ctx, Entry, YNode } from './reader.ts';
import { at, durationIn, itemMap, list, string, uniqueName } from './reader.ts';
import { DEFAULTS, LIMITS, type PolicySpec } from './types.ts';
import { parseDuration } from '../duration.ts';

const EXAMPLE = '{ name: web-budget, file: builtin:http-budget }';
export const BUILTIN_POLICIES = ['http-budget', 'tcp-banner', 'dns-answer'] as const;

export function readPolicies(ctx: Ctx, e: Entry): PolicySpec[] {
  const items = list(ctx, e, `policies, e.g. [${EXAMPLE}]`);
  const out: PolicySpec[] = [];
  const names = new Map<string, YNode>();
  items?.forEach((item, i) => {
    if (i === LIMITS.policies) ctx.report(item, `${items.length} policies; vigil loads at most ${LIMITS.policies}`);
    const f = itemMap(ctx, item, 'policy', `policy ${i + 1}`, EXAMPLE);
    if (!f) return;
    let ok = true;
    const bad = (node: YNode, message: string) => { ctx.report(node, message); ok = false; };
    const name = uniqueName(ctx, f, item, i, 'policy', 'web-budget', names);
    if (name === undefined) ok = false;
    const label = name !== undefined ? `policy ${name}` : `policy ${i + 1}`;
    const fE = f.get('file');
    let file: string | undefined;
    if (!fE) bad(item, `${label} has no file: add "file: /etc/vigil/policies/NAME.wasm" (a component) or "file: builtin:http-budget"`);
    else {
      const text = string(ctx, fE, 'the path of a .wasm component, or builtin:NAME');
      if (text === undefined) ok = false;
      else if (text.startsWith('builtin:')) {
        const b = text.slice('builtin:'.length);
        if ((BUILTIN_POLICIES as readonly string[]).includes(b)) file = text;
        else bad(at(fE), `${label}: there is no built-in policy "${b}": the built-in policies are ${BUILTIN_POLICIES.join(', ')}`);
      } else if (!text.trim() || /[\0\n]/.test(text)) bad(at(fE), `${label}: file ${JSON.stringify(text)} is not a path`);
      // Relative to the config's own directory, as a reader of the file expects.
      else file = isAbsolute(text) ? text : resolve(dirname(resolve(ctx.file)), text);
    }
    const mE = f.get('memory');
    let memoryPages = mibToPages(DEFAULTS.policy.memory);
    if (mE) {
      const text = string(ctx, mE, 'a size such as 16MiB');
      const m = text === undefined ? null : /^(\d{1,4})\s*MiB$/.exec(text.trim());
      const [lo, hi] = LIMITS.policyMemoryMiB;
      if (!m) { if (text !== undefined) bad(at(mE), `${label}: memory ${JSON.stringify(text)} is not a size: write e.g. 16MiB (${lo}..${hi} MiB)`); else ok = false; }
      else if (Number(m[1]) < lo || Number(m[1]) > hi) bad(at(mE), `${label}: memory ${m[1]}MiB is out of range: ${lo}..${hi} MiB`);
      else memoryPages = Number(m[1]) * 16;
    }
    const cE = f.get('cpu');
    const cpuUs = cE ? durationIn(ctx, cE, ...LIMITS.policyCpuUs, 1e3) : parseDuration(DEFAULTS.policy.cpu);
    if (cpuUs === undefined) ok = false;
    if (ok && name !== undefined && file !== undefined) out.push({ name, ...ctx.pos(item), file, memoryPages, cpuUs: cpuUs! });
  });
  return out;
}

function mibToPages(text: string): number { return Number(/^(\d+)MiB$/.exec(text)![1]) * 16; }
