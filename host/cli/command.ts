// What every subcommand provides; main.ts dispatches on name.
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
