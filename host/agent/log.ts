// The agent's log: human lines on a terminal, JSON lines otherwise (journald, files, tests).
export type Level = 'debug' | 'info' | 'warn' | 'error';
export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, f?: Fields): void;
  info(msg: string, f?: Fields): void;
  warn(msg: string, f?: Fields): void;
  error(msg: string, f?: Fields): void;
}

export function createLogger(opts: { json?: boolean; write?: (line: string) => void; debug?: boolean } = {}): Logger {
  const write = opts.write ?? ((l: string) => process.stderr.write(l + '\n'));
  const json = opts.json ?? !process.stderr.isTTY;
  const emit = (level: Level, msg: string, f?: Fields) => {
    if (level === 'debug' && !opts.debug) return;
    const time = new Date().toISOString();
    if (json) { write(JSON.stringify({ time, level, msg, ...f })); return; }
    const extra = f ? Object.entries(f).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ') : '';
    write(`${time} ${level.toUpperCase().padEnd(5)} ${msg}${extra ? '  ' + extra : ''}`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
