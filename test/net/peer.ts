// A host/net endpoint inside one network namespace, driven over stdin/stdout by a test:
// one JSON command per line in, {id, ok, result | error} and {event} lines out.
// Run as: ip netns exec NS node test/net/peer.ts
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Announcer } from '../../host/net/announce.ts';
import { Netlink, NetlinkMonitor } from '../../host/net/netlink.ts';
import { enableRealtime, schedulerPolicy } from '../../host/net/realtime.ts';
import { shim } from '../../host/net/shim.ts';
import { createVmac, type Vmac } from '../../host/net/vmac.ts';
import { VrrpSocket } from '../../host/net/vrrp-socket.ts';
import { hex, unhex } from './frames.ts';

const out = (o: unknown) => process.stdout.write(JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) + '\n');
const socks = new Map<number, VrrpSocket>();
const announcers = new Map<string, Announcer>();
const vmacs = new Map<string, Vmac>();
let monitor: NetlinkMonitor | undefined;
let nextId = 1;
let ipBatch: import('node:child_process').ChildProcess | undefined;
const nl = new Netlink();
const rbuf = new Uint8Array(2048);

type Args = Record<string, any>;
const commands: Record<string, (a: Args) => unknown> = {
  async vrrpOpen(a) {
    const s = await VrrpSocket.open(a as any);
    const id = nextId++;
    socks.set(id, s);
    return { id, source: s.source, ifindex: s.ifindex };
  },
  vrrpSend(a) {
    const s = socks.get(a.sock)!;
    const b = unhex(a.hex);
    return s.send(b, 0, b.length, a.to ? s.peer(a.to) : s.group);
  },
  vrrpListen(a) {
    const s = socks.get(a.sock)!;
    s.listen(rbuf, 0, rbuf.length, (p) =>
      out({ event: 'vrrp', sock: a.sock, src: p.src, dst: p.dstText, ttl: p.ttl, ifindex: p.ifindex, truncated: p.truncated, ageUs: p.ageUs, hex: hex(p.buf.subarray(p.offset, p.offset + p.length)) }),
    );
    return true;
  },
  /** After `delayMs`, one VrrpSocket.recv (a socket not listened on): what was queued, or null. */
  async vrrpRecv(a) {
    await new Promise((r) => setTimeout(r, a.delayMs ?? 0));
    const p = socks.get(a.sock)!.recv(rbuf, 0, rbuf.length);
    return p && { src: p.src, ttl: p.ttl, ageUs: p.ageUs, hex: hex(p.buf.subarray(p.offset, p.offset + p.length)) };
  },
  vrrpClose(a) {
    socks.get(a.sock)?.close();
    socks.delete(a.sock);
    return true;
  },
  async announce(a) {
    let an = announcers.get(a.ifname);
    if (!an) announcers.set(a.ifname, (an = new Announcer(a.ifname)));
    const h = an.announce((a.frames as string[]).map(unhex), { count: a.count, intervalMs: a.intervalMs, refreshMs: a.refreshMs });
    if (a.wait) await new Promise((r) => setTimeout(r, a.wait));
    const sent = h.sent;
    if (a.stop !== false) h.stop();
    return { sent };
  },
  getLink: (a) => nl.getLink(a.ifname),
  listAddresses: (a) => nl.listAddresses(a.index, a.family),
  addAddress: (a) => nl.addAddress(a as any).then(() => true),
  addAddresses: (a) => nl.addAddresses(a.list).then(() => true),
  deleteAddress: (a) => nl.deleteAddress(a as any).then(() => true),
  setLinkUp: (a) => nl.setLinkUp(a.index, a.up).then(() => process.hrtime.bigint()),
  monitor() {
    monitor ??= new NetlinkMonitor();
    monitor.on('link', (e) => out({ event: 'link', ...e }));
    monitor.on('address', (e) => out({ event: 'address', ...e }));
    return true;
  },
  async vmacCreate(a) {
    const v = await createVmac(a as any);
    vmacs.set(v.name, v);
    return { name: v.name, index: v.index, mac: v.mac };
  },
  async vmacRemove(a) {
    await vmacs.get(a.name)!.remove();
    vmacs.delete(a.name);
    return true;
  },
  /** Run a command; resolve with the hrtime just before the spawn, for latency figures. */
  exec(a) {
    return new Promise((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      const p = spawn(a.cmd[0], a.cmd.slice(1), { stdio: 'ignore' });
      p.on('error', reject);
      p.on('exit', (code) => (code === 0 ? resolve(t0) : reject(new Error(`${a.cmd.join(' ')} exited ${code}`))));
    });
  },
  /**
   * Feed one line to a long-lived `ip -batch -` (started on first use and given time to
   * block on stdin), returning the hrtime just before the write: a latency measured from
   * here excludes starting a process.
   */
  async ipBatch(a) {
    if (!ipBatch) {
      ipBatch = spawn('ip', ['-force', '-batch', '-'], { stdio: ['pipe', 'ignore', 'inherit'] });
      await new Promise((r) => setTimeout(r, 300));
    }
    const t0 = process.hrtime.bigint();
    ipBatch.stdin!.write(a.line + '\n');
    return t0;
  },
  now: () => process.hrtime.bigint(),
  realtime: (a) => ({ ...enableRealtime(a), policy: schedulerPolicy() }),
  asan: () => shim().asan(),
};

createInterface({ input: process.stdin }).on('line', async (line) => {
  const { id, cmd, args } = JSON.parse(line) as { id: number; cmd: string; args: Args };
  try {
    const fn = commands[cmd];
    if (!fn) throw new Error(`unknown command ${cmd}`);
    out({ id, ok: true, result: await fn(args ?? {}) });
  } catch (e) {
    const err = e as Error & { code?: string };
    out({ id, ok: false, error: { name: err.name, code: err.code, message: err.message } });
  }
}).on('close', async () => {
  for (const s of socks.values()) s.close();
  for (const a of announcers.values()) a.close();
  for (const v of vmacs.values()) await v.remove().catch(() => {});
  monitor?.close();
  nl.close();
  ipBatch?.stdin!.end();
  process.exit(0);
});
out({ event: 'ready', pid: process.pid });
