// The load-balancer benchmark's network (bench/lb.ts): namespaces for a client, a director and
// 1-3 real servers, each real server a real nginx (Debian's nginx-light) answering its own name.
//
//   client 203.0.113.2 (+ .3) --veth-- director 203.0.113.1 | br0 198.51.100.1 --veth-- b1 198.51.100.11
//                                VIPs 192.0.2.100 (NAT), .101 (DR) on lo        --veth-- b2 198.51.100.12 ...
//
// Routed, no NAT of its own: the client's default route and the real servers' go through the
// director, so "client -> one real server straight" crosses the same director as "client -> VIP".
// The client has a second address, 203.0.113.3, that `srcFor` routes the VIPs' traffic from
// (see the "New connections and TIME_WAIT" section of docs/lb.md for why the two paths must not
// share a client address). NAT and DR each have a VIP of their own, both installed at once as
// on a director with two virtual servers: one path's conntrack entries never meet the other's.
// Real servers hold the DR VIP on lo with arp_ignore=1 / arp_announce=2; the director accepts
// their DR replies from it on br0 (accept_local): in this bench it is also their router, which
// a DR director usually is not.
//
// Everything is named with PREFIX; a run sweeps leftovers of an earlier one first, tears down in
// its finally and on SIGINT/SIGTERM, and a reaper sweeps after a SIGKILL (bench/lab.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ip, nsExec, reaper, sweep, sleep } from './lab.ts';

export const PREFIX = 'vblb-';
export const VIP = '192.0.2.100';
export const VIP_DR = '192.0.2.101';
export const CLIENT = '203.0.113.2';
/** The client's address for the VIP's traffic (the route to the VIP says `src` this). */
export const CLIENT_VIP_SRC = '203.0.113.3';
export const DIRECTOR_CLIENT_SIDE = '203.0.113.1';
export const DIRECTOR_SERVER_SIDE = '198.51.100.1';
export const PORT = 80;
/** The director's interfaces: towards the client, and the bridge of the real servers. */
export const CLIENT_IF = 'dc';
export const SERVER_IF = 'br0';

export interface Backend { name: string; ns: string; address: string; pid: number }

export interface Topology {
  client: string;
  director: string;
  backends: Backend[];
  dir: string;
  /** Which client address the VIPs' connections leave from (the routes to the VIPs say `src`). */
  srcFor(vipSource: string): void;
  destroy(): void;
}

const nginxConf = (dir: string, name: string, address: string) => `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  server {
    listen ${PORT};
    location / { default_type text/plain; return 200 "${name}\\n"; }
  }
}
`;

function addNs(ns: string): void {
  ip('netns', 'add', ns);
  nsExec(ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1');
  nsExec(ns, 'ip', 'link', 'set', 'lo', 'up');
}

async function waitListening(ns: string, address: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (nsExec(ns, 'ss', '-Htln', `sport = :${PORT}`).includes(`:${PORT}`)) return;
    await sleep(20);
  }
  throw new Error(`nginx in ${ns} is not listening on ${address}:${PORT} after ${ms} ms`);
}

export async function up(count: number): Promise<Topology> {
  if (count < 1 || count > 3) throw new Error('1 to 3 real servers');
  sweep(PREFIX);
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-lb-'));
  const reap = reaper(PREFIX, dir);
  const procs: ChildProcess[] = [];
  const client = `${PREFIX}c`;
  const director = `${PREFIX}d`;
  const backends: Backend[] = [];
  let destroyed = false;
  const destroy = () => {
    if (destroyed) return;
    destroyed = true;
    for (const p of procs) { try { p.kill('SIGTERM'); } catch { /* gone */ } }
    sweep(PREFIX);
    rmSync(dir, { recursive: true, force: true });
    reap.close();
  };
  try {
    for (const ns of [client, director]) addNs(ns);
    ip('link', 'add', 'c0', 'netns', client, 'type', 'veth', 'peer', 'name', CLIENT_IF, 'netns', director);
    nsExec(client, 'ip', 'addr', 'add', `${CLIENT}/24`, 'dev', 'c0');
    nsExec(client, 'ip', 'addr', 'add', `${CLIENT_VIP_SRC}/24`, 'dev', 'c0');
    nsExec(client, 'ip', 'link', 'set', 'c0', 'up');
    nsExec(client, 'ip', 'route', 'add', 'default', 'via', DIRECTOR_CLIENT_SIDE);
    nsExec(director, 'ip', 'addr', 'add', `${DIRECTOR_CLIENT_SIDE}/24`, 'dev', CLIENT_IF);
    nsExec(director, 'ip', 'link', 'set', CLIENT_IF, 'up');
    nsExec(director, 'ip', 'link', 'add', SERVER_IF, 'type', 'bridge');
    nsExec(director, 'ip', 'addr', 'add', `${DIRECTOR_SERVER_SIDE}/24`, 'dev', SERVER_IF);
    nsExec(director, 'ip', 'link', 'set', SERVER_IF, 'up');
    for (const v of [VIP, VIP_DR]) nsExec(director, 'ip', 'addr', 'add', `${v}/32`, 'dev', 'lo');
    nsExec(director, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', `net.ipv4.conf.${SERVER_IF}.accept_local=1`);
    for (let i = 1; i <= count; i++) {
      const name = `b${i}`;
      const ns = `${PREFIX}${name}`;
      const address = `198.51.100.${10 + i}`;
      addNs(ns);
      ip('link', 'add', 'e0', 'netns', ns, 'type', 'veth', 'peer', 'name', `d${name}`, 'netns', director);
      nsExec(director, 'ip', 'link', 'set', `d${name}`, 'master', SERVER_IF, 'up');
      nsExec(ns, 'ip', 'addr', 'add', `${address}/24`, 'dev', 'e0');
      nsExec(ns, 'ip', 'link', 'set', 'e0', 'up');
      nsExec(ns, 'ip', 'route', 'add', 'default', 'via', DIRECTOR_SERVER_SIDE);
      nsExec(ns, 'ip', 'addr', 'add', `${VIP_DR}/32`, 'dev', 'lo');
      nsExec(ns, 'sysctl', '-qw', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2');
      const home = join(dir, name);
      mkdirSync(home, { mode: 0o700 });
      writeFileSync(join(home, 'nginx.conf'), nginxConf(home, name, address));
      // `ip netns exec` execs nginx, so this pid is nginx's master (daemon off).
      const p = spawn('ip', ['netns', 'exec', ns, 'nginx', '-c', join(home, 'nginx.conf'), '-p', home], { stdio: 'ignore' });
      procs.push(p);
      backends.push({ name, ns, address, pid: p.pid ?? -1 });
    }
    for (const b of backends) await waitListening(b.ns, b.address, 5000);
  } catch (e) {
    destroy();
    throw e;
  }
  return {
    client, director, backends, dir, destroy,
    srcFor(vipSource: string) {
      for (const v of [VIP, VIP_DR]) nsExec(client, 'ip', 'route', 'replace', `${v}/32`, 'via', DIRECTOR_CLIENT_SIDE, 'src', vipSource);
    },
  };
}

/** Tears down on Ctrl-C / SIGTERM and on exit; returns the function that stops listening. */
export function onSignals(t: Topology): () => void {
  const onExit = () => t.destroy();
  const onSignal = (sig: NodeJS.Signals) => { t.destroy(); process.exit(sig === 'SIGINT' ? 130 : 143); };
  process.on('exit', onExit);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => { process.off('exit', onExit); process.off('SIGINT', onSignal); process.off('SIGTERM', onSignal); };
}
