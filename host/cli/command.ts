// What every subcommand provides; main.ts dispatches on name.
import { VigilError } from '../errors.ts';

export interface Io {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  readStdin: () => Promise<string>;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;           // the full --help text
  run(argv: string[], io: Io): Promise<number>;
}

// A command run as a process does: errors are one line on stderr and an exit code, never a
// stack trace (VIGIL_DEBUG=1 adds it).
export async function runCommand(name: string, load: () => Promise<Command>, argv: string[], io: Io): Promise<number> {
  try {
    return await (await load()).run(argv, io);
  } catch (err) {
    return failed(`vigil ${name}`, err, io);
  }
}

export function failed(where: string, err: unknown, io: Io): number {
  if (err instanceof VigilError) {
    io.stderr(`${where}: ${err.message}`);
    if (process.env.VIGIL_DEBUG) io.stderr(String(err.stack));
    return 2;
  }
  io.stderr(`${where}: internal error: ${(err as Error)?.message ?? err} (VIGIL_DEBUG=1 shows the stack; please report it)`);
  if (process.env.VIGIL_DEBUG) io.stderr(String((err as Error)?.stack));
  return 70;
}

// The process's own streams. A reader that goes away (`| head`) ends us quietly, as it does any
// Unix filter. process.stdout is made at the first line out, not before: the engine never
// writes one, and making the stream costs a start milliseconds.
export function processIo(): Io {
  let guarded = false;
  return {
    stdout: (l) => {
      if (!guarded) {
        guarded = true;
        process.stdout.on('error', (err: NodeJS.ErrnoException) => {
          if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
          throw err;
        });
      }
      process.stdout.write(l + '\n');
    },
    stderr: (l) => process.stderr.write(l + '\n'),
    readStdin,
  };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
