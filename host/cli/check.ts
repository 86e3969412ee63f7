// vigil check: validate a configuration file the way the agent reads it, without running it.
import { formatProblem, ConfigError } from '../config/errors.ts';
import { loadConfig } from '../config/load.ts';
import type { AgentConfig, InstanceSpec } from '../config/types.ts';
import { formatListen } from '../config/values.ts';
import { fmtUs } from '../config/reader.ts';
import { UsageError } from '../errors.ts';
import { parse } from './args.ts';
import type { Command } from './command.ts';

import { DEFAULT_CONFIG } from './args.ts';

const usage = `Usage: vigil check [-c FILE] [--json]

Reads the configuration as \`vigil run\` would and checks all of it: YAML syntax, unknown keys,
ranges, one address family per instance, intervals by VRRP version, unique names and VRIDs,
unicast peers, sync groups, and each check policy's component (loaded in its sandbox as the
checker would, without running a round). A file with any problem is refused whole.

  -c, --config FILE   the file to check (default ${DEFAULT_CONFIG})
  --json              print the normalized configuration (defaults filled in, durations in
                      microseconds) as JSON

Exit status: 0 the file is good (a summary, or the JSON, on stdout); 2 it is not: every
problem on stderr, one per line, as FILE:LINE:COL: what is wrong and the fix.

Examples:
  vigil check
  vigil check -c examples/vigil.yaml
  vigil check -c vigil.yaml --json | jq '.instances[].advertIntervalCs'
  vigil check -c /etc/vigil/vigil.yaml.new && mv /etc/vigil/vigil.yaml.new /etc/vigil/vigil.yaml`;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function describeInstance(i: InstanceSpec): string {
  const head = `${i.name} (${i.interface}, VRID ${i.vrid}, v${i.version}, IPv${i.family}, priority ${i.priority})`;
  const parts = [
    `advert ${fmtUs(i.advertIntervalUs)}`,
    i.virtualAddresses.map((a) => `${a.address}/${a.prefixLen}`).join(' '),
    i.unicastPeers ? `unicast to ${i.unicastPeers.join(' ')}` : 'multicast',
  ];
  if (!i.preempt) parts.push('no preempt');
  if (i.auth.type === 'pass') parts.push('auth pass');
  if (i.track.interfaces.length) parts.push(`tracks ${i.track.interfaces.map((t) => t.name).join(' ')}`);
  if (i.track.checks.length) parts.push(`tracks check${i.track.checks.length > 1 ? 's' : ''} ${i.track.checks.map((t) => `${t.name} (${t.weight === 0 ? 'fault' : t.weight})`).join(' ')}`);
  if (i.syncGroup) parts.push(`sync group ${i.syncGroup}`);
  return `  ${head}: ${parts.join(', ')}`;
}

export function summary(c: AgentConfig): string[] {
  const lines = [`${c.file}: ${plural(c.instances.length, 'instance')}, ${plural(c.syncGroups.length, 'sync group')}`];
  lines.push(...c.instances.map(describeInstance));
  if (c.checks.length) {
    lines.push(`${plural(c.checks.length, 'check')}, run by \`vigil checker\` beside the engine:`);
    for (const k of c.checks) {
      // process and file checks are watched (the kernel tells of a change), not run in rounds.
      const how = k.type === 'process' || k.type === 'file' ? 'watched as it changes' : `every ${fmtUs(k.intervalUs)}, timeout ${fmtUs(k.timeoutUs)}, up after ${k.rise} / down after ${k.fall} in a row`;
      lines.push(`  ${k.name} (${k.type}${k.target ? ` ${k.target}` : ''}): ${how}`);
    }
  }
  for (const p of c.policies) lines.push(`policy ${p.name}: ${p.file}, memory ${p.memoryPages / 16} MiB, CPU ${fmtUs(p.cpuUs)} per round`);
  if (c.virtualServers.length) {
    lines.push(`${plural(c.virtualServers.length, 'virtual server')}, balanced by \`vigil lb\` on nftables (table ${c.loadBalancer.table}):`);
    for (const v of c.virtualServers) {
      const svc = v.fwmark !== null ? `fwmark ${v.fwmark}` : `${v.protocol} ${v.family === 6 ? `[${v.address}]` : v.address}:${v.port}`;
      const extra = [v.persistence ? `persistence ${fmtUs(v.persistence.timeoutUs)}` : '', v.quorum > 1 || v.hysteresis ? `quorum ${v.quorum}${v.hysteresis ? ` +-${v.hysteresis}` : ''}` : '',
        v.sorryServer ? `sorry server ${v.sorryServer.address}:${v.sorryServer.port}` : ''].filter(Boolean);
      lines.push(`  ${v.name} (${svc}): ${v.scheduler}, ${v.forwarding}${v.interface ? ` in on ${v.interface}` : ''}, ${plural(v.realServers.length, 'real server')}`
        + ` (${v.realServers.filter((r) => r.check).length} checked)${extra.length ? `, ${extra.join(', ')}` : ''}`);
    }
  }
  if (c.status.listen === null) lines.push('status API off');
  else if (c.status.exposed) {
    lines.push(`status API on ${formatListen(c.status.listen)}: beyond loopback, anyone who can reach it reads the agent's state`);
  } else lines.push(`status API on ${formatListen(c.status.listen)}`);
  lines.push(c.realtime.enabled ? `real-time priority SCHED_FIFO ${c.realtime.priority}` : 'real-time scheduling off');
  return lines;
}

export const check: Command = {
  name: 'check',
  summary: 'check a configuration file: every problem as file:line:col',
  usage,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      config: { type: 'string', short: 'c' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    }, 'check');
    if (values.help) { io.stdout(usage); return 0; }
    if (positionals.length) {
      throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}: give the file with -c ${positionals[0]} (see \`vigil check --help\`)`);
    }
    let config: AgentConfig;
    try {
      config = loadConfig(values.config ?? DEFAULT_CONFIG);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const p of err.problems) io.stderr(formatProblem(p));
      return 2;
    }
    // Policies: the component behind each, where the policy is written.
    if (config.policies.length) {
      const { validatePolicy } = await import('../policy/validate.ts');
      const results = await Promise.all(config.policies.map((p) => validatePolicy([p.file], p).then(([r]) => r)));
      const bad = config.policies.map((p, i) => [p, results[i]] as const).filter(([, r]) => r instanceof Error);
      for (const [p, r] of bad) io.stderr(formatProblem({ file: config.file, line: p.line, col: p.col, message: `policy ${p.name}: ${p.file}: ${(r as Error).message}` }));
      if (bad.length) return 2;
    }
    // Unsafe scripts the file accepts (security.allowUnsafeScripts): said, not refused.
    for (const w of config.security?.warnings ?? []) io.stderr(`warning: ${w}`);
    if (values.json) io.stdout(JSON.stringify(config, null, 2));
    else io.stdout(summary(config).join('\n'));
    return 0;
  },
};
