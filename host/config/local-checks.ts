// The checks that look at this host rather than at a server: exec (keepalived's vrrp_script and
// MISC_CHECK), process (track_process) and file (track_file). Their keys, read and checked;
// readCheck (checks.ts) calls readLocal for these types.
import type { Ctx, Entry, Fields, YNode } from './reader.ts';
import { isScalar } from 'yaml';
import { at, boolean, durationIn, integer, itemString, list, string } from './reader.ts';

export interface ExecSpec {
  command: string[];          // argv, run without a shell; with shell: [the shell command]
  shell: boolean;             // run command[0] with /bin/sh -c
  user: string;               // who it runs as (default: nobody); root only when written
  dynamic: boolean;           // keepalived's misc_dynamic: exit 2..255 sets the real server's weight (exit - 2)
}
export interface ProcessSpec {
  process: string | null;     // the name in /proc/PID/comm (15 characters at most are compared)
  cmdline: string[] | null;   // the command line, word by word
  paramMatch: 'exact' | 'initial' | 'partial';
  pidfile: string | null;     // the pid in this file
  min: number;                // the fewest matching processes that count as up (keepalived's quorum)
  max: number | null;         // the most (quorum_max)
  delayUs: number;            // how long the count stays below min before the check fails
  forkDelayUs: number;        // how long it stays within min..max before the check passes
}
export interface FileSpec {
  path: string;               // read as an integer each time it changes
}

export type LocalType = 'exec' | 'process' | 'file';
export const LOCAL_TYPES: readonly LocalType[] = ['exec', 'process', 'file'];
export const LOCAL_KEYS: Record<string, LocalType[]> = {
  command: ['exec'], shell: ['exec'], user: ['exec'], dynamic: ['exec'],
  process: ['process'], cmdline: ['process'], paramMatch: ['process'], pidfile: ['process'], min: ['process'], max: ['process'],
  delay: ['process'], forkDelay: ['process'],
  path: ['file'],
};
export const DEFAULT_EXEC_USER = 'nobody';
const USER_RE = /^[a-z_][a-z0-9_.-]{0,31}\$?$|^\d{1,10}$/;
const ABS = /^\/[^\0]*[^/]$/;

export interface Local { exec: ExecSpec | null; process: ProcessSpec | null; file: FileSpec | null }

export function readLocal(ctx: Ctx, f: Fields, type: LocalType, label: string, item: YNode): Local | undefined {
  let ok = true;
  const bad = (node: YNode, m: string) => { ctx.report(node, m); ok = false; };
  const out: Local = { exec: null, process: null, file: null };
  if (type === 'exec') {
    const shellE = f.get('shell');
    const shell = shellE ? boolean(ctx, shellE) ?? false : false;
    const cE = f.get('command');
    let command: string[] = [];
    if (!cE) bad(item, `${label} has no command: add e.g. "command: [/usr/bin/pidof, haproxy]" (runs without a shell)`);
    else {
      const words = strings(ctx, cE, 'the program and its arguments, e.g. [/usr/bin/pidof, haproxy]');
      if (!words) ok = false;
      else if (!words.length || !words[0]) bad(at(cE), `${label}: command is empty: give the program and its arguments`);
      else if (shell && words.length !== 1) bad(at(cE), `${label}: with shell: true, command is one shell command line, e.g. ["pidof haproxy | grep -q ."]`);
      else if (!shell && !words[0].startsWith('/')) bad(at(cE), `${label}: command ${JSON.stringify(words[0])} is not an absolute path: write the full path (vigil runs it without a shell or a PATH search), or set shell: true`);
      else command = words;
    }
    const uE = f.get('user');
    let user = DEFAULT_EXEC_USER;
    if (uE) {
      const u = string(ctx, uE, 'a user name such as nobody');
      if (u !== undefined && !USER_RE.test(u)) bad(at(uE), `${label}: user ${JSON.stringify(u)} is not a user name`);
      else if (u !== undefined) user = u; else ok = false;
    }
    const dE = f.get('dynamic');
    const dynamic = dE ? boolean(ctx, dE) ?? false : false;
    out.exec = { command, shell, user, dynamic };
  } else if (type === 'process') {
    const p: ProcessSpec = { process: null, cmdline: null, paramMatch: 'exact', pidfile: null, min: 1, max: null, delayUs: 0, forkDelayUs: 0 };
    const pE = f.get('process'), cE = f.get('cmdline'), fE = f.get('pidfile');
    const given = [pE, cE, fE].filter(Boolean).length;
    if (given !== 1) bad(item, `${label}: give one of process (a name), cmdline (the command line) or pidfile${given ? ', not several' : ''}`);
    if (pE) {
      const s = string(ctx, pE, 'a process name such as haproxy');
      if (s !== undefined && !s) bad(at(pE), `${label}: process is empty`);
      else if (s !== undefined) p.process = s; else ok = false;
    }
    if (cE) { const w = strings(ctx, cE, 'the command line word by word, e.g. [/usr/sbin/haproxy, -f, /etc/haproxy/haproxy.cfg]'); if (w?.length) p.cmdline = w; else bad(at(cE), `${label}: cmdline is empty`); }
    const mE = f.get('paramMatch');
    if (mE) {
      const m = string(ctx, mE, 'exact, initial or partial');
      if (m === 'exact' || m === 'initial' || m === 'partial') p.paramMatch = m; else bad(at(mE), `${label}: paramMatch must be exact, initial (the last word may be longer) or partial (the first words)`);
      if (!cE) bad(mE.key, `${label}: paramMatch is for cmdline`);
    }
    if (fE) {
      const s = string(ctx, fE, 'the absolute path of a pid file');
      if (s !== undefined && !ABS.test(s)) bad(at(fE), `${label}: pidfile ${JSON.stringify(s)} must be an absolute path`);
      else if (s !== undefined) p.pidfile = s; else ok = false;
    }
    const minE = f.get('min'), maxE = f.get('max');
    if (minE) { const n = integer(ctx, minE, 0, 1e6); if (n === undefined) ok = false; else p.min = n; }
    if (maxE) { const n = integer(ctx, maxE, 0, 1e6); if (n === undefined) ok = false; else p.max = n; }
    if (p.max !== null && p.max < p.min) bad(at(maxE!), `${label}: max ${p.max} is below min ${p.min}: no count would pass`);
    const dE = f.get('delay'), fdE = f.get('forkDelay');
    if (dE) { const us = durationIn(ctx, dE, 0, 3600e6); if (us === undefined) ok = false; else p.delayUs = us; }
    if (fdE) { const us = durationIn(ctx, fdE, 0, 3600e6); if (us === undefined) ok = false; else p.forkDelayUs = us; }
    out.process = p;
  } else {
    const pE = f.get('path');
    if (!pE) bad(item, `${label} has no path: add "path: /run/vigil/weight" (a file holding an integer)`);
    else {
      const s = string(ctx, pE, 'the absolute path of a file');
      if (s !== undefined && !ABS.test(s)) bad(at(pE), `${label}: path ${JSON.stringify(s)} must be an absolute path`);
      else if (s !== undefined) out.file = { path: s }; else ok = false;
    }
  }
  return ok ? out : undefined;
}

function strings(ctx: Ctx, e: Entry, what: string): string[] | undefined {
  const items = list(ctx, e, what);
  if (!items) return undefined;
  const out: string[] = [];
  for (const n of items) {
    // A number or a boolean in a command line is its text: [/bin/sleep, 5].
    const v = ctx.deref(n);
    if (isScalar(v) && (typeof v.value === 'number' || typeof v.value === 'boolean')) { out.push(String(v.source ?? v.value)); continue; }
    const s = itemString(ctx, n, what);
    if (s === undefined) return undefined;
    out.push(s);
  }
  return out;
}
