// A vigil lb killed with SIGKILL leaves its status files (/run/vigil/lb-NETNS-PORT.*), which the
// status server splices into /status and /metrics. Those not rewritten for 30 s (vigil lb
// rewrites them about once a second) are stale: a vigil started since with no virtual server
// does not show the dead one's. The files' age is set back by hand rather than waited for.
import t from 'tap';
import { existsSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { skipReason, nsExec } from '../net/netns.ts';
import { needTools } from '../helpers/tools.ts';
import { agentStatus, until } from '../helpers/agents.ts';
import { lbLab, VIP } from './lab.ts';

const skip = skipReason() ?? needTools('nft', 'python3');

t.test('status files left by a killed vigil lb are not shown for ever', { skip, timeout: 60_000 }, async (t) => {
  const lab = lbLab(t, 'vtlbz-', 'routed', 1);
  const base = ['instances:', '  - { name: VI_1, interface: eth0, vrid: 60, priority: 150, advertInterval: 100ms, virtualAddresses: [192.0.2.77/32] }', 'status: { listen: 127.0.0.1:9110 }'];
  const withVs = lab.work.file('vs.yaml', [...base, 'virtualServers:', `  - { name: web, address: ${VIP}, port: 80, realServers: [{ address: ${lab.servers[0].addr}, port: 8080 }] }`].join('\n') + '\n');
  let vigil = lab.vigil(withVs);
  await vigil.waitLine(/load balancer: 1 virtual server/, 20_000);
  await until(() => agentStatus(lab.director).virtualServers?.length === 1, 5000, 'the virtual server in /status', 50);
  const files = ['json', 'prom'].map((x) => `/run/vigil/lb-${nsExec(lab.director, 'readlink', '/proc/self/ns/net').replace(/\D/g, '')}-9110.${x}`);
  t.teardown(() => { for (const f of files) rmSync(f, { force: true }); });

  // kill -9 of the whole agent: no one removes the files.
  const pid = vigil.child.pid!;
  const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  for (const p of [...kids, pid]) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
  await vigil.exited;
  t.ok(files.every((f) => existsSync(f)), 'the killed vigil lb\'s status files are left');

  vigil = lab.vigil(lab.work.file('none.yaml', base.join('\n') + '\n'));
  await until(() => { try { agentStatus(lab.director); return true; } catch { return false; } }, 20_000, 'a new vigil\'s /status', 100);
  t.equal(agentStatus(lab.director).virtualServers?.length, 1, 'a new vigil without virtual servers: the dead one\'s still shown while fresh');
  const old = Date.now() / 1000 - 60;
  for (const f of files) utimesSync(f, old, old);
  t.equal(agentStatus(lab.director).virtualServers, undefined, 'not rewritten for 60 s: not shown');
  const m = nsExec(lab.director, 'python3', '-c', 'import urllib.request;print(urllib.request.urlopen("http://127.0.0.1:9110/metrics").read().decode())');
  t.notMatch(m, /vigil_real_server_up/, 'nor in /metrics');
  t.equal(await vigil.stop(), 0);
});

// The files are rewritten once a change is in the kernel, not only at the next second's refresh:
// /status follows a real server going down within milliseconds of vigil lb's log line.
t.test('the status files follow a change at once', { skip, timeout: 60_000 }, async (t) => {
  const lab = lbLab(t, 'vtlbzf-', 'routed', 1);
  const web = await lab.backend(lab.servers[0].ns, 'http', lab.servers[0].addr, 8080, 'r1');
  const file = lab.work.file('fresh.yaml', [
    'checks:', `  - { name: r1, type: tcp, target: "${lab.servers[0].addr}:8080", interval: 100ms, timeout: 80ms, rise: 1, fall: 1 }`,
    'virtualServers:', `  - { name: web, address: ${VIP}, port: 80, realServers: [{ address: ${lab.servers[0].addr}, port: 8080, check: r1 }] }`,
    'status: { listen: 127.0.0.1:9110 }',
  ].join('\n') + '\n');
  const vigil = lab.vigil(file);
  await vigil.waitLine(/load balancer: 1 virtual server/, 20_000);
  const json = `/run/vigil/lb-${nsExec(lab.director, 'readlink', '/proc/self/ns/net').replace(/\D/g, '')}-9110.json`;
  const upInFile = () => { try { return JSON.parse(readFileSync(json, 'utf8'))[0].realServers[0].up as boolean; } catch { return null; } };
  await until(() => upInFile() === true, 5000, 'r1 up in the file', 10);
  await web.stop();
  await until(() => upInFile() === false, 5000, 'r1 down in the file', 5);
  const seen = Date.now();
  const line = await vigil.waitLine(/real server .* is down/, 2000);
  const lag = seen - Date.parse(JSON.parse(line).time);
  t.ok(lag < 300, `the file said down ${lag} ms after vigil lb logged it (a refresh once a second alone: up to 1,000 ms)`);
  t.equal(await vigil.stop(), 0);
});
