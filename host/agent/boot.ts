// What the supervisor's main (host/agent/supervisor-main.ts) and the engine's
// (host/agent/engine-main.ts) share: the engine's V8 flags, the argv that starts this program
// again as one of its processes, and the terminal test.
import { shim } from '../net/shim.ts';

// V8 flags for the engine's process, each measured (docs/ARCHITECTURE.md "Timing choices"): no
// background GC or compiler threads, a 2 MB semi-space from the start, no TurboFan or Maglev
// during the start and Maglev once it runs, flags that change V8's flag hash set at run time
// (on the command line they cost the code caches), the JS-to-wasm wrapper's tier-up out of
// reach (its synchronous compile made an advert 3-5 ms late), no memory reducer (its
// incremental major GCs, for a heap that does not grow, were 5-8 % of the engine's CPU from
// ~15 s to ~45 s after its start, perf, inside the bench's steady window), and core.wasm's hot
// functions tiered up to TurboFan within seconds (a background compile), not after the default
// budget's minutes: their Liftoff code and frame setup were ~5 % of the engine's CPU (perf), and
// same-window A/B runs gave ~8 % less CPU.
export const ENGINE_V8_FLAGS = ['--min-semi-space-size=2', '--max-semi-space-size=2', '--single-threaded-gc', '--v8-pool-size=1'];
export const ENGINE_RUNTIME_FLAGS = ['--no-opt', '--no-maglev', '--wasm-wrapper-tiering-budget=1000000000',
  '--memory-reducer-gc-count=0', '--no-memory-reducer-for-small-heaps', '--wasm-tiering-budget=200000'];
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
