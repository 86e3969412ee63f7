// vigil lb: the load balancer's process (started by `vigil run`), and `vigil lb dump`.
import { createLogger } from '../agent/log.ts';
import { UsageError } from '../errors.ts';
import { parse } from './args.ts';
import type { Command } from './command.ts';
import { DEFAULT_CONFIG } from './run.ts';

const usage = `Usage: vigil lb [run] [-c FILE] [--log-json] [--debug]
       vigil lb dump [-c FILE]

The load balancer: the configuration's virtualServers on nftables (docs/lb.md).

  run    keep the kernel's table in line with the config and the check reports read on stdin
         (one JSON line each, as \`vigil checker\` prints them). \`vigil run\` starts it beside the
         checker whenever the config has virtual servers; by hand it shows what it would apply.
  dump   print the rules vigil has applied (nft's text of the inet and netdev tables)

Options:
  -c, --config FILE   the configuration (default ${DEFAULT_CONFIG})
  --log-json          JSON log lines
  --debug             more log lines
  -h, --help          this text

Examples:
  vigil lb dump -c /etc/vigil/vigil.yaml
  vigil lb dump | grep -A3 'map svc4'
  vigil status            # the real servers, their state, weight and counters`;

const options = {
  config: { type: 'string', short: 'c' }, 'log-json': { type: 'boolean' }, debug: { type: 'boolean' },
  'no-supervise': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
} as const;

export const lb: Command = {
  name: 'lb',
  summary: 'the load balancer: `vigil lb dump` prints what it applied',
  usage,
  async run(argv, io) {
    const { values, positionals } = parse(argv, options, 'lb');
    if (values.help) { io.stdout(usage); return 0; }
    const [sub = 'run', ...rest] = positionals;
    if (rest.length) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
    const file = values.config ?? DEFAULT_CONFIG;
    if (sub === 'dump') {
      const { loadConfig } = await import('../config/load.ts');
      const { listTable } = await import('../lb/nft.ts');
      const table = (() => { try { return loadConfig(file).loadBalancer.table; } catch { return 'vigil'; } })();
      const texts = [await listTable('inet', table), await listTable('netdev', table)].filter((t): t is string => t !== null);
      if (!texts.length) { io.stderr(`vigil lb dump: no table ${table} here: the load balancer is not running in this network namespace, or removed its table at a clean stop`); return 1; }
      io.stdout(texts.join('\n').trimEnd());
      return 0;
    }
    if (sub !== 'run') throw new UsageError(`unknown lb command ${JSON.stringify(sub)}: run or dump`);
    const { runLb } = await import('../lb/main.ts');
    const log = createLogger({ json: values['log-json'] ? true : undefined, debug: values.debug });
    return runLb(file, log);
  },
};
