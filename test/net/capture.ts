// tcpdump inside a namespace, and tshark's verdict on what it caught.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class Capture {
  readonly file: string;
  private readonly dir: string;
  private readonly proc: ChildProcess;
  private stderr = '';

  private constructor(ns: string, ifname: string, filter: string) {
    this.dir = mkdtempSync(join(tmpdir(), 'vigil-cap-'));
    this.file = join(this.dir, 'cap.pcap');
    this.proc = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-Z', 'root', '--immediate-mode', '-i', ifname, '-U', '-n', '-w', this.file, filter], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc.stderr!.on('data', (d) => (this.stderr += d));
  }

  /** Resolves once tcpdump is listening. */
  static async start(ns: string, ifname: string, filter: string): Promise<Capture> {
    const c = new Capture(ns, ifname, filter);
    for (let i = 0; !c.stderr.includes('listening on'); i++) {
      if (c.proc.exitCode !== null || i > 250) throw new Error(`tcpdump did not start: ${c.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return c;
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const done = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGINT');
    await done;
  }

  /** tshark fields, one row per frame. */
  fields(...fields: string[]): string[][] {
    const out = execFileSync('tshark', ['-r', this.file, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return out.split('\n').filter(Boolean).map((l) => l.split('\t'));
  }

  /** tshark's expert findings at warning level or above (malformed, bad checksum, ...). */
  expertWarnings(): string[] {
    const out = execFileSync('tshark', ['-r', this.file, '-q', '-z', 'expert,warn'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return out.split('\n').filter((l) => /^\s*\d+\s+\S+/.test(l) && !/^\s*Frequency/.test(l));
  }

  dispose(): void {
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
