// vigil run: the agent in the foreground. SIGTERM / SIGINT stop it cleanly (priority 0, VIPs
// removed); SIGHUP reloads the config, keeping the running one when the new one is broken.
import type { Server } from 'node:http';
import { loadConfig } from '../config/load.ts';
import { createLogger } from '../agent/log.ts';
import { UsageError } from '../errors.ts';
import { Supervisor } from '../agent/supervisor.ts';
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

// argv that starts this same program (a checkout's main.ts, or the single executable) as the
// engine with the same options.
function engineArgv(argv: string[], cmd: 'engine' | 'checker' = 'engine'): { command: string; args: string[] } {
  const self = isSea() ? [] : [...process.execArgv, process.argv[1]];
  return { command: process.execPath, args: [...self, cmd, ...argv] };
}

function isSea(): boolean {
  try {
    return (process as unknown as { getBuiltinModule(n: string): { isSea(): boolean } | undefined })
      .getBuiltinModule('node:sea')?.isSea() ?? false;
  } catch { return false; }
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
    const log = createLogger({ json: values['log-json'] ? true : undefined, debug: values.debug });
    // Refused here, whole, before anything starts.
    const config = loadConfig(file);
    const { command, args } = engineArgv(argv.filter((a) => a !== '--no-supervise'));
    const checkerArgs = engineArgv(argv.filter((a) => a !== '--no-supervise'), 'checker').args;
    const sup = new Supervisor({ log, command, args, checkerArgs, config });
    const forward = (sig: NodeJS.Signals) => () => {
      log.info(`${sig}: stopping the engine`);
      void sup.stop('SIGTERM');
    };
    const onTerm = forward('SIGTERM'), onInt = forward('SIGINT');
    const onHup = () => {
      try { sup.updateConfig(loadConfig(file)); } catch { /* the engine reports it and keeps its config */ }
      sup.signal('SIGHUP');
    };
    process.on('SIGTERM', onTerm); process.on('SIGINT', onInt); process.on('SIGHUP', onHup);
    sup.start();
    const code = await sup.finished;
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
    const values = runArgs(argv, 'engine');
    if (values.help) { io.stdout(usage); return 0; }
    return runEngine(values);
  },
};

async function runEngine(values: { config?: string; 'log-json'?: boolean; debug?: boolean }): Promise<number> {
  // Loaded here, not at the top: the supervisor never needs the engine, http or the core.
  const [{ toEngineSpec }, { Engine }, { serveStatus }, { enableRealtime }] = await Promise.all([
    import('../agent/spec.ts'), import('../agent/engine.ts'), import('../agent/status-server.ts'), import('../net/realtime.ts'),
  ]);
  const { parseReport } = await import('../checks/protocol.ts');
  const file = values.config ?? DEFAULT_CONFIG;
  const log = createLogger({ json: values['log-json'] ? true : undefined, debug: values.debug });
  let config = loadConfig(file);
  if (config.realtime.enabled) {
    // No mlockall: V8 returns heap pages with madvise(MADV_DONTNEED), which fails on locked
    // memory, and V8 then aborts (measured here: "Check failed: 0 == ret" in FreePages).
    const rt = enableRealtime({ priority: config.realtime.priority, lockMemory: false });
    for (const w of rt.warnings) log.warn(w);
    if (rt.scheduled) log.info(`real-time scheduling: SCHED_FIFO ${config.realtime.priority}`);
  }
  const engine = new Engine({ log });
  await engine.start(toEngineSpec(config));
  let server: Server | undefined;
  if (config.status.listen) {
    const { host, port } = config.status.listen;
    server = await serveStatus(engine, host, port);
    log.info(`status on http://${host.includes(':') ? `[${host}]` : host}:${port}/status and /metrics`);
  }
  log.info(`vigil running: ${config.instances.length} instance(s) from ${file}`, { pid: process.pid });
  return await new Promise<number>((resolve) => {
    let reloading = Promise.resolve();
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      log.info(`${sig}: stopping`);
      process.off('SIGTERM', onTerm); process.off('SIGINT', onInt); process.off('SIGHUP', onHup);
      // The supervisor's pipe would keep the event loop, and so the process, alive.
      if (process.env.VIGIL_SUPERVISED === '1') process.stdin.destroy();
      void reloading.then(() => engine.stop()).then(() => {
        server?.close();
        log.info('stopped: VIPs released');
        resolve(0);
      }, (err) => { log.error(`stop failed: ${(err as Error).message}`); resolve(1); });
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    const onHup = () => {
      reloading = reloading.then(async () => {
        let next;
        try {
          next = loadConfig(file);
        } catch (err) {
          log.error(`reload refused, keeping the running configuration: ${(err as Error).message}`);
          return;
        }
        try {
          const d = await engine.reload(toEngineSpec(next));
          config = next;
          log.info('reloaded', d);
        } catch (err) {
          log.error(`reload failed part way: ${(err as Error).message}`);
        }
      });
    };
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    process.on('SIGHUP', onHup);
    if (process.env.VIGIL_SUPERVISED === '1') {
      // Our supervisor holds the other end of stdin: EOF means it is gone. The lines on it are
      // the checker process's reports (host/checks/protocol.ts), relayed.
      process.stdin.on('end', () => stop('supervisor gone'));
      process.stdin.setEncoding('utf8');
      let partial = '';
      process.stdin.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop()!.slice(-65536);
        for (const l of lines) {
          const r = l && parseReport(l);
          if (r) engine.checkReport(r);
        }
      });
    } else if (config.checks.length) {
      log.warn(`--no-supervise: the ${config.checks.length} check(s) do not run (the checker is started by the supervisor); tracked checks count as failing`);
    }
  });
}
