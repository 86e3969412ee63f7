// vigil run: the agent in the foreground. SIGTERM / SIGINT stop it cleanly (priority 0, VIPs
// removed); SIGHUP reloads the config, keeping the running one when the new one is broken.
//
// Loaded by both `vigil run` and `vigil engine`, so only what both need is imported here: the
// supervisor's config parser (yaml) and the engine's core, sockets and http are each loaded by
// the process that uses them (host/agent/spec.ts: the engine gets its config as JSON).
import type { Server } from 'node:http';
import type { StatusSocket } from '../agent/status-server.ts';
import type { EngineProcess } from '../agent/supervisor.ts';
import type { AgentConfig } from '../config/types.ts';
import { createLogger } from '../agent/log.ts';
import { acceptedConfig, rememberAccepted } from '../agent/accepted.ts';
import { K, shim } from '../net/shim.ts';
import { CONFIG_LINE, configLine, toEngineSpec, parseConfigLine } from '../agent/spec.ts';
import type { Logger } from '../agent/log.ts';
import { HANDOVER_LINE, parseHandover } from '../agent/handover.ts';
import { UsageError } from '../errors.ts';
import { parse } from './args.ts';
import type { Command } from './command.ts';

export const DEFAULT_CONFIG = '/etc/vigil/vigil.yaml';

const usage = `Usage: vigil run [-c FILE] [--log-json] [--debug] [--no-supervise]

Runs the agent in the foreground: elects per VRRP (RFC 5798 / RFC 3768), moves the virtual
addresses, announces them, serves /status and /metrics.

  -c, --config FILE   the configuration (default ${DEFAULT_CONFIG}); \`vigil check\` validates it
  --log-json          log JSON lines even on a terminal (the default when stderr is not one)
  --debug             more log lines
  --no-supervise      run the engine in this process (default: a supervising parent restarts
                      it within a second if it dies, and removes the VIPs it left meanwhile)

Signals: SIGTERM / SIGINT stop cleanly (a master sends priority 0, every VIP is removed);
SIGHUP reloads the configuration: a broken one is refused and the running one kept, and
instances whose settings did not change keep their state and addresses.

Needs CAP_NET_RAW and CAP_NET_ADMIN (run as root, or see packaging/vigil.service).

Examples:
  vigil run -c /etc/vigil/vigil.yaml
  vigil check -c vigil.yaml && vigil run -c vigil.yaml`;

const options = {
  config: { type: 'string', short: 'c' }, 'log-json': { type: 'boolean' }, debug: { type: 'boolean' },
  'no-supervise': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
} as const;

// V8 flags for the engine's process. Its hot path is a few calls per advert: TurboFan buys it
// nothing (without it the engine never maps or runs its code), and no background GC threads
// suit a heap this small. Measured at 100 adverts/s: RSS 64 -> 56 MB, threads 7 -> 4. Maglev
// is on once the engine runs (ENGINE_STEADY_FLAGS): with it, the engine's CPU at 100 adverts/s
// was ~30 % lower (two masters side by side, 4 windows of 15 s: 0.65-0.90 % of a core against
// 0.94-1.14 % with --no-maglev) for 4 MB more RSS (28 against 24 MB); the advert jitter
// measured the same. The engine runs its minor collections itself, between adverts
// (Engine.pump).
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
const ENGINE_RUNTIME_FLAGS = ['--no-opt', '--no-maglev', '--wasm-wrapper-tiering-budget=1000000000'];
// Maglev from when the engine runs (see above), not during its start: on through the start,
// its compiles there made exec to first advert ~40 ms slower (168-177 against 126-136 ms).
const ENGINE_STEADY_FLAGS = ['--maglev'];
const setV8Flags = (flags: string[]) => {
  const { setFlagsFromString } = process.getBuiltinModule('node:v8');
  for (const f of flags) setFlagsFromString(f);
};

const { isSea } = process.getBuiltinModule('node:sea');
const { closeSync, readSync, writeSync } = process.getBuiltinModule('node:fs');

// argv that starts this same program (a checkout's main.ts, or the single executable) as the
// engine with the same options.
function engineArgv(argv: string[], cmd: 'engine' | 'checker' | 'lb' = 'engine'): { command: string; args: string[] } {
  const self = isSea() ? [] : [...(cmd === 'engine' ? ENGINE_V8_FLAGS : []), ...process.execArgv, process.argv[1]];
  return { command: process.execPath, args: [...self, cmd, ...argv] };
}

// run and engine take the same options.
function runArgs(argv: string[], name: string) {
  const { values, positionals } = parse(argv, options, name);
  if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])} (see \`vigil ${name} --help\`)`);
  return values;
}

export const run: Command = {
  name: 'run',
  summary: 'run the agent in the foreground',
  usage,
  async run(argv, io) {
    const values = runArgs(argv, 'run');
    if (values.help) { io.stdout(usage); return 0; }
    if (values['no-supervise']) return runEngine(values);
    const file = values.config ?? DEFAULT_CONFIG;
    const { command, args } = engineArgv(argv.filter((a) => a !== '--no-supervise'));
    const checkerArgs = engineArgv(argv.filter((a) => a !== '--no-supervise'), 'checker').args;
    const lbArgs = engineArgv(argv.filter((a) => a !== '--no-supervise'), 'lb').args;
    // The engine's Node starts now, while this one loads the parser and reads the config: it
    // waits on its stdin for the config, and exits quietly at EOF if the config is refused.
    // bin/vigil may have started it already, beside this process (see there): then the config
    // comes first, and the supervisor (netlink, the shim) after, as the engine waits for it.
    // With a record of the config this program last accepted but no warm start (a VMAC), the
    // engine starts on the record, and this process holds its own work (the parser's load, the
    // parse) until the engine has started: two Nodes working at once slow the engine's start by
    // ~35 ms here.
    const launched = process.env.VIGIL_ENGINE_PID !== undefined;
    const record = launched ? undefined : acceptedConfig(file);
    // A restart after the whole agent was killed: the VIPs the killed run left go first, before
    // anything else this start does (host/agent/stale-vips.ts). Not while another run holds
    // this config file: its VIPs are live.
    const stale = await import('../agent/stale-vips.ts');
    const claimed = stale.claimConfig(file);
    let early: Logger | undefined;
    if (record) {
      early = createLogger({ json: values['log-json'] ? true : undefined, debug: values.debug, isatty: shimIsatty });
      if (claimed) stale.removeLeftVips(record, early);
      else early.debug(`another vigil run holds ${file}: its VIPs are left alone`);
    }
    // Without bin/vigil (the single executable) and with a record, a warm start: this process
    // runs an engine first, then hands over to the engine proper (host/agent/warm-start.ts). A
    // stop or a reload asked for meanwhile is carried out once the supervisor runs (SIGHUP's
    // default action would end this process, and a warm start's engine with it).
    let log: Logger | undefined = early, warm: EngineProcess | undefined, stopAsked: NodeJS.Signals | undefined, hupAsked = false;
    const askStop = (sig: NodeJS.Signals) => { stopAsked ??= sig; };
    const askHup = () => { hupAsked = true; };
    process.on('SIGTERM', askStop); process.on('SIGINT', askStop); process.on('SIGHUP', askHup);
    if (record) {
      const ws = await import('../agent/warm-start.ts');
      const why = ws.warmStartable(record);
      log ??= createLogger({ json: values['log-json'] ? true : undefined, debug: values.debug, isatty: shimIsatty });
      if (why) log.debug(`no warm start: ${why}`);
      else warm = await ws.warmStart({ config: record, command, args, log });
    }
    const hold = !warm && record !== undefined;
    const spawning = launched || warm ? undefined : await import('../agent/spawn.ts');
    const spawned = spawning?.spawnEngine(command, args, false, hold);
    if (spawned && hold) await spawning!.engineReady(spawned, 1000);
    // After the spawn: the terminal test loads node:tty, and node:net with it (~5 ms).
    log ??= createLogger({ json: values['log-json'] ? true : undefined, debug: values.debug });
    const { readConfigText, parseConfig } = await import('../config/load.ts');
    let config: AgentConfig | undefined, refused: unknown, text = '';
    try {
      // Refused here, whole, before the engine gets anything.
      text = readConfigText(file);
      config = parseConfig(text, file);
    } catch (err) {
      refused = err;
    }
    const { adoptEngine, Supervisor, supervisorRealtime } = await import('../agent/supervisor.ts');
    const first = warm ?? spawned ?? adoptEngine() ?? (await import('../agent/spawn.ts')).spawnEngine(command, args);
    if (!config) {
      process.off('SIGTERM', askStop); process.off('SIGINT', askStop); process.off('SIGHUP', askHup);
      await endEngine(first);
      throw refused;
    }
    const sup = new Supervisor({ log, command, args, checkerArgs, lbArgs, config, first });
    if (config.realtime.enabled) {
      // The engine warns when real-time is not permitted; the same refusal here is no news.
      const why = supervisorRealtime(config.realtime.priority);
      if (why) log.debug(`the supervisor stays an ordinary process: ${why}`);
    }
    // For the next start's engine (host/agent/accepted.ts): a second later, when this start's
    // engine has long read the record it may start on (~50 ms into its life), and the write is
    // off the start's path.
    // A run shorter than that writes it as it ends.
    let rememberTimer: NodeJS.Timeout | undefined, pending: (() => void) | undefined;
    const remember = (t: string, c: AgentConfig) => {
      clearTimeout(rememberTimer);
      pending = () => {
        pending = undefined;
        const why = rememberAccepted(file, t, c);
        if (why) log.debug(`the accepted config is not kept for the next start: ${why}`);
      };
      rememberTimer = setTimeout(pending, 1000).unref();
    };
    const forward = (sig: NodeJS.Signals) => () => {
      log.info(`${sig}: stopping the engine`);
      void sup.stop('SIGTERM');
    };
    const onTerm = forward('SIGTERM'), onInt = forward('SIGINT');
    // A reload is parsed here and handed to the engine whole; a broken file never reaches it.
    const onHup = () => {
      let next: AgentConfig, t: string;
      try {
        t = readConfigText(file);
        next = parseConfig(t, file);
      } catch (err) {
        log.error(`reload refused, keeping the running configuration: ${(err as Error).message}`);
        return;
      }
      sup.updateConfig(next);
      remember(t, next);
    };
    process.on('SIGTERM', onTerm); process.on('SIGINT', onInt); process.on('SIGHUP', onHup);
    process.off('SIGTERM', askStop); process.off('SIGINT', askStop); process.off('SIGHUP', askHup);
    sup.start();
    if (stopAsked) forward(stopAsked)();
    else if (hupAsked) onHup();
    remember(text, config);
    process.getBuiltinModule('node:module').flushCompileCache?.();   // see runEngine
    const code = await sup.finished;
    clearTimeout(rememberTimer);
    pending?.();
    process.off('SIGTERM', onTerm); process.off('SIGINT', onInt); process.off('SIGHUP', onHup);
    return code;
  },
};

// The VRRP engine itself: `vigil run` starts it as its child (`vigil engine`), or in the
// foreground with --no-supervise.
export const engine: Command = {
  name: 'engine',
  summary: 'the VRRP engine (started by vigil run)',
  usage,
  async run(argv, io) {
    let values;
    try {
      values = runArgs(argv, 'engine');
    } catch (err) {
      // Started by bin/vigil beside `vigil run` with the same arguments: run says what is wrong.
      if (process.env.VIGIL_SUPERVISED === '1' && err instanceof UsageError) return 2;
      throw err;
    }
    if (values.help) { io.stdout(usage); return 0; }
    return runEngine(values);
  },
};

// An engine spawned for a config that was then refused: it is waiting on its stdin, and EOF
// ends it without a word.
function endEngine(child: EngineProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.stdin?.on('error', () => {});
  child.stdin?.end();
  const killer = setTimeout(() => child.kill('SIGKILL'), 2000);
  return gone.finally(() => clearTimeout(killer));
}

// The lines on a supervised engine's stdin: its config (first, and at each reload) and the
// checker's reports (host/checks/protocol.ts), relayed by the supervisor; EOF means it is gone.
// Read through the shim's libuv poll and plain read(2), not process.stdin: setting that up
// loads Node's stream and pipe machinery, ~19 ms of a start measured here (interpreter-only
// V8), on the path to the first advert. One read per readiness: the pipe is level-triggered, and
// a second read on a drained blocking pipe would block the loop.
function readSupervisor(onLine: (line: string) => void, onEnd: () => void): () => void {
  const s = shim();
  const buf = new Uint8Array(64 * 1024);
  const decoder = new TextDecoder();
  let partial = '';
  let open = true;
  const stop = () => { if (open) { open = false; s.pollStop(0); } };
  s.pollStart(0, K('UV_READABLE'), () => {
    let n: number;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return;
      n = 0;   // a pipe that fails to read is as gone as one at EOF
    }
    if (n === 0) { stop(); onEnd(); return; }
    const lines = (partial + decoder.decode(buf.subarray(0, n), { stream: true })).split('\n');
    // A config line may be long; anything past 16 MB is not one of ours.
    partial = lines.pop()!.slice(-16 * 1024 * 1024);
    for (const l of lines) if (l) onLine(l);
  });
  return stop;
}

// bin/vigil holds the supervisor's Node back until the engine says so (why there), on the pipe
// named by VIGIL_READY_FD. Said once, by the function returned: when the engine has started, or
// as soon as it knows it must wait for the supervisor's reading of the config.
// A warm start's supervisor waits on the same pipe for the engine to be ready to take over
// (host/agent/warm-start.ts); an engine that cannot closes it without a word (`ok` false).
function supervisorHold(): (ok?: boolean) => void {
  const fd = Number(process.env.VIGIL_READY_FD);
  delete process.env.VIGIL_READY_FD;   // not for the engine's children (notify hooks)
  if (!Number.isInteger(fd) || fd < 3) return () => {};
  let held = true;
  return (ok = true) => {
    if (!held) return;
    held = false;
    if (ok) try { writeSync(fd, '\n'); } catch { /* the shell went on without it */ }
    try { closeSync(fd); } catch { /* already closed */ }
  };
}

// The engine's terminal test goes through its shim (loaded now instead of a little later), not
// node:tty (see createLogger); node:tty's when the shim cannot load, whose error comes later.
function shimIsatty(fd: number): boolean {
  try {
    return shim().isatty(fd) === 1;
  } catch {
    return process.getBuiltinModule('node:tty').isatty(fd);
  }
}

async function runEngine(values: { config?: string; 'log-json'?: boolean; debug?: boolean }): Promise<number> {
  const supervised = process.env.VIGIL_SUPERVISED === '1';
  // Started by a warm start (host/agent/warm-start.ts): the supervisor's engine runs the
  // instances until this one takes them over.
  const handover = supervised && process.env.VIGIL_HANDOVER === '1';
  delete process.env.VIGIL_HANDOVER;
  const releaseSupervisor = supervisorHold();
  const file = values.config ?? DEFAULT_CONFIG;
  const log = createLogger({ json: values['log-json'] ? true : undefined, debug: values.debug, isatty: shimIsatty });
  // Loaded here, not at the top: the supervisor never needs the engine or the core. All of it,
  // the status server (node:http) included, before the engine starts, while the config is on
  // its way: loading a module blocks the loop for tens of ms, which a running master at 10 ms
  // adverts cannot afford (a backup takes over after ~36 ms).
  const modules = import('../agent/engine-process.ts');
  // What needs no config is done while the config is on its way: the shim loaded, then the
  // engine's V8 flags set (see ENGINE_V8_FLAGS) and core.wasm compiled (the Engine's core).
  // node:cluster, which the status server's listen() loads (~6 ms, ~12 without the code cache),
  // is left to that listen, after the first advert (it delays the second, at 10 ms adverts, by
  // 3-6 ms measured, once).
  const prepared = modules.then(({ Engine }) => {
    shim();
    setV8Flags(ENGINE_RUNTIME_FLAGS);
    return new Engine({ log });
  });
  prepared.catch(() => {});   // awaited below, once there is a config
  // Supervised: everything on stdin until the engine runs is kept for it, in order.
  const early: string[] = [];
  let onLine = (l: string) => { early.push(l); };
  let onEnd = () => { ended = true; firstConfig.resolve(undefined); };
  let ended = false;
  const firstConfig = Promise.withResolvers<AgentConfig | undefined>();
  // The handover line (before the config line); undefined at EOF.
  const handoverLine = Promise.withResolvers<string | undefined>();
  let stopReading = () => {};
  if (supervised) {
    stopReading = readSupervisor((l) => onLine(l), () => onEnd());
    onLine = (l) => {
      if (l.startsWith(HANDOVER_LINE)) { handoverLine.resolve(l); return; }
      early.push(l);
      const c = parseConfigLine(l);
      if (c) firstConfig.resolve(c);
    };
    onEnd = () => { ended = true; firstConfig.resolve(undefined); handoverLine.resolve(undefined); };
  }
  let config: AgentConfig;
  // The config line (as the supervisor writes it, newline and all) the engine started on before
  // the supervisor's came (host/agent/accepted.ts).
  let startedOn: string | undefined;
  if (supervised) {
    const accepted = process.env.VIGIL_RESTART === '1' ? undefined : acceptedConfig(file);
    if (accepted) startedOn = configLine(accepted);
    else releaseSupervisor(!handover);   // a warm start needs the record its supervisor had
    const c = accepted ?? await firstConfig.promise;
    // No config: the supervisor refused the file (it says why) or went away.
    if (!c) { stopReading(); return 0; }
    config = c;
  } else {
    config = (await import('../config/load.ts')).loadConfig(file);
  }
  const { enableRealtime, parseReport, bindStatus, closeStatus, serveStatus } = await modules;
  if (config.realtime.enabled) {
    // No mlockall: V8 returns heap pages with madvise(MADV_DONTNEED), which fails on locked
    // memory, and V8 then aborts (measured here: "Check failed: 0 == ret" in FreePages). The
    // engine locks its code instead, once started (engine.lockMemory, host/agent/trim.ts).
    const rt = enableRealtime({ priority: config.realtime.priority, lockMemory: false });
    for (const w of rt.warnings) log.warn(w);
    if (rt.scheduled) log.info(`real-time scheduling: SCHED_FIFO ${config.realtime.priority}`);
  }
  // A stop asked for while the engine starts is carried out once it has started (a clean
  // stop: priority 0, VIPs released), not by the signal's default action.
  let stopAsked: string | undefined;
  const askStop = (sig: NodeJS.Signals) => { stopAsked ??= sig; };
  process.on('SIGTERM', askStop); process.on('SIGINT', askStop);
  const engine = await prepared;
  engine.lockMemory = config.realtime.enabled;
  let server: Server | undefined;
  // The status socket is bound before the start, so that a taken port refuses the start before
  // any VIP moves, and served after it: Node's http server on it is ~3 ms that the first advert
  // need not wait for (connections wait in the backlog meanwhile).
  let statusSocket: StatusSocket | undefined;
  const serve = async () => {
    if (!statusSocket) return;
    const { where } = statusSocket;
    try {
      server = await serveStatus(engine, statusSocket, { target: () => config.status.target ?? null });
      log.info(`status on http://${where}/ (the status page), /status and /metrics`);
      // Read-only, but the agent's whole state, to anyone who can reach it.
      if (config.status.exposed) log.warn(`the status page and API on ${where} are reachable beyond this host, without authentication: set status.listen to a loopback address unless that is meant`);
    } catch (err) {
      // The engine runs: its VRRP job goes on without the status server.
      log.error(`status server on ${where} failed: ${(err as Error).message}`);
    }
    statusSocket = undefined;
  };
  try {
    if (config.status.listen) statusSocket = bindStatus(config.status.listen.host, config.status.listen.port);
    // A warm start's engine takes over only on the record its supervisor's engine ran (which
    // the handover checks); without one here it has said no (releaseSupervisor(false) above),
    // and the supervisor stops it.
    if (handover && startedOn !== undefined) {
      await engine.prepareAdopt(toEngineSpec(config));
      // Served before the handover, not after: the supervisor's engine runs the instances
      // meanwhile, and this engine's first adverts need not wait for it.
      await serve();
      releaseSupervisor();
      const line = await handoverLine.promise;
      // No handover: the supervisor is gone, and its engine with it.
      if (line === undefined) { stopReading(); server?.close(); return 0; }
      engine.adopt(parseHandover(line, startedOn!));
      log.debug('took the instances over from the supervisor\'s engine');
    } else {
      await engine.start(toEngineSpec(config));
      releaseSupervisor();
    }
  } catch (err) {
    if (statusSocket) closeStatus(statusSocket);
    server?.close();
    stopReading();   // the pipe would keep this process alive
    throw err;
  } finally {
    releaseSupervisor(false);   // said above, or not to be said: the start failed
  }
  await serve();
  log.info(`vigil running: ${config.instances.length} instance(s) from ${file}${startedOn ? ' (as last accepted; the supervisor\'s reading follows)' : ''}`,
    { pid: process.pid, startMs: Math.round(performance.now()) });   // since this process began
  setV8Flags(ENGINE_STEADY_FLAGS);
  // Node writes its compile cache at exit; an engine that ends by SIGKILL never would, and the
  // next start would strip the TypeScript again (amaro: ~0.3 s and ~10 MB). Only when this start
  // stripped some (amaro loaded): the writes block the loop.
  const loaded = (process as unknown as { moduleLoadList?: string[] }).moduleLoadList ?? [];
  if (loaded.some((m) => m.includes('deps/amaro'))) process.getBuiltinModule('node:module').flushCompileCache?.();
  return await new Promise<number>((resolve) => {
    let reloading = Promise.resolve();
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      log.info(`${sig}: stopping`);
      process.off('SIGTERM', onTerm); process.off('SIGINT', onInt); process.off('SIGHUP', onHup);
      // The supervisor's pipe would keep the event loop, and so the process, alive.
      if (supervised) stopReading();
      void reloading.then(() => engine.stop()).then(() => {
        server?.close();
        log.info('stopped: VIPs released');
        resolve(0);
      }, (err) => { log.error(`stop failed: ${(err as Error).message}`); resolve(1); });
    };
    const apply = (next: AgentConfig) => {
      reloading = reloading.then(async () => {
        try {
          const d = await engine.reload(toEngineSpec(next));
          config = next;
          log.info('reloaded', d);
        } catch (err) {
          log.error(`reload failed part way: ${(err as Error).message}`);
        }
      });
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    // Supervised, the supervisor reads the file and sends it (readSupervisor); a SIGHUP that
    // reaches the engine itself changes nothing.
    const onHup = () => {
      if (supervised) { log.debug('SIGHUP: reloads go through the supervisor (`kill -HUP` its pid)'); return; }
      let next;
      reloading = reloading.then(async () => {
        try {
          next = (await import('../config/load.ts')).loadConfig(file);
        } catch (err) {
          log.error(`reload refused, keeping the running configuration: ${(err as Error).message}`);
          return;
        }
        apply(next);
      });
    };
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    process.on('SIGHUP', onHup);
    process.off('SIGTERM', askStop); process.off('SIGINT', askStop);
    if (stopAsked) { stop(stopAsked); return; }
    if (supervised) {
      let first = true;
      onLine = (l) => {
        if (l.startsWith(CONFIG_LINE)) {
          // The one the engine started with comes first: not a reload, unless the engine
          // started on the accepted record and the supervisor reads the file otherwise.
          if (first) {
            first = false;
            if (startedOn === undefined || l + '\n' === startedOn) return;
            log.warn('the supervisor reads the config otherwise than the accepted record this engine started on: applying its reading');
          }
          const next = parseConfigLine(l);
          if (next) apply(next);
          return;
        }
        const r = parseReport(l);
        if (r) engine.checkReport(r);
      };
      onEnd = () => stop('supervisor gone');
      for (const l of early.splice(0)) onLine(l);
      if (ended) stop('supervisor gone');
    } else if (config.checks.length) {
      log.warn(`--no-supervise: the ${config.checks.length} check(s) do not run (the checker is started by the supervisor); tracked checks count as failing`);
    }
  });
}
