// vigil run: the agent in the foreground. SIGTERM / SIGINT stop it cleanly (priority 0, VIPs
// removed); SIGHUP reloads the config, keeping the running one when the new one is broken.
import type { Server } from 'node:http';
import { loadConfig } from '../config/load.ts';
import { toEngineSpec } from '../agent/spec.ts';
import { Engine } from '../agent/engine.ts';
import { createLogger } from '../agent/log.ts';
import { serveStatus } from '../agent/status-server.ts';
import { enableRealtime } from '../net/realtime.ts';
import { VigilError } from '../errors.ts';
import { parse } from './args.ts';
import type { Command } from './command.ts';

export const DEFAULT_CONFIG = '/etc/vigil/vigil.yaml';

const usage = `Usage: vigil run [-c FILE] [--log-json] [--debug]

Runs the agent in the foreground: elects per VRRP (RFC 5798 / RFC 3768), moves the virtual
addresses, announces them, serves /status and /metrics.

  -c, --config FILE   the configuration (default ${DEFAULT_CONFIG}); \`vigil check\` validates it
  --log-json          log JSON lines even on a terminal (the default when stderr is not one)
  --debug             more log lines

Signals: SIGTERM / SIGINT stop cleanly (a master sends priority 0, every VIP is removed);
SIGHUP reloads the configuration: a broken one is refused and the running one kept, and
instances whose settings did not change keep their state and addresses.

Needs CAP_NET_RAW and CAP_NET_ADMIN (run as root, or see packaging/vigil.service).

Examples:
  vigil run -c /etc/vigil/vigil.yaml
  vigil check -c vigil.yaml && vigil run -c vigil.yaml`;

export const run: Command = {
  name: 'run',
  summary: 'run the agent in the foreground',
  usage,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      config: { type: 'string', short: 'c' }, 'log-json': { type: 'boolean' }, debug: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    }, 'run');
    if (values.help) { io.stdout(usage); return 0; }
    if (positionals.length) throw new VigilError('VIGIL_EUSAGE', `unexpected argument ${JSON.stringify(positionals[0])}`);
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
      const stop = (sig: string) => {
        log.info(`${sig}: stopping`);
        process.off('SIGTERM', onTerm); process.off('SIGINT', onInt); process.off('SIGHUP', onHup);
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
    });
  },
};
