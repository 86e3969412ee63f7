// Drives test/lb/hold.py in a namespace: long-lived connections through the VIP, opened, probed
// and pinged on demand, each answer "NAME CLIENT-ADDRESS" or "ERR <reason>".
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Proc } from '../helpers/agents.ts';

export class Holder {
  private readonly proc: Proc;
  private seen = 0;
  constructor(ns: string, host: string, port: number, keep: (p: Proc) => Proc) {
    this.proc = keep(new Proc(spawn('ip', ['netns', 'exec', ns, 'python3', join(import.meta.dirname, 'hold.py'), host, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] })));
  }
  // One command; its answers (the BODY of each line), in order.
  async run(cmd: string, ms = 20_000): Promise<string[]> {
    const from = this.seen;
    this.proc.child.stdin!.write(cmd + '\n');
    const start = Date.now();
    while (this.proc.lines.slice(from).indexOf('ok') < 0) {
      if (Date.now() - start > ms) throw new Error(`hold.py: no answer to ${cmd} in ${ms} ms: ${this.proc.lines.slice(from).join(' | ')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const end = from + this.proc.lines.slice(from).indexOf('ok');
    this.seen = end + 1;
    return this.proc.lines.slice(from, end).filter((l) => /^(open|probe|ping) \d+ /.test(l)).map((l) => l.split(' ').slice(2).join(' '));
  }
  close(): void { this.proc.child.stdin!.end(); }
}

/** The server names of answers ("r1 203.0.113.10" -> "r1"; errors -> "ERR"). */
export const names = (bodies: string[]) => bodies.map((b) => (b.startsWith('ERR') ? 'ERR' : b.split(' ')[0]));
export function count(bodies: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names(bodies)) out[n] = (out[n] ?? 0) + 1;
  return out;
}
