// vigil policy check / load and vigil check with policies, as a user runs them (bin/vigil in a
// child process). `load` against a running agent is in agent.test.ts.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const vigil = fileURLToPath(new URL('../../bin/vigil', import.meta.url));
const FIX = fileURLToPath(new URL('../../policies/build/test/', import.meta.url));
const run = (...args: string[]) => {
  const r = spawnSync(vigil, args, { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const dir = mkdtempSync(join(tmpdir(), 'vigil-policy-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('policy check: a good component, and each kind of bad one, with the reason', async (t) => {
  t.match(run('policy', 'check', `${FIX}ok.wasm`), { code: 0, out: /ok\.wasm: ok: sha256 [0-9a-f]{64}; imports / });
  t.match(run('policy', 'check', `${FIX}forbidden-import.wasm`), { code: 2, err: /^vigil policy: the component imports vigil:policy\/secrets.*which vigil does not grant/ });
  const junk = join(dir, 'junk.wasm');
  writeFileSync(junk, 'hello');
  t.match(run('policy', 'check', junk), { code: 2, err: /not a WebAssembly file/ });
  t.match(run('policy', 'check', join(dir, 'missing.wasm')), { code: 2, err: /cannot read .*missing\.wasm: ENOENT/ });
  t.match(run('policy', 'check', `${FIX}ok.wasm`, '--memory', '0'), { code: 2, err: /--memory 0: a size in MiB, 1\.\.256/ });
  t.match(run('policy'), { code: 2, err: /policy needs check or load/ });
  t.match(run('policy', '--help'), { code: 0, out: /vigil policy load NAME FILE/ });
});

t.test('vigil check loads each policy and reports a bad one at its place', async (t) => {
  const pol = join(dir, 'web.wasm');
  copyFileSync(`${FIX}ok.wasm`, pol);
  const cfg = join(dir, 'vigil.yaml');
  const text = (file: string) => [
    'policies:',
    `  - { name: web, file: ${file} }`,
    'checks:',
    '  - { name: w, type: policy, policy: web, target: 198.51.100.10 }',
    'instances:',
    '  - { name: VI_1, interface: e0, vrid: 51, virtualAddresses: [192.0.2.100/24], track: { checks: [{ name: w }] } }',
    '',
  ].join('\n');
  writeFileSync(cfg, text(pol));
  t.match(run('check', '-c', cfg), { code: 0, out: /policy web: .*web\.wasm, memory 16 MiB, CPU 50ms per round/ });
  copyFileSync(`${FIX}forbidden-import.wasm`, pol);
  const r = run('check', '-c', cfg);
  t.equal(r.code, 2);
  t.match(r.err, new RegExp(`^${cfg.replace(/[.]/g, '\\.')}:2:5: policy web: .*web\\.wasm: the component imports vigil:policy/secrets`));
  // load refuses it too, and installs nothing.
  copyFileSync(`${FIX}ok.wasm`, pol);
  const before = readFileSync(pol);
  t.match(run('policy', 'load', 'web', `${FIX}trap.wasm`, '-c', cfg, '--wait', '0'), { code: 0, out: /policy web: installed [0-9a-f]{12}/ }, 'a trap at evaluate time is not a load failure');
  t.not(Buffer.compare(readFileSync(pol), before), 0, 'installed');
  copyFileSync(`${FIX}ok.wasm`, pol);
  t.match(run('policy', 'load', 'web', `${FIX}forbidden-import.wasm`, '-c', cfg), { code: 2, err: /does not grant/ });
  t.equal(Buffer.compare(readFileSync(pol), before), 0, 'nothing installed');
  t.match(run('policy', 'load', 'wbe', `${FIX}ok.wasm`, '-c', cfg), { code: 2, err: /has no policy "wbe" \(did you mean "web"\?\)/ });
  writeFileSync(cfg, text('builtin:http-budget'));
  t.match(run('policy', 'load', 'web', `${FIX}ok.wasm`, '-c', cfg), { code: 2, err: /is the built-in builtin:http-budget: point its "file:" at a path/ });
});
