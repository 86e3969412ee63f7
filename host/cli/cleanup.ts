// vigil cleanup: what bin/vigil does first at a start, as a command of its own, for where there
// is no launcher (the single executable) and for systemd's ExecStopPost=, which runs it as soon
// as the agent is gone by any means, kill -9 included: the VIPs go before the restart, not after.
import { createLogger } from '../agent/log.ts';
import { alive, leftVipsPath, readLeftVips } from '../agent/left-vips.ts';
import { UsageError } from '../errors.ts';
import { DEFAULT_CONFIG, parse } from './args.ts';
import type { Command } from './command.ts';

const usage = `Usage: vigil cleanup [-c FILE]

Removes the VIPs that a run of FILE, killed without a clean stop (kill -9, an OOM kill, a
crash), left on its interfaces: the ones it wrote down in /run/vigil when it accepted FILE. Does
nothing while that run lives (the same config started twice), and nothing for a run that
stopped cleanly (it removed its VIPs itself). \`vigil run\` through bin/vigil does this first.

  -c, --config FILE   the config the killed run ran (default ${DEFAULT_CONFIG})

Exit status: 0 done (each VIP removed is logged); 2 a usage error.

Examples:
  vigil cleanup -c /etc/vigil/vigil.yaml
  # in the systemd unit (packaging/vigil.service):
  ExecStopPost=-/usr/local/bin/vigil cleanup -c /etc/vigil/vigil.yaml`;

export const cleanup: Command = {
  name: 'cleanup',
  summary: 'remove the VIPs a killed run left (for ExecStopPost=)',
  usage,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } }, 'cleanup');
    if (values.help) { io.stdout(usage); return 0; }
    if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])} (see \`vigil cleanup --help\`)`);
    const file = values.config ?? DEFAULT_CONFIG;
    const log = createLogger({});
    const left = readLeftVips(file);
    if (!left) { log.debug(`nothing written down at ${leftVipsPath(file)}`); return 0; }
    if (alive(left.pid)) {
      log.info(`the run that wrote ${leftVipsPath(file)} (pid ${left.pid}) is alive: its VIPs are left alone`);
      return 0;
    }
    const { removeVips } = await import('../agent/stale-vips.ts');
    removeVips(left.vips, log);
    return 0;
  },
};
