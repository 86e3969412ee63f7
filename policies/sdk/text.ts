// Helpers for reason strings: they end up in status, logs and metrics, so they stay short and
// printable whatever a server sent.

/** `s` in double quotes, cut to `max` characters ("..." marks a cut), control characters escaped. */
export function quote(s: string, max: i32 = 60): string {
  let out = '"';
  const n = min(s.length, max);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c == 13) out += "\\r";
    else if (c == 10) out += "\\n";
    else if (c == 9) out += "\\t";
    else if (c == 34 || c == 92) out += "\\" + String.fromCharCode(c);
    else if (c < 32 || c == 127) out += "\\x" + c.toString(16).padStart(2, "0");
    else out += String.fromCharCode(c);
  }
  return out + (s.length > max ? '..."' : '"');
}

/** Microseconds as milliseconds with one decimal: 812345 -> "812.3 ms". */
export function ms(us: u64): string {
  return `${us / 1000}.${(us % 1000) / 100} ms`;
}
