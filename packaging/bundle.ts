// The host as JavaScript bundles, built by rolldown from host/**/*.ts. Two users:
//   - `make` (host/ target): build/host/, the bundle bin/vigil runs in a checkout, split in
//     chunks so each process loads only its command's code. A start from it skips Node's
//     TypeScript stripper (amaro: its WebAssembly is ~35 ms to load at every start, even when
//     the compile cache has the stripped code) and a module record per file: `vigil check` 180 ->
//     145 ms here, most of it Node's own start.
//   - packaging/build-sea.ts: the single executable's bundle (its plugins come from here).
// The checkout bundle sits two levels under the root like every host module (host/DIR/x.ts),
// so the paths the host resolves from import.meta.url (core.wasm, the shim, package.json, the
// policy workers) are the same from either.
//
//   node packaging/bundle.ts     (re)builds build/host/, replaced whole (see below)
import { existsSync, renameSync, rmSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import { rolldown, type Plugin } from 'rolldown';

export const ROOT = join(import.meta.dirname, '..');
export const HOST_BUNDLE = join(ROOT, 'build', 'host');
export const HOST_ENTRY = 'host/cli/main.ts';

// Node's builtins through process.getBuiltinModule, not `import`. A bundle hoists every import
// to its chunk's top, so every start would load them all, and an ES import of a builtin builds
// its namespace by reading every export, lazy getters included: node:http's (WebSocket,
// CloseEvent, MessageEvent) load Node's internal undici with crypto, tls, zlib and web streams,
// about 16 MB of RSS and 100 ms more at every start (measured on Node 26.10). A builtin's module
// here exports its data properties only (accessors stay lazy; importing one fails the build).
// node:module stays an import: rolldown's own runtime needs it (createRequire) before all else.
const BUILTIN = '\0vigil-builtin:';
export const builtins: Plugin = {
  name: 'vigil-builtins',
  resolveId(id, _importer, extra) {
    // A CommonJS require of a builtin (undici's) wants the builtin itself (require('node:events')
    // is the EventEmitter class), not an ES namespace of its properties: left to rolldown's require.
    if (!isBuiltin(id) || id === 'node:module' || id === 'module' || extra?.kind === 'require-call') return null;
    return { id: BUILTIN + (id.startsWith('node:') ? id : `node:${id}`), moduleSideEffects: false };
  },
  load(id) {
    if (!id.startsWith(BUILTIN)) return null;
    const name = id.slice(BUILTIN.length);
    const names = Object.entries(Object.getOwnPropertyDescriptors(process.getBuiltinModule(name) as object))
      .filter(([k, d]) => 'value' in d && k !== 'default' && /^[A-Za-z_$][\w$]*$/.test(k)).map(([k]) => k);
    return [`const m = process.getBuiltinModule(${JSON.stringify(name)});`, 'export default m;',
      ...names.map((k) => `export const ${k} = m.${k};`)].join('\n');
  },
};

// The modules of the engine's way to its first advert, in two chunks instead of one per shared
// module (~18 files to 6 here): each module file costs Node ~0.4 ms to resolve, read, load from
// the compile cache and link, whatever its size, and the engine loads them on its start's
// critical path (exec to first advert 143 -> 129 ms in A/B runs, with the shim's isatty).
// `start`: what `vigil run` (the supervisor) and `vigil engine` both load first; `engine`: what
// only the engine loads, after it. A module missing from these lists still works, in a chunk of
// its own; paths are host/-relative, without .ts.
// `common`: what the checker and `vigil check` share with them (a chunk of its own, so neither
// loads the agent's start and engine code: ~3 MB of the checker's anonymous memory).
const COMMON_CHUNK = ['errors', 'private-dir', 'net/errors', 'net/shim', 'core/addr', 'agent/log', 'cli/args', 'agent/trim', 'net/memory'];
const START_CHUNK = ['net/sockaddr', 'net/netlink', 'net/netlink/codec', 'net/netlink/socket',
  'net/netlink/links', 'net/netlink/addresses', 'net/netlink/monitor', 'net/vrrp-socket',
  'agent/spec', 'agent/accepted', 'agent/handover', 'agent/boot', 'cli/run'];
const ENGINE_CHUNK = ['agent/engine-main', 'agent/engine-process', 'agent/engine', 'agent/engine-state', 'agent/engine-loop',
  'agent/engine-wire', 'agent/engine-plan', 'agent/engine-status', 'agent/notify', 'net/spawn', 'agent/status-server', 'net/announce',
  'net/vmac', 'net/realtime', 'config/diff', 'core/core', 'core/codes', 'checks/protocol'];
const hostModule = (list: string[]) => {
  const paths = new Set(list.map((m) => join(ROOT, 'host', `${m}.ts`)));
  // A renamed module would otherwise quietly leave its chunk, and the start slow down.
  for (const p of paths) if (!existsSync(p)) throw new Error(`packaging/bundle.ts: ${p} is listed in a start chunk but does not exist`);
  return (id: string) => paths.has(id);
};
const CHUNK_GROUPS = [
  { name: 'engine', test: hostModule(ENGINE_CHUNK) },
  { name: 'start', test: hostModule(START_CHUNK) },
  { name: 'common', test: hostModule(COMMON_CHUNK) },
];

// Built into a directory of its own, then renamed into place: a vigil starting meanwhile sees
// the old bundle, or none (and runs the TypeScript), never half of one.
export async function bundleHost(): Promise<{ chunks: number; bytes: number; ms: number }> {
  const t0 = performance.now();
  const tmp = `${HOST_BUNDLE}.new-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    const bundle = await rolldown({ input: { vigil: join(ROOT, HOST_ENTRY) }, platform: 'node', plugins: [builtins], logLevel: 'warn',
      // The groups' exact lists (includeDependenciesRecursively: false) need it; vigil.js
      // exports nothing, so nothing is lost.
      preserveEntrySignatures: false });
    const { output } = await bundle.write({ dir: tmp, format: 'esm', sourcemap: false, chunkFileNames: '[name]-[hash].js', codeSplitting: { includeDependenciesRecursively: false, groups: CHUNK_GROUPS } });
    await bundle.close();
    const old = `${HOST_BUNDLE}.old-${process.pid}`;
    if (existsSync(HOST_BUNDLE)) renameSync(HOST_BUNDLE, old);
    renameSync(tmp, HOST_BUNDLE);
    rmSync(old, { recursive: true, force: true });
    const bytes = output.reduce((n, o) => n + (o.type === 'chunk' ? o.code.length : 0), 0);
    return { chunks: output.length, bytes, ms: performance.now() - t0 };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const r = await bundleHost();
  console.log(`build/host: ${r.chunks} chunks, ${(r.bytes / 1e6).toFixed(2)} MB, in ${(r.ms / 1000).toFixed(1)} s`);
}
