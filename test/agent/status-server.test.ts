// The status server's socket: made and bound through the shim and handed to Node as { fd }
// (host/agent/status-server.ts, why). It serves /status and /metrics like a listen(port, host)
// would, and a port already taken is a NetSysError naming the address, with nothing left open.
import t from 'tap';
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { Engine } from '../../host/agent/engine.ts';
import { createLogger } from '../../host/agent/log.ts';
import { bindStatus, serveStatus } from '../../host/agent/status-server.ts';
import { NetSysError } from '../../host/net/errors.ts';
import { shim } from '../../host/net/shim.ts';
import { spawn } from 'node:child_process';
import { skipReason } from '../net/netns.ts';
import { holders, lab, Proc } from '../helpers/agents.ts';

const get = (port: number, host: string, path: string) => new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
  request({ host, port, path }, (res) => {
    let body = '';
    res.setEncoding('utf8').on('data', (d: string) => { body += d; }).on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
  }).on('error', reject).end();
});
const fds = () => readdirSync('/proc/self/fd').length;

t.test('serves /status and /metrics on the address asked for, and refuses a taken port', async (t) => {
  const engine = new Engine({ log: createLogger({ json: true, write: () => {} }) });
  const server = await serveStatus(engine, bindStatus('127.0.0.1', 0));
  t.teardown(() => server.close());
  const addr = server.address() as AddressInfo;
  t.equal(addr.address, '127.0.0.1');
  t.ok(addr.port > 0);

  const s = await get(addr.port, '127.0.0.1', '/status');
  t.equal(s.status, 200);
  t.match(s.type, /application\/json/);
  t.same(JSON.parse(s.body).instances, []);
  const m = await get(addr.port, '127.0.0.1', '/metrics');
  t.equal(m.status, 200);
  t.match(m.body, /# TYPE vigil_instance_state gauge/);
  t.equal((await get(addr.port, '127.0.0.1', '/nope')).status, 404);

  const before = fds();
  const err = await Promise.resolve().then(() => bindStatus('127.0.0.1', addr.port)).then(() => undefined, (e: unknown) => e);
  t.type(err, NetSysError);
  t.equal((err as NetSysError).code, 'VIGIL_ENET_SYS');
  t.equal((err as NetSysError).errno, 'EADDRINUSE');
  t.match((err as Error).message, `status server on 127.0.0.1:${addr.port}: bind`);
  t.equal(fds(), before, 'the refused socket is closed');
  t.equal((await get(addr.port, '127.0.0.1', '/status')).status, 200, 'the first server still answers');
});

const loopback6 = Object.values(networkInterfaces()).flat().some((a) => a?.address === '::1');
t.test('IPv6: served on ::1, the address in brackets in the error', { skip: loopback6 ? false : 'no ::1 on this host' }, async (t) => {
  const engine = new Engine({ log: createLogger({ json: true, write: () => {} }) });
  const server = await serveStatus(engine, bindStatus('::1', 0));
  t.teardown(() => server.close());
  const addr = server.address() as AddressInfo;
  t.equal(addr.address, '::1');
  t.equal((await get(addr.port, '::1', '/status')).status, 200);
  const err = await Promise.resolve().then(() => bindStatus('::1', addr.port)).then(() => undefined, (e: unknown) => e);
  t.match((err as Error).message, `status server on [::1]:${addr.port}`);
});

t.test('a request made while the socket is bound but not yet served waits in the backlog', async (t) => {
  const engine = new Engine({ log: createLogger({ json: true, write: () => {} }) });
  const sock = bindStatus('127.0.0.1', 0);
  const name = new Uint8Array(128);
  shim().getsockname(sock.fd, name);
  const port = new DataView(name.buffer).getUint16(2);   // sin_port, network order
  const pending = get(port, '127.0.0.1', '/status');
  await new Promise((r) => setTimeout(r, 50));
  const server = await serveStatus(engine, sock);
  t.teardown(() => server.close());
  t.equal((await pending).status, 200, 'answered once served');
});

const skip = skipReason();
t.test('a taken status port refuses the start before any VIP moves', { skip }, async (t) => {
  const l = lab(t, 'vstat-', ['a']);
  const [a] = l.hosts;
  // Something else on 127.0.0.1:9110 in a's namespace.
  const holder = new Proc(spawn('ip', ['netns', 'exec', a.ns, process.execPath, '-e',
    "require('net').createServer().listen(9110, '127.0.0.1', () => console.log('listening'))"], { stdio: ['ignore', 'pipe', 'pipe'] }));
  l.procs.push(holder);
  await holder.waitLine(/listening/, 5000);
  const v = l.vigil(a, 'a.yaml', { priority: 255, vips: ['192.0.2.100/24'] });
  t.equal(await v.exited, 2, 'exit 2');
  t.ok(v.lines.some((x) => /status server on 127\.0\.0\.1:9110: bind: Address already in use/.test(x)), 'the error names the address');
  t.notOk(v.lines.some((x) => /"to":"master"/.test(x)), 'no instance started');
  t.same(holders(l.ns, '192.0.2.100'), [], 'no VIP');
});
