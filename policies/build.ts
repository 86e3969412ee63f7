// Builds every policy: AssemblyScript -> core wasm (asc) -> component of world vigil:policy/policy
// (jco componentEmbed + componentNew) -> policies/build/<name>.wasm, then checks each result the
// way the host will load it (jco transpile: it must import nothing but probes/log/clock and
// export evaluate). src/ holds the built-in policies, test-fixtures/ the broken and malicious
// ones for the runtime's tests (-> build/test/). A fixture with a <name>.wit beside it is built
// against that extra world (appended to policy.wit) and must be *refused* by the check.
// Run: node_modules/.bin/node policies/build.ts [--force]   (make policies)
import { readFileSync, writeFileSync, mkdirSync, readdirSync, existsSync, statSync } from 'node:fs';
import { join, basename } from 'node:path';
import { execFileSync } from 'node:child_process';
import { componentEmbed, componentNew, transpile } from '@bytecodealliance/jco';

const here = new URL('.', import.meta.url).pathname;
const root = join(here, '..');
const witPath = join(here, 'wit/policy.wit');
const sdkDir = join(here, 'sdk');

/** The interfaces a policy may import; anything else means the component is refused. */
export const ALLOWED_IMPORTS = ['vigil:policy/probes', 'vigil:policy/log', 'vigil:policy/clock'];

// stub: the SDK's arena is the stub allocator (sdk/abi.ts says why). An abort (a failed
// assert, an index out of range) is logged through the world's log import, then traps
// (sdk/abort.ts); the name is a path from the repository root, where asc runs.
export const ASC_FLAGS = ['--runtime', 'stub', '--use', 'abort=policies/sdk/abort/onAbort', '-O3'];

export interface Verdict { imports: string[]; exports: string[]; problems: string[] }

/** What the host checks before it runs a component: its imports and its export. */
export async function verify(component: Uint8Array): Promise<Verdict> {
  const problems: string[] = [];
  let imports: string[] = [], exports: string[] = [];
  try {
    const out = await transpile(component, { name: 'policy', instantiation: 'async', noTypescript: true });
    imports = out.imports;
    exports = out.exports.map(([name]) => name);
  } catch (e) {
    return { imports, exports, problems: [`not a loadable component: ${(e as Error).message}`] };
  }
  for (const i of imports) {
    if (!ALLOWED_IMPORTS.includes(i.replace(/@[^@]*$/, ''))) problems.push(`imports ${i}, which a policy may not`);
  }
  if (!exports.includes('evaluate')) problems.push('does not export evaluate');
  return { imports, exports, problems };
}

/** One policy source to one component; `extraWit` adds a fixture's own world. */
export async function buildOne(src: string, extraWit?: string): Promise<Uint8Array> {
  const core = join(root, 'policies/build/.core', basename(src, '.ts') + (extraWit ? '.x' : '') + '.wasm');
  mkdirSync(join(core, '..'), { recursive: true });
  execFileSync(join(root, 'node_modules/.bin/asc'), [src, '-o', core, ...ASC_FLAGS], { stdio: 'inherit', cwd: root });
  let witSource = readFileSync(witPath, 'utf8');
  let world = 'policy';
  if (extraWit) {
    witSource += '\n' + readFileSync(extraWit, 'utf8');
    world = basename(extraWit, '.wit');
  }
  const embedded = await componentEmbed({ binary: readFileSync(core), witSource, world });
  return componentNew(embedded);
}

function newest(paths: string[]): number {
  return Math.max(...paths.map((p) => statSync(p).mtimeMs));
}

function sources(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.ts')).sort().map((f) => join(dir, f));
}

async function main(): Promise<void> {
  const force = process.argv.includes('--force');
  const sdk = [witPath, ...sources(sdkDir), new URL(import.meta.url).pathname];
  const jobs = [
    ...sources(join(here, 'src')).map((src) => ({ src, outDir: join(here, 'build') })),
    ...sources(join(here, 'test-fixtures')).map((src) => ({ src, outDir: join(here, 'build/test') })),
  ];
  let failed = 0;
  for (const { src, outDir } of jobs) {
    const name = basename(src, '.ts');
    const out = join(outDir, name + '.wasm');
    const wit = src.replace(/\.ts$/, '.wit');
    const extraWit = existsSync(wit) ? wit : undefined;
    const inputs = [...sdk, src, ...(extraWit ? [extraWit] : [])];
    // Incremental: a component is rebuilt when its source, the SDK, the WIT or this script changed.
    if (!force && existsSync(out) && statSync(out).mtimeMs >= newest(inputs)) continue;
    let component: Uint8Array;
    try {
      component = await buildOne(src, extraWit);
    } catch (e) {
      console.error(`${src}: ${(e as Error).message.split('\n')[0]}`); // asc has printed why
      failed++;
      continue;
    }
    const { problems } = await verify(component);
    const rel = out.slice(root.length + 1);
    // A fixture built against its own world exists to be refused; accepting it is the failure.
    if (extraWit ? problems.length === 0 : problems.length > 0) {
      console.error(`${rel}: ${extraWit ? 'the check did not refuse it' : problems.join('; ')}`);
      failed++;
      continue;
    }
    mkdirSync(outDir, { recursive: true });
    writeFileSync(out, component);
    console.log(`${rel} (${component.length} bytes)${extraWit ? ' refused as intended: ' + problems.join('; ') : ''}`);
  }
  if (failed) process.exit(1);
}

if (import.meta.main) await main();
