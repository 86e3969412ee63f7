// A long UDP flow (one client socket, a datagram every 50 ms) through a NAT virtual server:
// conntrack keeps such a flow on its real server for as long as datagrams keep coming, so when
// that server dies only the flush of its entries (flushOnFailure, the default) moves the flow;
// without it (flushOnFailure: false) the flow stays on the dead server.
import t from 'tap';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { skipReason } from '../net/netns.ts';
import { needTools } from '../helpers/tools.ts';
import { Proc, agentStatus, until } from '../helpers/agents.ts';
import { lbLab, VIP } from './lab.ts';

const skip = skipReason() ?? needTools('nft', 'conntrack', 'python3');
const FLOW = `
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.05)
s.connect((sys.argv[1], int(sys.argv[2])))
end = time.time() + float(sys.argv[3])
while time.time() < end:
    t0 = time.time()
    s.send(b"?")
    try: print(f"{t0:.3f} {s.recv(2048).decode().split()[0]}", flush=True)
    except OSError as e: print(f"{t0:.3f} ERR", flush=True)
    time.sleep(max(0, 0.05 - (time.time() - t0)))
`;

t.test('a long UDP flow moves off a dead real server only when its entries are flushed', { skip, timeout: 60_000 }, async (t) => {
  const lab = lbLab(t, 'vtlbw-', 'routed', 2);
  // Each real server: its UDP service on 5353 and, for its check, a TCP server on 8080; a real
  // server "dies" when both stop.
  const start = async (i: number) => {
    const s = lab.servers[i];
    return [await lab.backend(s.ns, 'udp', s.addr, 5353, s.name), await lab.backend(s.ns, 'http', s.addr, 8080, s.name)];
  };
  const procs: Proc[][] = [await start(0), await start(1)];
  const config = (flush: boolean) => [
    'checks:', ...lab.servers.map((s) => `  - { name: ${s.name}, type: tcp, target: "${s.addr}:8080", interval: 200ms, timeout: 150ms, rise: 2, fall: 2 }`),
    'virtualServers:',
    `  - { name: dns, address: ${VIP}, port: 53, protocol: udp, scheduler: rr, flushOnFailure: ${flush}, realServers: [${lab.servers.map((s) => `{ address: ${s.addr}, port: 5353, check: ${s.name} }`).join(', ')}] }`,
    'status: { listen: 127.0.0.1:9110 }',
  ].join('\n') + '\n';
  const file = lab.work.file('udpflow.yaml', config(true));
  const vigil = lab.vigil(file);
  await vigil.waitLine(/load balancer: 1 virtual server\(s\), 2 real server\(s\) in table vigil, applied/, 20_000);
  const rs = () => agentStatus(lab.director).virtualServers?.[0]?.realServers ?? [];
  await until(() => rs().every((r: { up: boolean }) => r.up), 10_000, 'up', 50);

  // One flow for 4 s; the real server it starts on dies 1 s in. What answered after the death.
  const flow = async () => {
    const p = lab.keep(new Proc(spawn('ip', ['netns', 'exec', lab.client, 'python3', '-c', FLOW, VIP, '53', '4'], { stdio: ['ignore', 'pipe', 'pipe'] })));
    const first = (await p.waitLine(/^\d+\.\d+ r\d$/, 5000)).split(' ')[1];
    const i = first === 'r1' ? 0 : 1;
    await new Promise((r) => setTimeout(r, 1000));
    const diedAt = Date.now();
    for (const x of procs[i]) await x.stop();
    await p.exited;
    const after = p.lines.filter((l) => /^\d/.test(l)).map((l) => { const [at, who] = l.split(' '); return { at: Number(at) * 1000 - diedAt, who }; }).filter((x) => x.at > 0);
    return { i, first, after };
  };

  // 1. flushOnFailure (the default): its entry flushed, the flow's next datagram goes to the other.
  const a = await flow();
  const other = a.first === 'r1' ? 'r2' : 'r1';
  const moved = a.after.find((x) => x.who === other);
  t.ok(moved, `the flow moved from ${a.first} to ${other} ${moved?.at.toFixed(0)} ms after ${a.first} died (fall x interval = 400 ms)`);
  t.ok(moved && a.after.filter((x) => x.at > moved.at).every((x) => x.who === other), 'and stays there');

  // 2. flushOnFailure: false: the dead server keeps the flow (conntrack refreshes it with each datagram).
  procs[a.i] = await start(a.i);
  await until(() => rs().every((r: { up: boolean }) => r.up), 10_000, 'both up again', 50);
  writeFileSync(file, config(false));
  const from = vigil.lines.length;
  vigil.signal('SIGHUP');
  await until(() => vigil.lines.slice(from).some((l) => /load balancer: reloaded/.test(l)), 10_000, 'the reload', 20);
  const b = await flow();
  t.ok(b.after.length > 30 && b.after.slice(-20).every((x) => x.who === 'ERR'), `flushOnFailure: false: the flow stays on the dead ${b.first} to its end (last 20 datagrams unanswered; ${b.after.filter((x) => x.who !== 'ERR').length} answered after the death)`);
  t.equal(await vigil.stop(), 0);
});
