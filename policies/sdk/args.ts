// The check's `args` (list<tuple<string, string>>), with typed getters that remember the first
// problem, so a policy reads all it needs and refuses bad input in one place:
//   const port = args.int("port", 0, 0, 65535);
//   if (args.error) return args.error;   // e.g. `arg "port": "http" is not an integer in 0..65535`
export class Args {
  keys: string[] = [];
  values: string[] = [];
  /** The first problem met by a getter or `only`, or null. */
  error: string | null = null;

  get length(): i32 { return this.keys.length; }

  has(key: string): bool { return this.keys.includes(key); }

  /** The raw value, or null when absent (the first one wins if a key repeats). */
  get(key: string): string | null {
    const i = this.keys.indexOf(key);
    return i < 0 ? null : this.values[i];
  }

  private problem(msg: string): void {
    if (this.error === null) this.error = msg;
  }

  /** A string arg; without a default (null) it is required. */
  str(key: string, def: string | null = null): string {
    const v = this.get(key);
    if (v !== null) return v;
    if (def === null) { this.problem(`missing arg "${key}"`); return ""; }
    return def;
  }

  /** A non-negative decimal integer within [min, max]; `required` when there is no default. */
  int(key: string, def: i32, min: i32, max: i32, required: bool = false): i32 {
    const v = this.get(key);
    if (v === null) {
      if (required) this.problem(`missing arg "${key}"`);
      return def;
    }
    const n = parseDecimal(v.trim());
    if (n < 0 || n < <i64>min || n > <i64>max) {
      this.problem(`arg "${key}": "${v}" is not an integer in ${min}..${max}`);
      return def;
    }
    return <i32>n;
  }

  /** true/false, yes/no, 1/0. */
  bool(key: string, def: bool): bool {
    const v = this.get(key);
    if (v === null) return def;
    const s = v.trim().toLowerCase();
    if (s == "true" || s == "yes" || s == "1") return true;
    if (s == "false" || s == "no" || s == "0") return false;
    this.problem(`arg "${key}": "${v}" is not true or false`);
    return def;
  }

  /** A comma-separated list, items trimmed, empty items dropped. */
  list(key: string, def: string | null = null): string[] {
    const items = this.str(key, def).split(",");
    const out: string[] = [];
    for (let i = 0; i < items.length; i++) {
      const s = items[i].trim();
      if (s.length) out.push(s);
    }
    return out;
  }

  /** Refuses keys outside `allowed`: a typo ("budget_ms") must not silently become a default. */
  only(allowed: string[]): void {
    for (let i = 0; i < this.keys.length; i++) {
      if (!allowed.includes(this.keys[i])) {
        this.problem(`unknown arg "${this.keys[i]}" (expected one of ${allowed.join(", ")})`);
      }
    }
  }
}

/** Digits only (no sign, no spaces inside); -1 for anything else or an overflowing value. */
export function parseDecimal(s: string): i64 {
  if (s.length == 0 || s.length > 12) return -1;
  let n: i64 = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    n = n * 10 + (c - 48);
  }
  return n;
}
