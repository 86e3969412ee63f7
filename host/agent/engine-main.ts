// The VRRP engine's process (`vigil engine`, or `vigil run --no-supervise`): its start, on the
// supervisor's config line or its own reading of the file, or on the record of the config last
// accepted (host/agent/accepted.ts), or by taking over from a warm start's engine
// (host/agent/handover.ts); then its life: the stdin protocol with the supervisor (config lines,
// the checker's reports, EOF), reloads, a clean stop.
import type { Server } from 'node:http';
import type { StatusSocket } from './status-server.ts';
import type { AgentConfig } from '../config/types.ts';
import { createLogger } from './log.ts';
import { acceptedConfig } from './accepted.ts';
import { K, shim } from '../net/shim.ts';
import { CONFIG_LINE, configLine, toEngineSpec, parseConfigLine } from './spec.ts';
import { HANDOVER_LINE, parseHandover } from './handover.ts';
import { ENGINE_RUNTIME_FLAGS, ENGINE_STEADY_FLAGS, setV8Flags, shimIsatty } from './boot.ts';

const { closeSync, readSync, writeSync } = process.getBuiltinModule('node:fs');

export interface RunValues { config?: string; 'log-json'?: boolean; debug?: boolean; 'no-supervise'?: boolean }

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

export async function engineMain(values: RunValues, defaultConfig: string): Promise<number> {
  const supervised = process.env.VIGIL_SUPERVISED === '1';
  // Started by a warm start (host/agent/warm-start.ts): the supervisor's engine runs the
  // instances until this one takes them over.
  const handover = supervised && process.env.VIGIL_HANDOVER === '1';
  delete process.env.VIGIL_HANDOVER;
  const releaseSupervisor = supervisorHold();
  const file = values.config ?? defaultConfig;
  const log = createLogger({ json: values['log-json'] ? true : undefined, debug: values.debug, isatty: shimIsatty });
  // Loaded here, not at the top: the supervisor never needs the engine or the core. All of it,
  // the status server (node:http) included, before the engine starts, while the config is on
  // its way: loading a module blocks the loop for tens of ms, which a running master at 10 ms
  // adverts cannot afford (a backup takes over after ~36 ms).
  const modules = import('./engine-process.ts');
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
