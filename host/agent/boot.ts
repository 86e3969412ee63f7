// What the supervisor's main (host/agent/supervisor-main.ts) and the engine's
// (host/agent/engine-main.ts) share: the engine's V8 flags, the argv that starts this program
// again as one of its processes, and the terminal test.
import { shim } from '../net/shim.ts';

// V8 flags for the engine's process. Its hot path is a few calls per advert: TurboFan buys it
// nothing (without it the engine never maps or runs its code), and no background GC threads
// suit a heap this small. Measured at 100 adverts/s: RSS 64 -> 56 MB, threads 7 -> 4. Maglev
// is on once the engine runs (ENGINE_STEADY_FLAGS): with it, the engine's CPU at 100 adverts/s
// was ~30 % lower (two masters side by side, 4 windows of 15 s: 0.65-0.90 % of a core against
// 0.94-1.14 % with --no-maglev) for 4 MB more RSS (28 against 24 MB); the advert jitter
// measured the same. The engine runs its minor collections itself, between adverts
// (host/agent/engine-loop.ts).
// A 2 MB semi-space from the start (--min-): with 1 MB the start's allocations filled it once,
// a 7 ms scavenge on the way to the first advert and a 4-5 ms one about a second later
// (--trace-gc; none in the first 2 s with 2 MB), and exec to first advert fell by ~8 ms (12
// interleaved pairs); the steady RSS was the same (23.8 MB).
//
// Only flags that leave V8's flag hash alone go on the command line (bin/vigil passes the same
// list: keep them in step). Any other, --no-opt or --expose-gc say, even when set at run time
// before a module loads, makes V8 refuse the code cache that Node ships for its own modules and
// the one bin/vigil keeps for ours: measured here, node:http + dgram + cluster + dns load in
// 10 ms with the cache and 20-30 ms without, ~45 ms of an engine's start in all. So the rest
// (ENGINE_RUNTIME_FLAGS) is set once everything the start needs is loaded.
// core.wasm's hot functions do tier up to TurboFan (a handful, on the V8 worker thread): V8
// reads --liftoff-only only at its start (set at run time, it changed nothing here: 7 TurboFan
// compiles either way), and on the command line it costs the code cache. The engine's steady
// RSS measured the same (29.3 MB).
//
// --wasm-wrapper-tiering-budget: after 1,000 calls of a core export V8 compiles a JS-to-wasm
// wrapper for it with TurboFan, synchronously, in the call: at 100 adverts/s that came ~10 s
// after a start, and made that advert 3-5 ms late (perf: page faults in
// Runtime_TierUpJSToWasmWrapper, most in TurboFan's code, which the memory trim had dropped;
// 3 of 3 starts had it, 0 of 4 with the budget out of reach, 0 of 3 without the trim). The
// generic wrapper the exports keep costs ~0.05 us more a call.
export const ENGINE_V8_FLAGS = ['--min-semi-space-size=2', '--max-semi-space-size=2', '--single-threaded-gc', '--v8-pool-size=1'];
export const ENGINE_RUNTIME_FLAGS = ['--no-opt', '--no-maglev', '--wasm-wrapper-tiering-budget=1000000000'];
// Maglev from when the engine runs (see above), not during its start: on through the start,
// its compiles there made exec to first advert ~40 ms slower (168-177 against 126-136 ms).
export const ENGINE_STEADY_FLAGS = ['--maglev'];
export const setV8Flags = (flags: string[]) => {
  const { setFlagsFromString } = process.getBuiltinModule('node:v8');
  for (const f of flags) setFlagsFromString(f);
};

const { isSea } = process.getBuiltinModule('node:sea');

// argv that starts this same program (a checkout's main.ts, or the single executable) as the
// engine with the same options.
export function engineArgv(argv: string[], cmd: 'engine' | 'checker' | 'lb' = 'engine'): { command: string; args: string[] } {
  const self = isSea() ? [] : [...(cmd === 'engine' ? ENGINE_V8_FLAGS : []), ...process.execArgv, process.argv[1]];
  return { command: process.execPath, args: [...self, cmd, ...argv] };
}

// The engine's terminal test goes through its shim (loaded now instead of a little later), not
// node:tty (see createLogger); node:tty's when the shim cannot load, whose error comes later.
export function shimIsatty(fd: number): boolean {
  try {
    return shim().isatty(fd) === 1;
  } catch {
    return process.getBuiltinModule('node:tty').isatty(fd);
  }
}
