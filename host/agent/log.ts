// The agent's log: human lines on a terminal, JSON lines otherwise (journald, files, tests).
// process.getBuiltinModule, not import: see host/core/addr.ts.
const { writeSync } = process.getBuiltinModule('node:fs');
export type Level = 'debug' | 'info' | 'warn' | 'error';
export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, f?: Fields): void;
  info(msg: string, f?: Fields): void;
  warn(msg: string, f?: Fields): void;
  error(msg: string, f?: Fields): void;
}

export interface LoggerOptions {
  json?: boolean;
  write?: (line: string) => void;
  debug?: boolean;
  /**
   * Whether fd 2 is a terminal, when json is not given. Default node:tty's isatty, loaded only
   * then: it loads node:net with it (~5 ms here), which the engine, on its way to its first
   * advert, asks its shim instead.
   */
  isatty?: (fd: number) => boolean;
  /**
   * Every repeating line is limited to `burst` per `windowMs` (same level, text and fields);
   * what is held back is counted and said in one line when the window ends. Default 5 per 10 s: a
   * firewall dropping every advert at 100 adverts/s gives 5 lines and a count, not 1,000.
   */
  rateLimit?: { burst: number; windowMs: number } | false;
}

interface Repeat { start: number; count: number; suppressed: number; level: Level; msg: string; fields?: Fields }
const MAX_KEYS = 1024;

export function createLogger(opts: LoggerOptions = {}): Logger {
  const write = opts.write ?? toStderr;
  const json = opts.json ?? !(opts.isatty ?? process.getBuiltinModule('node:tty').isatty)(2);
  const limit = opts.rateLimit === false ? undefined : opts.rateLimit ?? { burst: 5, windowMs: 10_000 };
  const repeats = new Map<string, Repeat>();
  // A window ended: the count of what it held back, as one line of the same level.
  const flush = (key: string) => {
    const r = repeats.get(key);
    repeats.delete(key);
    if (r && r.suppressed > 0) {
      write1(r.level, `${r.msg} (repeated ${r.suppressed} more time${r.suppressed === 1 ? '' : 's'} in ${limit!.windowMs / 1000} s, not logged)`,
        { ...r.fields, suppressed: r.suppressed });
    }
  };
  const emit = (level: Level, msg: string, f?: Fields) => {
    if (level === 'debug' && !opts.debug) return;
    if (limit) {
      // The same line: the same level, text and fields ("reloaded" with other instances is news).
      const key = f ? `${level} ${msg} ${JSON.stringify(f)}` : `${level} ${msg}`;
      const now = performance.now();
      let r = repeats.get(key);
      if (r && now - r.start >= limit.windowMs) { flush(key); r = undefined; }
      if (!r) {
        if (repeats.size >= MAX_KEYS) for (const k of [...repeats.keys()]) flush(k);
        r = { start: now, count: 0, suppressed: 0, level, msg, fields: f };
        repeats.set(key, r);
      }
      if (++r.count > limit.burst) {
        // The count is said when the window ends, even if the line never comes again.
        if (r.suppressed++ === 0) {
          const held = r;
          setTimeout(() => { if (repeats.get(key) === held) flush(key); }, r.start + limit.windowMs - now).unref();
        }
        return;
      }
    }
    write1(level, msg, f);
  };
  function write1(level: Level, msg: string, f?: Fields): void {
    const time = new Date().toISOString();
    if (json) { write(JSON.stringify({ time, level, msg, ...f })); return; }
    const extra = f ? Object.entries(f).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ') : '';
    write(`${time} ${level.toUpperCase().padEnd(5)} ${msg}${extra ? '  ' + extra : ''}`);
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

// Lines go out by write(2) on fd 2, as process.stderr writes them on Linux (synchronously, to a
// file, a pipe or a terminal alike), without making that stream: the first use of
// process.stderr costs ~8 ms here, on the engine's way to its first advert.
function toStderr(line: string): void {
  const b = Buffer.from(line + '\n');
  let off = 0;
  try {
    while (off < b.length) off += writeSync(2, b, off);
  } catch (err) {
    // A non-blocking descriptor that is full: the stream queues what the kernel did not take.
    if ((err as NodeJS.ErrnoException).code === 'EAGAIN') process.stderr.write(b.subarray(off));
    // Otherwise there is nowhere to log to (stderr closed): the agent goes on without.
  }
}
