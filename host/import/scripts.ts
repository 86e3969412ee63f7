// vrrp_script, vrrp_track_process and (vrrp_)track_file into vigil checks of type exec,
// process and file. The weight lives in each instance's track entry in vigil, so it is kept
// here for the instances that track the check.
import type { Stmt, Word } from './lex.ts';
import { Ctx, int, num, secs, vigilName, type Item } from './context.ts';

export interface Tracked {
  item: Item;                 // the check, as written out
  kind: 'script' | 'process' | 'file';
  weight: number;             // keepalived's default weight for the trackers
  reverse: boolean;
  used: boolean;
}

export interface Globals {
  version: 2 | 3;
  scriptUser: string | null;          // global_defs script_user
  defaultInterface: string | null;
  garp: { count?: number; interval?: string; refresh?: string; refreshRepeat?: number };
}

const SHELL_META = /[|&;<>()$`\\*?[\]~{}]|^\s*!/;

// keepalived splits a script into words itself (quotes group them) and runs it without a shell.
export function splitCommand(text: string): string[] {
  const out: string[] = [];
  let cur = '', q: string | null = null, any = false;
  for (const c of text) {
    if (q) { if (c === q) q = null; else cur += c; continue; }
    if (c === '"' || c === "'") { q = c; any = true; continue; }
    if (/\s/.test(c)) { if (cur || any) out.push(cur); cur = ''; any = false; continue; }
    cur += c;
  }
  if (cur || any) out.push(cur);
  return out;
}

// command / shell for an exec check from keepalived's script text: words when it is a plain
// command, /bin/sh -c when it uses a shell's syntax (a pipe, a redirection, $VAR).
export function commandOf(text: string): { command: string[]; shell: boolean } {
  if (SHELL_META.test(text)) return { command: [text.trim()], shell: true };
  return { command: splitCommand(text), shell: false };
}

function userOf(ctx: Ctx, s: Stmt, g: Globals): string | undefined {
  const u = s.args[0]?.text;
  if (!u) { ctx.skip(s, 'user', 'no user named'); return undefined; }
  if (s.args[1]) ctx.skip(s.args[1], 'user', `the group ${s.args[1].text}: vigil runs the command with the user's own group`);
  return u;
}

export function readScript(ctx: Ctx, s: Stmt, g: Globals): Tracked | undefined {
  const nameW = s.args[0];
  if (!nameW || !s.kids) { ctx.skip(s, s.key, 'a vrrp_script needs a name and a { } block'); return undefined; }
  let script: Word | undefined, interval = 1, timeout: number | undefined, weight = 0, reverse = false, rise = 1, fall = 1;
  let user: string | undefined = g.scriptUser ?? undefined;
  for (const k of s.kids) {
    const v = k.args[0];
    switch (k.key) {
      case 'script': script = k.args.length > 1 && !k.args[0].quoted ? { ...k.args[0], text: k.args.map((a) => a.quoted ? JSON.stringify(a.text) : a.text).join(' ') } : v; break;
      case 'interval': { const n = num(v); if (n === undefined || n <= 0) ctx.skip(k, k.key, `${v?.text ?? 'nothing'} is not a number of seconds`); else interval = n; break; }
      case 'timeout': { const n = num(v); if (n === undefined || n <= 0) ctx.skip(k, k.key, `${v?.text ?? 'nothing'} is not a number of seconds`); else timeout = n; break; }
      case 'weight': {
        const n = int(v);
        if (n === undefined || n < -253 || n > 253) ctx.skip(k, k.key, `${v?.text ?? 'nothing'} is not a weight (-253..253)`); else weight = n;
        if (k.args[1]?.text === 'reverse') reverse = true;
        break;
      }
      case 'rise': case 'fall': {
        const n = int(v);
        if (n === undefined || n < 1 || n > 100) ctx.skip(k, k.key, `${v?.text ?? 'nothing'} is not a count (1..100)`);
        else if (k.key === 'rise') rise = n; else fall = n;
        break;
      }
      case 'user': user = userOf(ctx, k, g) ?? user; break;
      case 'init_fail': break;   // vigil's checks start failing until they pass `rise` times: the same
      default: ctx.skip(k, k.key, 'not a vrrp_script keyword vigil knows');
    }
  }
  if (!script) { ctx.skip(s, s.key, `vrrp_script ${nameW.text} has no script line`); return undefined; }
  const { command, shell } = commandOf(script.text);
  if (!command.length || !command[0]) { ctx.skip(script, 'script', 'the script is empty'); return undefined; }
  // keepalived lets the timeout reach the interval (default: the interval itself).
  const to = Math.min(timeout ?? interval, interval);
  const item: Item = {
    '#': [`from ${ctx.from(s)} vrrp_script ${nameW.text}`],
    name: vigilName(nameW.text, `script_${s.line}`), type: 'exec', command, ...(shell ? { shell: true } : {}),
    ...(user ? { user } : {}),
    interval: secs(interval), timeout: secs(to), rise, fall,
  };
  if (shell) item['#']!.push('keepalived ran this without a shell, its words as arguments; it reads as a shell command, so vigil runs it with /bin/sh -c');
  if (!user) item['#']!.push('runs as the unprivileged user vigil picks (keepalived ran it as root unless script_user said)');
  if (timeout !== undefined && timeout > interval) item['#']!.push(`timeout ${timeout}s is longer than the interval: cut to ${interval}s`);
  return { item, kind: 'script', weight, reverse, used: false };
}

export function readProcess(ctx: Ctx, s: Stmt): Tracked | undefined {
  const nameW = s.args[0];
  if (!nameW || !s.kids) { ctx.skip(s, s.key, 'a vrrp_track_process needs a name and a { } block'); return undefined; }
  let proc: Word[] | undefined, weight = 1, reverse = false, min = 1, max: number | undefined;
  let fork: number | undefined, term: number | undefined, full = false, paramMatch: string | undefined;
  for (const k of s.kids) {
    const v = k.args[0];
    switch (k.key) {
      case 'process': proc = k.args; break;
      case 'weight': {
        const n = int(v);
        if (n === undefined || n < -254 || n > 254) ctx.skip(k, k.key, `${v?.text ?? 'nothing'} is not a weight (-254..254)`); else weight = n;
        if (k.args[1]?.text === 'reverse') reverse = true;
        break;
      }
      case 'quorum': case 'quorum_max': {
        const n = int(v);
        if (n === undefined || n < 0) ctx.skip(k, k.key, `${v?.text ?? 'nothing'} is not a count`);
        else if (k.key === 'quorum') min = n; else max = n;
        break;
      }
      case 'delay': case 'fork_delay': case 'terminate_delay': {
        const n = num(v);
        if (n === undefined || n < 0) { ctx.skip(k, k.key, `${v?.text ?? 'nothing'} is not a number of seconds`); break; }
        if (k.key !== 'terminate_delay') fork = n;
        if (k.key !== 'fork_delay') term = n;
        break;
      }
      case 'full_command': full = true; break;
      case 'param_match': paramMatch = v?.text; break;
      default: ctx.skip(k, k.key, 'not a vrrp_track_process keyword vigil knows');
    }
  }
  if (!proc?.length) { ctx.skip(s, s.key, `vrrp_track_process ${nameW.text} has no process line`); return undefined; }
  const item: Item = { '#': [`from ${ctx.from(s)} vrrp_track_process ${nameW.text}`], name: vigilName(nameW.text, `process_${s.line}`), type: 'process' };
  if (full || proc.length > 1 || paramMatch) {
    // full_command: the words are the command line (keepalived splits an unquoted one).
    item.cmdline = full && proc.length === 1 ? splitCommand(proc[0].text) : proc.map((w) => w.text);
    if (paramMatch === 'initial' || paramMatch === 'partial') item.paramMatch = paramMatch;
  } else item.process = proc[0].text;
  item.min = min;
  if (max !== undefined) item.max = max;
  if (term) item.delay = secs(term);
  if (fork) item.forkDelay = secs(fork);
  return { item, kind: 'process', weight, reverse, used: false };
}

export function readFile(ctx: Ctx, s: Stmt): Tracked | undefined {
  const nameW = s.args[0];
  if (!nameW || !s.kids) { ctx.skip(s, s.key, 'a track_file needs a name and a { } block'); return undefined; }
  let file: string | undefined, weight = 1, reverse = false;
  for (const k of s.kids) {
    const v = k.args[0];
    switch (k.key) {
      case 'file': file = v?.text; break;
      case 'weight': {
        const n = int(v);
        if (n === undefined || n < -254 || n > 254) ctx.skip(k, k.key, `${v?.text ?? 'nothing'} is not a weight vigil takes (-254..254)`); else weight = n;
        if (k.args[1]?.text === 'reverse') reverse = true;
        break;
      }
      case 'init_file': ctx.skip(k, k.key, 'vigil does not create the file: a missing file reads as a failing check until it exists'); break;
      default: ctx.skip(k, k.key, 'not a track_file keyword vigil knows');
    }
  }
  if (!file || !file.startsWith('/')) { ctx.skip(s, s.key, `track_file ${nameW.text} needs "file" with an absolute path`); return undefined; }
  const item: Item = { '#': [`from ${ctx.from(s)} track_file ${nameW.text}`], name: vigilName(nameW.text, `file_${s.line}`), type: 'file', path: file };
  return { item, kind: 'file', weight, reverse, used: false };
}
