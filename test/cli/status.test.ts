// vigil status finds the agent where its config says (status.listen), not only on the default
// port: -c FILE, or /etc/vigil/vigil.yaml when it is there. The agent here is a stand-in HTTP
// server on loopback serving a recorded /status document (the real agent's /status is tested in
// test/agent/behaviour.test.ts); what is under test is the command's choice of endpoint.
import t from 'tap';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const vigil = fileURLToPath(new URL('../../bin/vigil', import.meta.url));
// Async: the stand-in server runs in this process's loop.
function run(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(vigil, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

const STATUS = {
  instances: [{ name: 'VI_1', interface: 'eth0', vrid: 51, family: 'ipv4', state: 'master', effectivePriority: 150, masterAddress: '192.0.2.10',
    counters: { advertsSent: 10, advertsReceived: 0, transitions: 2 }, drops: {}, availability: { availability: 1 }, transitions: [] }],
};

t.test('-c FILE: the endpoint from status.listen; errors name the file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-status-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const seen: string[] = [];
  const server = createServer((req, res) => { seen.push(req.url!); res.setHeader('content-type', 'application/json'); res.end(JSON.stringify(STATUS)); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;
  const cfg = (status: string) => {
    const f = join(dir, `v${seen.length}-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(f, `instances: [{ name: VI_1, interface: eth0, vrid: 51, virtualAddresses: [192.0.2.100/24] }]\nstatus: ${status}\n`);
    return f;
  };

  const ok = await run(['status', '-c', cfg(`{ listen: 127.0.0.1:${port} }`)]);
  t.equal(ok.code, 0, ok.err);
  t.match(ok.out, /^INSTANCE.*\nVI_1\s+eth0\s+51\s+ipv4\s+master\s+150\s+192\.0\.2\.10/);
  t.same(seen, ['/status'], 'asked the port the config names');

  const off = await run(['status', '-c', cfg('false')]);
  t.equal(off.code, 2);
  t.match(off.err, /has `status: false`: the agent serves no status endpoint/);

  const broken = join(dir, 'broken.yaml');
  writeFileSync(broken, 'instances: [{ name: VI_1, interface: eth0, vrid: 300, virtualAddresses: [192.0.2.100/24] }]\n');
  const b = await run(['status', '-c', broken]);
  t.equal(b.code, 2);
  t.match(b.err, new RegExp(`${broken.replaceAll('.', '\\.')}:1:\\d+: .*vrid`), 'file:line:col of the problem');

  const both = await run(['status', '-c', broken, '--url', `http://127.0.0.1:${port}/status`]);
  t.equal(both.code, 2);
  t.match(both.err, /--url or -c, not both/);

  const help = await run(['status', '--help']);
  t.match(help.out, /-c, --config FILE/);
});
