// vigil run: the agent in the foreground. SIGTERM / SIGINT stop it cleanly (priority 0, VIPs
// removed); SIGHUP reloads the config, keeping the running one when the new one is broken.
//
// The command line only: `vigil run` and `vigil engine` parse their arguments here and call
// their process's main, host/agent/supervisor-main.ts or host/agent/engine-main.ts, each
// loaded by the process that runs it (the supervisor's config parser (yaml) and the engine's
// core, sockets and http never both).
import { UsageError } from '../errors.ts';
import { DEFAULT_CONFIG, parse } from './args.ts';
import type { Command } from './command.ts';

export { ENGINE_V8_FLAGS } from '../agent/boot.ts';

export { DEFAULT_CONFIG };

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
    if (values['no-supervise']) return (await import('../agent/engine-main.ts')).engineMain(values, DEFAULT_CONFIG);
    return (await import('../agent/supervisor-main.ts')).superviseMain(values, argv, DEFAULT_CONFIG);
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
    return (await import('../agent/engine-main.ts')).engineMain(values, DEFAULT_CONFIG);
  },
};
