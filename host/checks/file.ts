// file checks (keepalived's track_file): an integer read from a file each time it changes
// (inotify, through fs.watch on its directory, so a file replaced by rename is seen too), no
// reading on a timer. The value goes to the engine, which adds value x weight to the priority
// of each instance tracking it (weight 0: a non-zero value is FAULT), as keepalived does.
// Unreadable, or no integer in it: the check is down (error says why), value null.
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { CheckSpec } from '../config/types.ts';
import type { CheckReport } from './protocol.ts';
import { CHECK_CODES as E } from './errors.ts';

// keepalived reads the number as strtol does: leading blanks, a sign, digits.
export function readValue(path: string): { value: number } | { error: string } {
  let text: string;
  try { text = readFileSync(path, 'utf8').slice(0, 64); } catch (err) { return { error: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code}` }; }
  const m = /^\s*([+-]?\d+)/.exec(text);
  if (!m) return { error: `${path} holds no integer: ${JSON.stringify(text.slice(0, 20))}` };
  const v = Number.parseInt(m[1], 10);
  return Number.isSafeInteger(v) ? { value: v } : { error: `${path}: ${m[1]} is out of range` };
}

export class FileWatch {
  private readonly c: CheckSpec;
  private readonly report: (r: CheckReport) => void;
  private watcher: FSWatcher | undefined;
  private retry: NodeJS.Timeout | undefined;
  private last: { value: number | null; error: string | null } | undefined;
  private rounds = 0;
  private failures = 0;
  private transitions = 0;
  private stopped = false;

  constructor(c: CheckSpec, report: (r: CheckReport) => void) { this.c = c; this.report = report; }

  start(): void {
    this.arm();
    this.read();
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.close();
    clearTimeout(this.retry);
  }

  // Watch the directory (the file may not exist yet, or be replaced by a rename). A directory
  // that is not there is looked for again each interval until it is.
  private arm(): void {
    const path = this.c.file!.path;
    try {
      this.watcher = watch(dirname(path), { persistent: false }, (_ev, name) => {
        if (name === null || name === basename(path)) this.read();
      });
      this.watcher.on('error', () => { this.watcher?.close(); this.watcher = undefined; this.later(); });
    } catch {
      this.later();
    }
  }

  private later(): void {
    if (this.stopped) return;
    this.retry = setTimeout(() => { this.arm(); this.read(); }, this.c.intervalUs / 1000);
    this.retry.unref();
  }

  private read(): void {
    if (this.stopped) return;
    const r = readValue(this.c.file!.path);
    const now = 'value' in r ? { value: r.value, error: null } : { value: null, error: r.error };
    this.rounds++;
    if (now.error) this.failures++;
    if (this.last && this.last.value === now.value && this.last.error === now.error) return;
    if (this.last && (this.last.value === null) !== (now.value === null)) this.transitions++;
    this.last = now;
    this.report({
      check: this.c.name, up: now.value !== null, settled: true, error: now.error, code: now.error ? E.FILE : null,
      latencyMs: null, transitions: this.transitions, rounds: this.rounds, failures: this.failures, value: now.value,
    });
  }
}
