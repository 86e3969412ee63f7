// vigil checker: the health checks, in a process of their own (docs/ARCHITECTURE.md
// "Processes": HTTP through undici, DNS, TCP and ICMP never share an event loop with the engine).
// It loads only what its checks need: undici with an HTTP check, jco with a policy, never the
// agent's modules (packaging/bundle.ts keeps what it shares with them in a chunk of their own).
// `vigil run` starts it when the config has checks and restarts it when it dies. It writes
// one JSON line per report (host/checks/protocol.ts) on stdout, which the supervisor relays to
// the engine's stdin; logs go to stderr. It stops when its stdin (a pipe from the supervisor)
// closes, or on SIGTERM / SIGINT.
import { loadConfig } from '../config/load.ts';
import { createLogger } from '../agent/log.ts';
import { UsageError } from '../errors.ts';
import { shim } from '../net/shim.ts';
import { trimAfterStart } from '../agent/trim.ts';
import { DEFAULT_CONFIG, parse } from './args.ts';
import type { Command } from './command.ts';

const usage = `Usage: vigil checker [-c FILE] [--log-json] [--debug]

Runs the configuration's health checks and prints each check's state as JSON lines. Started
by \`vigil run\`; useful by hand to see what the checks see.`;

const options = {
  config: { type: 'string', short: 'c' }, 'log-json': { type: 'boolean' }, debug: { type: 'boolean' },
  'no-supervise': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
} as const;

export const checker: Command = {
  name: 'checker',
  summary: '',
  usage,
  async run(argv, io) {
    const { values, positionals } = parse(argv, options, 'checker');
    if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    if (values.help) { io.stdout(usage); return 0; }
    const { Runner } = await import('../checks/runner.ts');
    const log = createLogger({ json: values['log-json'] ? true : undefined, debug: values.debug });
    const file = values.config ?? DEFAULT_CONFIG;
    const config = loadConfig(file);
    // Policies (host/policy/) only when a check uses one: jco stays out of plain checkers.
    const policies = config.checks.some((c) => c.type === 'policy')
      ? new (await import('../policy/registry.ts')).Policies(config.policies.filter((p) => config.checks.some((c) => c.policy === p.name)), log)
      : undefined;
    await policies?.start();
    // Which policy each policy check uses, for its reports (one lookup per report, not a scan).
    const policyOf = new Map(config.checks.filter((c) => c.policy !== null).map((c) => [c.name, c.policy!]));
    // process and file checks are watched, not run in rounds (host/checks/watch.ts).
    const { WATCHED, startWatches } = await import('../checks/watch.ts');
    const watches = await startWatches(config.checks.filter((c) => WATCHED.has(c.type)), (r) => process.stdout.write(JSON.stringify(r) + '\n'));
    const runner = new Runner(config.checks.filter((c) => !WATCHED.has(c.type)), {
      probes: policies ? { policy: (c, signal) => policies.evaluate(c, signal) } : {},
      report: (r) => {
        const name = policyOf.get(r.check);
        if (policies && name !== undefined) r.policy = policies.report(name);
        process.stdout.write(JSON.stringify(r) + '\n');
        if (r.transitions > 0 || !r.up) log.debug(`check ${r.check}: ${r.up ? 'up' : 'down'}`, { ...r });
      },
    });
    await runner.start();
    const trim = freeMallocPages();
    log.info(`checker running: ${config.checks.length} check(s) from ${file}`, { pid: process.pid });
    // How the process checks learn of processes (the proc connector is silent in a namespace).
    if (watches.modes().length) setTimeout(() => log.info(watches.modes().join('; ')), 300).unref();
    return await new Promise<number>((resolve) => {
      const stop = (why: string) => {
        runner.stop();
        clearInterval(trim);
        watches.stop();
        log.info(`checker: ${why}: stopping`);
        process.stdin.destroy();
        void Promise.all([
          policies?.close(),
          policies ? import('../policy/probes.ts').then((m) => m.closeProbes()) : undefined,
          import('../checks/icmp.ts').then((m) => m.closeIcmp()),
          config.checks.some((c) => c.type === 'http') ? import('../checks/http.ts').then((m) => m.closeHttp()) : undefined,
        ]).finally(() => resolve(0));
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
      process.on('SIGHUP', () => { /* the supervisor restarts this process on a reload */ });
      if (process.env.VIGIL_SUPERVISED === '1') {
        process.stdin.on('end', () => stop('supervisor gone'));
        process.stdin.resume();
      }
    });
  },
};

// What only the start needed goes back, as the engine's does (trimAfterStart: malloc's free
// pages, then the node binary's file pages the checks do not touch again). Then malloc_trim
// every 30 s: V8's compiler threads and undici free their malloc memory and glibc keeps it
// (anonymous memory 28 -> 34 MB in the first minute at 10 HTTP checks/s). Figures:
// docs/ARCHITECTURE.md "Memory".
function freeMallocPages(): NodeJS.Timeout | undefined {
  let s: ReturnType<typeof shim>;
  try { s = shim(); } catch { return undefined; }   // no shim (a test's tree): nothing to trim with
  trimAfterStart(s);
  return setInterval(() => s.mallocTrim(), 30_000).unref();
}
