// The committed fuzz corpus as a regression test: every fuzz_decode input through the
// JS-loaded core, and (when wasm2c, clang and libFuzzer are installed) both libFuzzer targets
// over their whole corpus via `make -C fuzz replay`.
import t from 'tap';
import { needTools } from '../helpers/tools.ts';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Core } from '../../host/core/core.ts';
import { DROP_REASONS } from '../../host/core/codes.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CORPUS = join(ROOT, 'fuzz', 'corpus');

const files = (target: string): string[] => {
  const dir = join(CORPUS, target);
  return existsSync(dir) ? readdirSync(dir).filter((f) => !f.startsWith('.')).sort().map((f) => join(dir, f)) : [];
};

t.test('fuzz_decode corpus through the JS-loaded core', async (t) => {
  const inputs = files('fuzz_decode');
  t.ok(inputs.length > 0, 'fuzz/corpus/fuzz_decode has seeds');
  const core = new Core();
  const validKinds = new Set<string>();
  for (const f of inputs) {
    const name = f.slice(CORPUS.length + 1);
    const bytes = new Uint8Array(readFileSync(f));
    let d: ReturnType<Core['decodeIp']> | undefined;
    try {
      d = core.decodeIp(bytes);
    } catch (err) {
      t.fail(`${name}: decodeIp threw ${String(err)}`);
      continue;
    }
    if (!(DROP_REASONS as readonly string[]).includes(d.drop)) {
      t.fail(`${name}: drop reason ${String(d.drop)} is not in DROP_REASONS`);
      continue;
    }
    if (d.valid) {
      // One assertion per valid packet, a silent pass for each of the others.
      t.ok(d.checksumValid && d.ttl === 255, `${name}: valid, so its checksum verifies and its TTL is 255`,
        { checksumValid: d.checksumValid, ttl: d.ttl });
      validKinds.add(`v${d.version}/IPv${d.family}`);
    }
  }
  t.pass(`${inputs.length} inputs decoded without throwing, every drop reason known`);
  // The seeds must keep covering each kind of valid advert, or the fuzzer starts from less.
  t.same([...validKinds].sort(), ['v2/IPv4', 'v3/IPv4', 'v3/IPv6'], 'valid seeds of every version and family');
});

// The libFuzzer binaries: only where the toolchain is installed (.ci/run installs it).
function toolchainMissing(): string | undefined {
  const tools = needTools('make', 'wasm2c', 'clang');
  if (tools) return tools;
  const lib = spawnSync('clang', ['-print-file-name=libclang_rt.fuzzer-x86_64.a'], { encoding: 'utf8' }).stdout.trim();
  const res = spawnSync('clang', ['-print-resource-dir'], { encoding: 'utf8' }).stdout.trim();
  if (!existsSync(lib) && !existsSync(join(res, 'lib', 'linux', 'libclang_rt.fuzzer-x86_64.a'))) {
    return 'libFuzzer is not installed (apt-get install libclang-rt-14-dev)';
  }
  if (!existsSync(join(ROOT, 'core-wasm', 'build', 'core.wasm'))) return 'core.wasm is not built (make core)';
  return undefined;
}

const missing = toolchainMissing();
t.test('make -C fuzz replay: every committed input, both targets, no crash', { skip: missing ?? false, timeout: 300_000 }, async (t) => {
  const r = spawnSync('make', ['--no-print-directory', '-C', join(ROOT, 'fuzz'), 'replay'], { encoding: 'utf8', timeout: 280_000 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  t.equal(r.status, 0, 'make -C fuzz replay exits 0', { output: out.split('\n').slice(-30).join('\n') });
  t.match(out, /replay: fuzz_decode: \d+ inputs, ok/, 'fuzz_decode replayed its corpus');
  t.match(out, /replay: fuzz_events: \d+ inputs, ok/, 'fuzz_events replayed its corpus');
});
