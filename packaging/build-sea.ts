// `make dist [ARCH=x64|arm64]`: dist/vigil-linux-ARCH, one executable (a Node 26 single
// executable application, SEA) that runs on a Linux box of that CPU with no Node and no
// node_modules; dist/vigil is the x64 one (a hard link). Every build prints the sha256 of each
// executable in dist/ and writes dist/SHA256SUMS (`cd dist && sha256sum -c SHA256SUMS`).
// arm64 is cross-built on this x86-64 box (packaging/cross.ts: Node from the npm registry, the
// shim by aarch64-linux-gnu-gcc) and smoke-tested under qemu-aarch64-static. It carries:
//   - the host (host/cli/main.ts and every command, their dynamic imports inlined) and yaml,
//     bundled by rolldown into one ES module, which Node 26 runs with "mainFormat": "module";
//   - core.wasm and the native shim as SEA assets (sea-config.json), which host/core/core.ts and
//     host/net/shim.ts take from the executable when `node:sea`'s isSea() says so;
//   - the check policies' runtime: built-in policies, the sandbox worker and jco for the
//     compiler's worker (packaging/policy-assets.ts, host/policy/workers.ts).
// Nothing else: the build fails if the bundle pulls in any package but yaml and undici. undici
// is the HTTP checker's (`vigil checker`, its own process): it is reached only through that
// command's dynamic import, which the bundle keeps lazy, so the engine never runs it
// (docs/ARCHITECTURE.md "Processes"; test/checks has the import-graph test).
//
// sea-config.json is the template: its main, executable and output name files in a private
// build directory (dist/.build-XXXXXX, so two builds never meet); its assets are relative to
// the repository. The executable is replaced (rename) only once the new one has printed its
// version. For another CPU the blob has no code cache (V8's cache is made by the building node,
// for its own CPU) and the shim asset is the cross-built one.
//
// Size: a SEA is the node binary plus a note section with the blob. The binary is stripped
// *before* the blob goes in: stripping the finished executable breaks it (strip moves the
// .note.node.sea section out of its segment and the executable segfaults at start).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArch, sha256, target, type Arch } from './cross.ts';
import { rolldown, type Plugin } from 'rolldown';
import { builtins } from './bundle.ts';
import { policyAssets } from './policy-assets.ts';

const ROOT = join(import.meta.dirname, '..');
process.chdir(ROOT);
interface SeaConfig { main: string; executable: string; output: string; assets: Record<string, string>; [k: string]: unknown }
const template = JSON.parse(readFileSync('packaging/sea-config.json', 'utf8')) as SeaConfig;
// --arch ARCH (the Makefile's ARCH), x64 by default.
const argi = process.argv.indexOf('--arch');
let arch: Arch;
try {
  arch = parseArch(argi > 0 ? process.argv[argi + 1] : process.env.ARCH);
} catch (e) {
  fail((e as Error).message);
}
const DIST = `dist/vigil-linux-${arch}`;
const ALLOWED_PACKAGES = new Set(['yaml', 'undici']);
const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

function fail(msg: string): never {
  console.error(`build-sea: ${msg}`);
  process.exit(1);
}

function packageOf(id: string): string | undefined {
  const i = id.lastIndexOf('/node_modules/');
  if (i < 0) return undefined;
  const [scope, name] = id.slice(i + '/node_modules/'.length).split('/');
  return scope.startsWith('@') ? `${scope}/${name}` : scope;
}

const t0 = performance.now();
const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
let tgt: ReturnType<typeof target>;
try {
  tgt = target(ROOT, arch, process.versions.node, (s) => console.log(s));
} catch (e) {
  fail((e as Error).message);
}
if (arch !== 'x64') template.assets = { ...template.assets, 'vigil_shim.node': relative(ROOT, tgt.shim) };
for (const [name, file] of Object.entries(template.assets)) {
  if (!existsSync(file)) fail(`asset ${name}: ${file} is missing: run \`make\` first`);
}
mkdirSync('dist', { recursive: true });
const BUILD = mkdtempSync('dist/.build-');
process.on('exit', () => rmSync(BUILD, { recursive: true, force: true }));
const sea: SeaConfig = { ...template, main: join(BUILD, template.main), executable: join(BUILD, template.executable), output: join(BUILD, template.output) };
if (!tgt.codeCache) sea.useCodeCache = false;
const CONFIG = join(BUILD, 'sea-config.json');
// The shim without its symbol table (47 kB become ~40: the budget), as the node binary below.
const shimCopy = join(BUILD, 'vigil_shim.node');
copyFileSync(sea.assets['vigil_shim.node']!, shimCopy);
try {
  execFileSync(tgt.strip, ['--strip-unneeded', shimCopy], { stdio: 'inherit' });
  sea.assets = { ...sea.assets, 'vigil_shim.node': shimCopy };
} catch (e) {
  console.warn(`build-sea: strip of the shim failed (${(e as Error).message}): it keeps its symbols`);
}
// The policy runtime's assets: built-in policies, the sandbox worker, jco for the compiler.
sea.assets = { ...sea.assets, ...await policyAssets(ROOT, join(ROOT, BUILD)) };
writeFileSync(CONFIG, JSON.stringify(sea, null, 2));

// main.ts reads its version from ../../package.json; the executable has no such file, so that
// one read becomes the version, as a literal. The build fails if the line changed.
const PKG_READ = "readFileSync(new URL('../../package.json', import.meta.url), 'utf8')";
const inlineVersion: Plugin = {
  name: 'vigil-inline-version',
  transform(code, id) {
    if (relative(ROOT, id) !== join('host', 'cli', 'main.ts')) return null;
    if (code.split(PKG_READ).length !== 2) fail(`host/cli/main.ts no longer reads package.json as \`${PKG_READ}\`: update packaging/build-sea.ts`);
    return { code: code.replace(PKG_READ, JSON.stringify(JSON.stringify({ version }))), map: null };
  },
};

const bundle = await rolldown({ input: 'host/cli/main.ts', platform: 'node', plugins: [inlineVersion, builtins], logLevel: 'warn' });
// Minified for size (the executable's budget is 120 MB), keeping names: errors are named
// after their classes (host/errors.ts), and stack traces stay readable.
const { output } = await bundle.write({
  file: sea.main, format: 'esm', codeSplitting: false, sourcemap: false,
  minify: { mangle: { keepNames: true }, compress: { keepNames: { function: true, class: true } }, codegen: { removeWhitespace: true } },
});
await bundle.close();
if (output.length !== 1 || output[0].type !== 'chunk') fail(`expected one chunk, got ${output.map((o) => o.fileName).join(', ')}`);
const chunk = output[0];
const packages = new Set(chunk.moduleIds.map(packageOf).filter((p) => p !== undefined));
const extra = [...packages].filter((p) => !ALLOWED_PACKAGES.has(p));
if (extra.length) fail(`the bundle pulls in ${extra.join(', ')}: only ${[...ALLOWED_PACKAGES].join(', ')} may go into the executable`);
// Every dynamic import must be inlined (a regex over the code would also match JSDoc types).
if (chunk.dynamicImports.length) fail(`the bundle still imports other files at run time: ${chunk.dynamicImports.join(', ')}`);
console.log(`bundle: ${mb(statSync(sea.main).size)}, ${chunk.moduleIds.length} modules, packages: ${[...packages].join(', ') || 'none'}`);

// The SEA is made of the version of the node running this script (a blob fits one exact
// version): node_modules' Node 26 for x64, never the system's; the same version for arm64.
copyFileSync(tgt.node, sea.executable);
chmodSync(sea.executable, 0o755);
const full = statSync(sea.executable).size;
try {
  execFileSync(tgt.strip, ['--strip-all', sea.executable], { stdio: 'inherit' });
  console.log(`node ${process.version} ${arch}: ${mb(full)}, stripped ${mb(statSync(sea.executable).size)}`);
} catch (e) {
  console.warn(`build-sea: strip failed (${(e as Error).message}): node ${process.version} ${arch} keeps its symbols (${mb(full)})`);
}

execFileSync(process.execPath, ['--build-sea', CONFIG], { stdio: ['ignore', 'ignore', 'inherit'] });

// Before it replaces the last build: it runs without node_modules on PATH, and knows its
// version (arm64: under qemu-user; without qemu-aarch64-static only a warning).
if (tgt.runner === undefined) {
  console.warn(`build-sea: qemu-aarch64-static is not installed (apt-get install qemu-user-static): ${DIST} was not run before it replaced the last build`);
} else {
  const [cmd, ...pre] = [...tgt.runner, sea.output];
  const smoke = spawnSync(cmd, [...pre, '--version'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' }, timeout: 120_000 });
  const got = smoke.stdout?.trim();
  if (got !== `vigil ${version}`) fail(`${[...tgt.runner, sea.output].join(' ')} --version printed ${JSON.stringify(got)}, not "vigil ${version}"\n${smoke.stderr ?? smoke.error}`);
}
renameSync(sea.output, DIST);
if (arch === 'x64') {
  // dist/vigil, as the tests, `make install` and the README have always had it: the same file.
  const tmp = join(BUILD, 'vigil.link');
  linkSync(DIST, tmp);
  renameSync(tmp, 'dist/vigil');
}
const size = statSync(DIST).size;
console.log(`${DIST}: ${mb(size)} (${size} bytes), vigil ${version} for linux-${arch}, built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
if (size > 120e6) console.warn(`build-sea: ${DIST} is ${mb(size)}: over the 120 MB budget (test/dist fails on it)`);

// A SEA cannot be signed here: the sha256 of every executable in dist/, printed and in
// dist/SHA256SUMS (the format of sha256sum, for \`sha256sum -c\`).
// Two builds (x64 and arm64, as the tests run them) may finish together: each writes the list,
// then reads the files again, and writes again until what it wrote is what is there, so the
// last writer's list is right. A file is hashed once per (inode, size, mtime).
const hashed = new Map<string, string>();
const sumsNow = () => readdirSync('dist').filter((f) => f === 'vigil' || f.startsWith('vigil-linux-')).sort().map((f) => {
  const st = statSync(join('dist', f));
  const key = `${st.ino}:${st.size}:${st.mtimeMs}`;
  if (!hashed.has(key)) hashed.set(key, sha256(join('dist', f)));
  return `${hashed.get(key)}  ${f}\n`;
}).join('');
let sums = sumsNow();
for (let i = 0; ; i++) {
  writeFileSync(join(BUILD, 'SHA256SUMS'), sums);
  renameSync(join(BUILD, 'SHA256SUMS'), 'dist/SHA256SUMS');
  const again = sumsNow();
  if (again === sums || i === 10) break;
  sums = again;
}
process.stdout.write(`dist/SHA256SUMS:\n${sums}`);
