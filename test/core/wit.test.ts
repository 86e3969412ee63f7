// core.wit is the documented contract: it must be valid WIT (jco builds a component from it)
// and its enums must name the same codes, in the same order, as the host and the core.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { componentEmbed, componentNew, componentWit } from '@bytecodealliance/jco';
import { DROP_REASONS, STATES, REASONS, CFG_ERRORS } from '../../host/core/codes.ts';

const wit = readFileSync(new URL('../../core-wasm/core.wit', import.meta.url), 'utf8');

function enumCases(name: string): string[] {
  const m = new RegExp(`enum ${name} \\{([^}]*)\\}`).exec(wit);
  if (!m) throw new Error(`no enum ${name} in core.wit`);
  return m[1].split(',').map((s) => s.trim().replace(/^%/, '').replace(/-/g, '_')).filter(Boolean);
}

t.test('core.wit is valid WIT', async (t) => {
  const embedded = await componentEmbed({ dummy: true, witSource: wit, world: 'core' });
  const printed = await componentWit(await componentNew(embedded));
  t.match(printed, /export vigil:core\/election@0\.1\.0;/);
  t.match(printed, /export vigil:core\/codec@0\.1\.0;/);
  t.match(printed, /export vigil:core\/availability@0\.1\.0;/);
});

t.test('its enums match the codes', async (t) => {
  t.same(enumCases('drop-reason'), DROP_REASONS);
  t.same(enumCases('state'), STATES);
  t.same(enumCases('reason'), REASONS);
  t.same(enumCases('config-error'), CFG_ERRORS);
});
