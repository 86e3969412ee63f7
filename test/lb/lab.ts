// The load-balancer tests' network: real namespaces, real backends, a real client.
//   routed (NAT):  client 203.0.113.10 --- 203.0.113.1 director 198.51.100.1 --- real servers
//                  198.51.100.11.. (default route via the director), and a sorry server
//                  198.51.100.99; the VIP 192.0.2.100 on the director's eth0 (its instance).
//   lan (DR):      one bridge: client 192.0.2.10, director 192.0.2.1 (VIP 192.0.2.100), real
//                  servers 192.0.2.11.. holding the VIP on lo (arp_ignore=1, arp_announce=2).
// Each file passes its own prefix; everything is removed at teardown, even on failure.
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { Proc, Workdir, startVigil } from '../helpers/agents.ts';
import { nsExec, delNetns } from '../net/netns.ts';

const HERE = import.meta.dirname;
export const VIP = '192.0.2.100';

export interface LbLab {
  client: string; director: string; directors: string[]; servers: { ns: string; addr: string; name: string }[]; sorry: { ns: string; addr: string } | null;
  work: Workdir;
  backend(ns: string, kind: 'http' | 'udp' | 'line', addr: string, port: number, name: string): Promise<Proc>;
  vigil(file: string, ns?: string): Proc;
  requests(kind: 'http' | 'udp' | 'dns', host: string, port: number, count: number, pauseS?: number, parallel?: boolean, onFirst?: () => void): Promise<{ at: number; end: number; body: string }[]>;
  keep(p: Proc): Proc;
}

const ip = (...a: string[]) => execFileSync('ip', a, { stdio: ['ignore', 'pipe', 'pipe'] });

//   pair:          routed, with two directors d1 and d2 (203.0.113.2/.3 and 198.51.100.2/.3):
//                  the gateways 203.0.113.1 and 198.51.100.1 are VIPs their VRRP instances move.
export function lbLab(t: { teardown(fn: () => unknown): void }, prefix: string, mode: 'routed' | 'lan' | 'pair', nServers = 3, sorry = false): LbLab {
  const namespaces: string[] = [];
  const procs: Proc[] = [];
  const work = new Workdir();
  const addNs = (ns: string) => { try { ip('netns', 'del', ns); } catch { /* none */ } ip('netns', 'add', ns); namespaces.push(ns); nsExec(ns, 'ip', 'link', 'set', 'lo', 'up'); };
  t.teardown(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    for (const ns of namespaces.reverse()) { try { delNetns(ns); } catch { /* gone */ } }
    work.remove();
  });
  // A bridge in its own namespace; `plug` puts ns's `ifname` on it with `addr`.
  const bridge = (name: string) => { const ns = `${prefix}${name}`; addNs(ns); nsExec(ns, 'ip', 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0'); nsExec(ns, 'ip', 'link', 'set', 'br0', 'up'); return ns; };
  let port = 0;
  const plug = (br: string, ns: string, ifname: string, addr: string) => {
    const peer = `p${port++}`;
    ip('link', 'add', ifname, 'netns', ns, 'type', 'veth', 'peer', 'name', peer, 'netns', br);
    nsExec(br, 'ip', 'link', 'set', peer, 'master', 'br0', 'up');
    nsExec(ns, 'ip', 'addr', 'add', addr, 'dev', ifname);
    nsExec(ns, 'ip', 'link', 'set', ifname, 'up');
  };
  const client = `${prefix}c`, director = `${prefix}d`;
  const servers = Array.from({ length: nServers }, (_, i) => ({ ns: `${prefix}r${i + 1}`, name: `r${i + 1}`, addr: '' }));
  let sorryHost: { ns: string; addr: string } | null = null;
  const directors = mode === 'pair' ? [`${prefix}d1`, `${prefix}d2`] : [director];
  if (mode === 'routed' || mode === 'pair') {
    const cbr = bridge('cbr'), sbr = bridge('sbr');
    addNs(client);
    plug(cbr, client, 'eth0', '203.0.113.10/24');
    nsExec(client, 'ip', 'route', 'add', 'default', 'via', '203.0.113.1');
    directors.forEach((d, i) => {
      addNs(d);
      plug(cbr, d, 'eth0', mode === 'pair' ? `203.0.113.${2 + i}/24` : '203.0.113.1/24');
      plug(sbr, d, 'eth1', mode === 'pair' ? `198.51.100.${2 + i}/24` : '198.51.100.1/24');
    });
    const hosts = [...servers, ...(sorry ? [{ ns: `${prefix}s`, name: 'sorry', addr: '' }] : [])];
    hosts.forEach((s, i) => {
      s.addr = s.name === 'sorry' ? '198.51.100.99' : `198.51.100.${11 + i}`;
      addNs(s.ns);
      plug(sbr, s.ns, 'eth0', `${s.addr}/24`);
      nsExec(s.ns, 'ip', 'route', 'add', 'default', 'via', '198.51.100.1');
    });
    if (sorry) sorryHost = { ns: `${prefix}s`, addr: '198.51.100.99' };
  } else {
    const br = bridge('br');
    addNs(client); addNs(director);
    plug(br, client, 'eth0', '192.0.2.10/24');
    plug(br, director, 'eth0', '192.0.2.1/24');
    servers.forEach((s, i) => {
      s.addr = `192.0.2.${11 + i}`;
      addNs(s.ns);
      for (const [k, v] of [['all.arp_ignore', '1'], ['all.arp_announce', '2'], ['eth0.arp_ignore', '1'], ['eth0.arp_announce', '2']]) {
        if (!k.startsWith('eth0')) nsExec(s.ns, 'sysctl', '-qw', `net.ipv4.conf.${k}=${v}`);
      }
      plug(br, s.ns, 'eth0', `${s.addr}/24`);
      for (const k of ['eth0.arp_ignore=1', 'eth0.arp_announce=2']) nsExec(s.ns, 'sysctl', '-qw', `net.ipv4.conf.${k}`);
      nsExec(s.ns, 'ip', 'addr', 'add', `${VIP}/32`, 'dev', 'lo');
    });
  }
  const keep = (p: Proc) => { procs.push(p); return p; };
  return {
    client, director: directors[0], directors, servers, sorry: sorryHost, work, keep,
    async backend(ns, kind, addr, p, name) {
      const proc = keep(new Proc(spawn('ip', ['netns', 'exec', ns, 'python3', join(HERE, 'backend.py'), kind, addr, String(p), name], { stdio: ['ignore', 'pipe', 'pipe'] })));
      await proc.waitLine(/^ready$/, 10_000);
      return proc;
    },
    vigil: (file, ns = directors[0]) => keep(startVigil(ns, file)),
    requests(kind, host, p, count, pauseS = 0, parallel = false, onFirst) {
      return new Promise((resolve, reject) => {
        const c = spawn('ip', ['netns', 'exec', client, 'python3', join(HERE, 'client.py'), kind, host, String(p), String(count), String(pauseS)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PARALLEL: parallel ? '1' : '0' } });
        let out = '', err = '';
        c.stdout.on('data', (b: Buffer) => { if (!out) onFirst?.(); out += b; });
        c.stderr.on('data', (b: Buffer) => { err += b; });
        c.on('close', (code) => (code === 0 ? resolve(out.trim().split('\n').filter(Boolean).map((l) => { const [at, end, ...rest] = l.split(' '); return { at: Number(at) * 1000, end: Number(end) * 1000, body: rest.join(' ') }; }).sort((x, y) => x.at - y.at)) : reject(new Error(`client.py exited ${code}: ${err}`))));
      });
    },
  };
}

/** How many answers came from each server name. */
export function spread(answers: { body: string }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of answers) { const k = a.body.startsWith('ERR') ? 'ERR' : a.body.split(' ')[0]; out[k] = (out[k] ?? 0) + 1; }
  return out;
}

/**
 * A service's slot map as the kernel holds it, each slot written `goto rs-ID` whichever kind it
 * is: verdicts to a chain per real server (slots-VS: DR, persistence), or ct marks that
 * rs-targets4/6 turn into a DNAT target (marks-VS: NAT without persistence).
 */
export function slotText(ns: string, vs: string): string {
  const list = (map: string) => { try { return nsExec(ns, 'nft', 'list', 'map', 'inet', 'vigil', map); } catch { return ''; } };
  const verdicts = list(`slots-${vs}`);
  if (verdicts) return verdicts;
  const targets = new Map<string, string>();
  for (const m of `${list('rs-targets4')}\n${list('rs-targets6')}`.matchAll(/(0x[0-9a-f]{8}) : ([0-9a-f.:]+) \. (\d+)/g)) {
    targets.set(m[1], `${vs}-${m[2].replace(/[.:]/g, '_')}-${m[3]}`);
  }
  return list(`marks-${vs}`).replace(/(\d+) : (0x[0-9a-f]{8})/g, (_, k: string, mark: string) => `${k} : goto rs-${targets.get(mark) ?? mark}`);
}
