// The status listener flooded from inside the agent's namespace: `n` connections held open at
// once, half idle, half slowloris (a request's headers, one more header line a second, never
// finished), for `ms`; then all closed. Runs in a child Node in that namespace.
import { spawn } from 'node:child_process';
import { NODE } from '../../test/net/netns.ts';

const SCRIPT = `
const net = require('node:net');
const [n, ms, port] = process.argv.slice(1).map(Number);
let opened = 0, refused = 0;
const socks = [];
for (let i = 0; i < n; i++) {
  const s = net.connect(port, '127.0.0.1');
  s.on('connect', () => { opened++; if (i % 2) s.write('GET /status HTTP/1.1\\r\\nHost: x\\r\\n'); });
  s.on('error', () => { refused++; });
  socks.push(s);
}
const drip = setInterval(() => { for (let i = 1; i < socks.length; i += 2) if (!socks[i].destroyed) socks[i].write('X-a: b\\r\\n'); }, 1000);
setTimeout(() => { clearInterval(drip); const held = socks.filter((s) => !s.destroyed).length;
  for (const s of socks) s.destroy(); console.log(JSON.stringify({ opened, refused, held })); }, ms);
`;

export function floodStatus(ns: string, n: number, ms: number, port = 9110): Promise<{ opened: number; refused: number; held: number }> {
  return new Promise((resolve, reject) => {
    const c = spawn('ip', ['netns', 'exec', ns, NODE, '-e', SCRIPT, String(n), String(ms), String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout!.on('data', (d) => { out += d; });
    c.on('exit', () => { try { resolve(JSON.parse(out)); } catch { reject(new Error(`status flood: ${out}`)); } });
  });
}
