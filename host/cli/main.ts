// vigil's command line. Errors are one line on stderr and an exit code, never a stack trace
// (VIGIL_DEBUG=1 adds it: command.ts).
// process.getBuiltinModule, not import: see host/core/addr.ts.
const { readFileSync } = process.getBuiltinModule('node:fs');
import { UsageError } from '../errors.ts';
import { failed, processIo, runCommand, type Command, type Io } from './command.ts';
// Loaded on demand: `vigil decode` must not pull in the agent, the shim or the config parser.
interface Entry { name: string; summary: string; load: () => Promise<Command> }
const commands: Entry[] = [
  { name: 'run', summary: 'run the agent in the foreground', load: async () => (await import('./run.ts')).run },
  { name: 'engine', summary: '', load: async () => (await import('./run.ts')).engine },
  { name: 'checker', summary: '', load: async () => (await import('./checker.ts')).checker },
  { name: 'check', summary: 'validate a configuration file', load: async () => (await import('./check.ts')).check },
  { name: 'cleanup', summary: 'remove the VIPs a killed run left (systemd ExecStopPost=)', load: async () => (await import('./cleanup.ts')).cleanup },
  { name: 'status', summary: "show the running agent's instances", load: async () => (await import('./status.ts')).status },
  { name: 'lb', summary: 'the load balancer: `vigil lb dump` prints the rules it applied', load: async () => (await import('./lb.ts')).lb },
  { name: 'policy', summary: 'validate a check policy, or hot-swap one into the running agent', load: async () => (await import('./policy.ts')).policy },
  { name: 'import', summary: 'turn a keepalived.conf into vigil YAML, listing what does not map', load: async () => (await import('./import.ts')).importCommand },
  { name: 'decode', summary: 'decode VRRP packets (hex, stdin or a capture) to JSON', load: async () => (await import('./decode.ts')).decode },
  { name: 'avail', summary: 'availability calculator: MTTF/MTTR, percent, nines and allowed downtime', load: async () => (await import('./avail.ts')).avail },
];
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: vigil COMMAND [OPTIONS]',
    '',
    'A virtual-IP high-availability agent: VRRP v2 (RFC 3768) and v3 (RFC 5798).',
    '',
    'Commands:',
    ...commands.filter((c) => c.summary).map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options:',
    '  -h, --help     this text; `vigil COMMAND --help` for a command',
    '  --version      print the version',
  ].join('\n');
}

export async function main(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
      io.stdout(help());
      return name === undefined ? 2 : 0;
    }
    if (name === '--version' || name === '-V') { io.stdout(`vigil ${pkg.version}`); return 0; }
    const cmd = commands.find((c) => c.name === name);
    if (!cmd) throw new UsageError(`unknown command ${JSON.stringify(name)}; commands: ${commands.filter((c) => c.summary).map((c) => c.name).join(', ')}`);
    return await runCommand(name, cmd.load, rest, io);
  } catch (err) {
    return failed('vigil', err, io);
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2), processIo());
