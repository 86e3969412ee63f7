// `vigil run`'s process: the supervisor's start (the stale VIPs of a killed run removed first,
// a warm start when a record allows, the engine started beside or spawned, the config read) and
// its life: signals, reloads parsed here and handed to the engine whole, the record of the
// accepted config for the next start. The engine's own main is host/agent/engine-main.ts.
import type { EngineProcess } from './supervisor.ts';
import type { AgentConfig } from '../config/types.ts';
import { createLogger, type Logger } from './log.ts';
import { acceptedConfig, rememberAccepted } from './accepted.ts';
import { forgetLeftVips, reportLeftVips, writeLeftVips } from './left-vips.ts';
import { engineArgv, shimIsatty } from './boot.ts';
import { trimAfterStart } from './trim.ts';
import { shim } from '../net/shim.ts';
import type { RunValues } from './engine-main.ts';

export async function superviseMain(values: RunValues, argv: string[], defaultConfig: string): Promise<number> {
  const file = values.config ?? defaultConfig;
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
  // What bin/vigil removed before this Node started, said first (host/agent/left-vips.ts).
  let early: Logger | undefined;
  if (process.env.VIGIL_LEFT_VIPS) {
    early = createLogger({ json: values['log-json'] ? true : undefined, debug: values.debug, isatty: shimIsatty });
    reportLeftVips(early);
  }
  const launched = process.env.VIGIL_ENGINE_PID !== undefined;
  const record = launched ? undefined : acceptedConfig(file);
  // A restart after the whole agent was killed: the VIPs the killed run left go first, before
  // anything else this start does (host/agent/stale-vips.ts). Not while another run holds
  // this config file: its VIPs are live.
  const stale = await import('./stale-vips.ts');
  const claimed = stale.claimConfig(file);
  if (record) {
    early ??= createLogger({ json: values['log-json'] ? true : undefined, debug: values.debug, isatty: shimIsatty });
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
    const ws = await import('./warm-start.ts');
    const why = ws.warmStartable(record);
    log ??= createLogger({ json: values['log-json'] ? true : undefined, debug: values.debug, isatty: shimIsatty });
    if (why) log.debug(`no warm start: ${why}`);
    else warm = await ws.warmStart({ config: record, command, args, log });
  }
  const hold = !warm && record !== undefined;
  const spawning = launched || warm ? undefined : await import('./spawn.ts');
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
  const { adoptEngine, Supervisor, supervisorRealtime } = await import('./supervisor.ts');
  const first = warm ?? spawned ?? adoptEngine() ?? (await import('./spawn.ts')).spawnEngine(command, args);
  if (!config) {
    process.off('SIGTERM', askStop); process.off('SIGINT', askStop); process.off('SIGHUP', askHup);
    await endEngine(first);
    throw refused;
  }
  const sup = new Supervisor({ log, command, args, checkerArgs, lbArgs, config, first });
  const leftVips = (c: AgentConfig) => {
    const why = writeLeftVips(file, c);
    if (why) log!.debug(`the VIPs are not written down for a restart after a kill: ${why}`);
  };
  leftVips(config);
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
    leftVips(next);
    remember(t, next);
  };
  process.on('SIGTERM', onTerm); process.on('SIGINT', onInt); process.on('SIGHUP', onHup);
  process.off('SIGTERM', askStop); process.off('SIGINT', askStop); process.off('SIGHUP', askHup);
  sup.start();
  // Its start's pages back (host/agent/trim.ts; docs/ARCHITECTURE.md "Memory"): 36 -> 22 MB PSS.
  try { trimAfterStart(shim()); } catch { /* no shim: nothing to trim with */ }
  if (stopAsked) forward(stopAsked)();
  else if (hupAsked) onHup();
  remember(text, config);
  process.getBuiltinModule('node:module').flushCompileCache?.();   // see host/agent/engine-main.ts
  const code = await sup.finished;
  clearTimeout(rememberTimer);
  pending?.();
  if (code === 0) forgetLeftVips(file);   // the engine removed its VIPs as it stopped
  process.off('SIGTERM', onTerm); process.off('SIGINT', onInt); process.off('SIGHUP', onHup);
  return code;
}

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

