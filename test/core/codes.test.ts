// The host's names for the core's codes must match the core's own tables.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { Core } from '../../host/core/core.ts';
import { DROP_REASONS, REASONS, STATES, COUNTERS, CFG_ERRORS, ACTION } from '../../host/core/codes.ts';

const src = readFileSync(new URL('../../core-wasm/assembly/codes.ts', import.meta.url), 'utf8');
const consts = (prefix: string) => [...src.matchAll(new RegExp(`export const ${prefix}_(\\w+): u8 = (\\d+);`, 'g'))]
  .map((m) => [m[1].toLowerCase(), Number(m[2])] as const);

t.test('names line up with core-wasm/assembly/codes.ts', async (t) => {
  const core = new Core();
  t.equal(core.raw.dropReasons(), DROP_REASONS.length);
  t.equal(core.raw.counterCount(), COUNTERS.length);
  for (const [name, code] of consts('DROP')) {
    const host = name === 'own' ? 'own_packet' : name;
    t.equal(DROP_REASONS[code], host, `drop ${code}`);
  }
  for (const [name, code] of consts('WHY')) t.equal(REASONS[code], name, `reason ${code}`);
  for (const [name, code] of consts('STATE')) t.equal(STATES[code], name, `state ${code}`);
  const actions = Object.fromEntries(consts('ACTION').map(([n, c]) => [n.replace(/_(\w)/g, (_, x) => x.toUpperCase()), c]));
  t.same(actions, ACTION);
  t.equal(CFG_ERRORS.length, 12);
  t.equal((core.raw.CFG_GROUP as WebAssembly.Global).value, CFG_ERRORS.indexOf('group'));
});
