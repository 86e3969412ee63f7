// The supervisor's side of a warm start (host/agent/handover.ts): with a record of the config it
// last accepted, `vigil run` runs an engine in its own process first (one Node start to the first
// advert, not two in series: the single executable's case, packaging/README.md), starts the
// engine proper once that one has sent its first advert, and hands the instances over when it
// is up. Anything amiss on the way and the supervisor's engine stops as any engine does
// (priority 0, VIPs released): the cold start follows.
import type { AgentConfig } from '../config/types.ts';
import type { Logger } from './log.ts';
import { configLine, toEngineSpec } from './spec.ts';
import { Engine } from './engine.ts';
import { bindStatus, closeStatus } from './status-server.ts';
import { AdoptedEngine, type EngineProcess } from './engine-process-handle.ts';
import { enableRealtime } from '../net/realtime.ts';
import { envp, K, shim } from '../net/shim.ts';
import { spawnChild } from '../net/spawn.ts';

// How long the engine proper may take to open its sockets; ~0.15 s here, seconds on a box
// paging hard. Meanwhile the supervisor's engine runs the instances, so waiting costs nothing.
const READY_TIMEOUT_MS = 10_000;
// A backup's next deadline may be seconds away, or never come while its master speaks.
const HANDOVER_WAIT_MS = 50;

/** Why a warm start is not for this config, or undefined when it is. */
export function warmStartable(c: AgentConfig): string | undefined {
  if (process.env.VIGIL_WARM_START === '0') return 'VIGIL_WARM_START=0';
  // A VMAC is made again at every start (host/agent/engine.ts, makeVmac): not handed over.
  const v = c.instances.find((i) => i.vmac);
  if (v) return `instance ${v.name} has a VMAC`;
  return undefined;
}

export interface WarmStartOptions {
  config: AgentConfig;            // the accepted record's
  command: string;                // the engine's argv (host/agent/boot.ts, engineArgv)
  args: string[];
  log: Logger;
}

/** The engine proper, running the instances from here on; undefined: start it cold. */
export async function warmStart(o: WarmStartOptions): Promise<EngineProcess | undefined> {
  const { config, log } = o;
  // One below the engine proper's priority, as the supervisor's own (supervisorRealtime).
  if (config.realtime.enabled) enableRealtime({ priority: Math.max(1, config.realtime.priority - 1), lockMemory: false });
  const engine = new Engine({ log });
  engine.startJournal();
  try {
    // The engine proper binds the status socket before any VIP moves, so that a port taken
    // refuses the start: this engine tries it first, for the same reason.
    if (config.status.listen) closeStatus(bindStatus(config.status.listen.host, config.status.listen.port));
    await engine.start(toEngineSpec(config));
  } catch (err) {
    // The engine proper meets the same and says so, on the cold path.
    log.debug(`warm start not made: ${(err as Error).message}`);
    return undefined;
  }
  // After the first advert: two Nodes starting at once slow each other (~30 ms here).
  let child: AdoptedEngine, readyFd: number;
  try {
    const env = { ...process.env, VIGIL_SUPERVISED: '1', VIGIL_READY_FD: '3', VIGIL_HANDOVER: '1' };
    // posix_spawn, not node:child_process: its fork would hold this engine's loop 5-19 ms.
    const [pid, stdinFd, fd3] = spawnChild([o.command, ...o.args], envp(env));
    readyFd = fd3;
    child = new AdoptedEngine(pid, stdinFd);
  } catch (err) {
    log.warn(`warm start: the engine could not be started (${(err as Error).message}); starting it cold`);
    await engine.stop();
    return undefined;
  }
  const why = await ready(child, readyFd);
  if (why) {
    log.warn(`warm start: the engine ${why}; stopping the supervisor's engine and starting it cold`);
    await engine.stop();
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    }
    return undefined;
  }
  // Right after an advert, when the engine proper has a whole interval to go live in.
  await engine.afterNextEvent(HANDOVER_WAIT_MS);
  const h = await engine.handOver(configLine(config));
  child.stdin.on('error', () => {});   // an engine that dies mid-write: the supervisor sees its exit
  child.stdin.write(JSON.stringify({ handover: h }) + '\n');
  log.info('warm start: instances handed over to the engine', { pid: child.pid, journal: h.journal.length });
  return child;
}

// Resolves with undefined when the engine says it is ready for the handover (a line on its
// fd 3), or with what went wrong.
function ready(child: AdoptedEngine, fd: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = shim();
    let done = false;
    const finish = (why: string | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.off('exit', onExit);
      try { s.pollStop(fd); } catch { /* not polled */ }
      s.close(fd);
      resolve(why);
    };
    const onExit = (code: number | null, signal: string | null) => finish(`exited (${signal ?? `status ${code}`}) before the handover`);
    let timer = setTimeout(() => finish(`was not ready for the handover within ${READY_TIMEOUT_MS / 1000} s`), READY_TIMEOUT_MS);
    child.once('exit', onExit);
    const buf = new Uint8Array(64);
    s.pollStart(fd, K('UV_READABLE'), () => {
      const n = s.read(fd, buf);
      if (n > 0) { finish(undefined); return; }
      if (n !== 0) return;
      // EOF: an engine that died closes the pipe as it goes, usually just before its exit is
      // reported; that says more, if it comes.
      s.pollStop(fd);
      clearTimeout(timer);
      timer = setTimeout(() => finish('closed its ready pipe without a word'), 200);
    });
  });
}
