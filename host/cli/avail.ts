// vigil avail: the availability calculator. The maths is the core's (core-wasm/assembly/avail.ts).
import { Core } from '../core/core.ts';
import { UsageError } from '../errors.ts';
import { parseDuration, formatDuration, DurationSyntaxError } from '../duration.ts';
import { parse } from './args.ts';
import type { Command } from './command.ts';

const usage = `Usage: vigil avail (--mttf D --mttr D | --availability PERCENT | --nines N) [--json]

Availability = MTTF / (MTTF + MTTR); nines = -log10(1 - availability); the downtime that
availability allows per year (365.25 days), month (a twelfth of that) and week.

  --mttf D             mean time to failure, e.g. 720h, 30d, 1y
  --mttr D             mean time to repair, e.g. 30m, 4h
  --availability P     a percentage, e.g. 99.95
  --nines N            a number of nines, e.g. 4 or 3.5
  --json               print one JSON object instead of a table

Durations take a unit: us, ms, s, m, h, d, w, y.

Examples:
  vigil avail --mttf 720h --mttr 30m
  vigil avail --availability 99.95
  vigil avail --nines 5 --json`;

function duration(flag: string, text: string): number {
  try {
    const us = parseDuration(text);
    if (us < 0) throw new DurationSyntaxError('negative');
    return us;
  } catch (err) {
    throw new UsageError(`--${flag}: ${(err as Error).message}`);
  }
}

function number(flag: string, text: string): number {
  if (!/^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(text)) throw new UsageError(`--${flag}: ${JSON.stringify(text)} is not a number`);
  return Number(text);
}

export const avail: Command = {
  name: 'avail',
  summary: 'availability calculator: MTTF/MTTR, percent, nines and allowed downtime',
  usage,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      mttf: { type: 'string' }, mttr: { type: 'string' }, availability: { type: 'string' },
      nines: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    }, 'avail');
    if (values.help) { io.stdout(usage); return 0; }
    if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])} (see \`vigil avail --help\`)`);
    const modes = [values.mttf !== undefined || values.mttr !== undefined, values.availability !== undefined, values.nines !== undefined]
      .filter(Boolean).length;
    if (modes !== 1) throw new UsageError('give exactly one of: --mttf and --mttr, --availability, --nines (see `vigil avail --help`)');
    const raw = new Core().raw;
    let a: number;
    const result: Record<string, unknown> = {};
    if (values.mttf !== undefined || values.mttr !== undefined) {
      if (values.mttf === undefined || values.mttr === undefined) throw new UsageError('--mttf and --mttr go together');
      const mttf = duration('mttf', values.mttf), mttr = duration('mttr', values.mttr);
      if (mttf + mttr === 0) throw new UsageError('--mttf and --mttr cannot both be zero');
      a = raw.availability(mttf, mttr);
      result.mttfSeconds = mttf / 1e6;
      result.mttrSeconds = mttr / 1e6;
    } else if (values.availability !== undefined) {
      const p = number('availability', values.availability.replace(/%$/, ''));
      if (p > 100) throw new UsageError(`--availability: ${p} is over 100 percent`);
      a = p / 100;
    } else {
      a = raw.availabilityOfNines(number('nines', values.nines!));
    }
    const nines = raw.ninesOf(a);
    const down = {
      year: raw.downtimeAllowed(a, raw.secondsPerYear()),
      month: raw.downtimeAllowed(a, raw.secondsPerMonth()),
      week: raw.downtimeAllowed(a, raw.secondsPerWeek()),
    };
    Object.assign(result, {
      availability: a,
      percent: a * 100,
      nines: Number.isFinite(nines) ? nines : null,
      downtimeSeconds: down,
    });
    if (values.json) { io.stdout(JSON.stringify(result)); return 0; }
    const pct = (a * 100).toFixed(a >= 0.99999 ? 6 : 4).replace(/0+$/, '').replace(/\.$/, '');
    const lines = [];
    if (result.mttfSeconds !== undefined) {
      lines.push(`MTTF          ${formatDuration((result.mttfSeconds as number) * 1e6)}`);
      lines.push(`MTTR          ${formatDuration((result.mttrSeconds as number) * 1e6)}`);
    }
    lines.push(`availability  ${pct} %  (${Number.isFinite(nines) ? nines.toFixed(2) : 'infinite'} nines)`);
    lines.push('downtime allowed');
    lines.push(`  per year    ${formatDuration(down.year * 1e6)}`);
    lines.push(`  per month   ${formatDuration(down.month * 1e6)}`);
    lines.push(`  per week    ${formatDuration(down.week * 1e6)}`);
    io.stdout(lines.join('\n'));
    return 0;
  },
};
