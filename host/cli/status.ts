// vigil status: reads the running agent's /status and prints it as a table (or --json).
import { createRequire } from 'node:module';
// require, not import: an ES import of node:http loads undici, http2 and tls (see status-server.ts).
const { request } = createRequire(import.meta.url)('node:http') as typeof import('node:http');
import { VigilError, UsageError } from '../errors.ts';
import { parse } from './args.ts';
import type { Command } from './command.ts';
import { DEFAULT_CONFIG } from './run.ts';
import { loadConfig } from '../config/load.ts';
import { formatListen } from '../config/values.ts';

const DEFAULT_URL = 'http://127.0.0.1:9110/status';

// The endpoint a config's status.listen names. An explicit -c that cannot be read, or has no
// status endpoint, is an error; the default file is only a hint: if it is missing or broken
// (an edit the running agent refused, say), the default endpoint is asked, and stderr says so.
function statusUrl(file: string | undefined, note: (l: string) => void): string {
  const path = file ?? DEFAULT_CONFIG;
  const { existsSync } = process.getBuiltinModule('node:fs');
  if (!file && !existsSync(path)) return DEFAULT_URL;
  let listen;
  try {
    listen = loadConfig(path).status.listen;
  } catch (err) {
    if (file) throw err;
    note(`vigil status: ${path} could not be read (\`vigil check\` says why): asking ${DEFAULT_URL}`);
    return DEFAULT_URL;
  }
  if (!listen) throw new UsageError(`${path} has \`status: false\`: the agent serves no status endpoint`);
  return `http://${formatListen(listen)}/status`;
}

const usage = `Usage: vigil status [-c FILE | --url URL] [--json]

Reads the running agent's status endpoint and prints one line per instance: state, effective
priority, current master, adverts sent / received, drops, transitions and observed availability;
then, when the config has checks, one line per health check: state, last latency and error;
and with virtual servers, one line per real server: its service, up or down, weight, since when,
connections, packets and bytes, and the service's quorum.

  -c, --config FILE   read the endpoint from FILE's status.listen (default ${DEFAULT_CONFIG}
                      when it exists, else http://127.0.0.1:9110/status)
  --url URL           the status endpoint, as is
  --json              print the agent's JSON as is

Examples:
  vigil status
  vigil status -c /srv/edge/vigil.yaml
  vigil status --json | jq '.instances[] | {name, state}'`;

export function fetchJson(url: string, timeoutMs = 3000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => {
        if (res.statusCode !== 200) { reject(new VigilError('VIGIL_ESTATUS', `${url} answered ${res.statusCode}`)); return; }
        try { resolve(JSON.parse(body)); } catch { reject(new VigilError('VIGIL_ESTATUS', `${url} did not answer JSON`)); }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err: NodeJS.ErrnoException) => reject(new VigilError('VIGIL_ESTATUS',
      `cannot reach the agent at ${url} (${err.code ?? err.message}): is \`vigil run\` running, and is status.listen this address?`)));
    req.end();
  });
}

interface Inst {
  name: string; interface: string; vrid: number; family: string; state: string; effectivePriority: number;
  masterAddress: string | null; counters: { advertsSent: number; advertsReceived: number; transitions: number };
  drops: Record<string, number>; availability: { availability: number | null }; transitions: { at: string; to: string; why: string }[];
}

interface Chk { name: string; type: string; target: string; state: string; error: string | null; latencyMs: number | null; transitions: number; trackedBy: string[] }

interface Vs {
  name: string; address: string | null; port: number; fwmark: number | null; protocol: string; scheduler: string; forwarding: string;
  quorum: { up: boolean; healthy: number; needed: number };
  realServers: { address: string; port: number; weight: number; effectiveWeight: number; up: boolean; since: string; check: string | null; activeConnections: number | null; packets: number; bytes: number }[];
}

function grid(rows: string[][]): string {
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((x, c) => c === r.length - 1 ? x : x.padEnd(w[c])).join('  ')).join('\n');
}

// The health checks, when the config has any: a second table under the instances.
export function checksTable(checks: Chk[]): string {
  const rows = [['CHECK', 'TYPE', 'STATE', 'LATENCY', 'MOVES', 'TRACKED BY', 'TARGET', 'LAST ERROR']];
  for (const c of checks) {
    rows.push([c.name, c.type, c.state, c.latencyMs === null ? '-' : `${c.latencyMs.toFixed(1)}ms`, String(c.transitions),
      c.trackedBy.join(',') || '-', c.target, c.error ?? '-']);
  }
  return grid(rows);
}

// The load balancer's real servers, when the config has virtual servers: a third table.
export function virtualServersTable(vss: Vs[]): string {
  const rows = [['SERVICE', 'QUORUM', 'REAL SERVER', 'STATE', 'WEIGHT', 'CONNS', 'PACKETS', 'BYTES', 'CHECK', 'SINCE']];
  for (const v of vss) {
    const svc = `${v.name} ${v.fwmark !== null ? `fwmark ${v.fwmark}` : `${v.protocol}/${v.address?.includes(':') ? `[${v.address}]` : v.address}:${v.port}`} ${v.scheduler}/${v.forwarding}`;
    const q = `${v.quorum.up ? 'up' : 'LOST'} ${v.quorum.healthy}/${v.quorum.needed}`;
    for (const r of v.realServers) {
      rows.push([svc, q, `${r.address.includes(':') ? `[${r.address}]` : r.address}:${r.port}`, r.up ? 'up' : 'down', r.effectiveWeight === r.weight ? String(r.weight) : `${r.effectiveWeight}/${r.weight}`,
        r.activeConnections === null ? '-' : String(r.activeConnections), String(r.packets), String(r.bytes), r.check ?? '-', r.since]);
    }
  }
  return grid(rows);
}

export function table(s: { instances: Inst[]; checks?: Chk[]; virtualServers?: Vs[] }): string {
  const rows = [['INSTANCE', 'IFACE', 'VRID', 'FAMILY', 'STATE', 'PRIO', 'MASTER', 'SENT', 'RECV', 'DROPS', 'MOVES', 'AVAIL', 'SINCE']];
  for (const i of s.instances) {
    const drops = Object.values(i.drops).reduce((a, b) => a + b, 0);
    const last = i.transitions.at(-1);
    rows.push([i.name, i.interface, String(i.vrid), i.family, i.state, String(i.effectivePriority), i.masterAddress ?? '-',
      String(i.counters.advertsSent), String(i.counters.advertsReceived), String(drops), String(i.counters.transitions),
      i.availability.availability === null ? '-' : `${(i.availability.availability * 100).toFixed(3)}%`,
      last ? `${last.at} (${last.why})` : '-']);
  }
  return grid(rows) + (s.checks?.length ? '\n\n' + checksTable(s.checks) : '')
    + (s.virtualServers?.length ? '\n\n' + virtualServersTable(s.virtualServers) : '');
}

export const status: Command = {
  name: 'status',
  summary: 'show the running agent\'s instances',
  usage,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      url: { type: 'string' }, config: { type: 'string', short: 'c' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    }, 'status');
    if (values.help) { io.stdout(usage); return 0; }
    if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    if (values.url && values.config) throw new UsageError('give --url or -c, not both');
    const url = values.url ?? statusUrl(values.config, io.stderr);
    const s = await fetchJson(url) as Parameters<typeof table>[0];
    io.stdout(values.json ? JSON.stringify(s, null, 2) : table(s));
    return 0;
  },
};
