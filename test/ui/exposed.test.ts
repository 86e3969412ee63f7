// status.listen beyond loopback: allowed, and `vigil run` warns at start that the status page and
// API are open to whoever can reach them; on loopback, no such warning.
import t from 'tap';
import { skipReason, nsExec } from '../net/netns.ts';
import { lab, vigilConfig } from '../helpers/agents.ts';
import { needTools } from '../helpers/tools.ts';
import { buildPage } from '../../host/ui/build.ts';

const skip = skipReason() ?? needTools('curl');

t.test('a status listener beyond loopback is warned about at start', { skip }, async (t) => {
  await buildPage();
  const l = lab(t, 'vux-', ['a', 'b']);
  const [a, b] = l.hosts;
  const exposed = vigilConfig({ priority: 150, interval: '100ms' }).replace('status: { listen: 127.0.0.1:9110 }', `status: { listen: "${a.v4}:9110" }`);
  const pa = l.vigilFile(a, l.work.file('a.yaml', exposed));
  const pb = l.vigil(b, 'b.yaml', { priority: 100, interval: '100ms', vips: ['192.0.2.100/24'] });
  const warn = JSON.parse(await pa.waitLine(/reachable beyond this host/, 10_000));
  t.equal(warn.level, 'warn');
  t.match(warn.msg, new RegExp(`${a.v4.replace(/\./g, '\\.')}:9110`), `it names the address: ${warn.msg}`);
  // B reaches A's page over the LAN: what the warning is about.
  t.match(nsExec(b.ns, 'curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', `http://${a.v4}:9110/`), /^200$/);
  await pb.waitLine(/status on http/, 10_000);
  t.notOk(pb.lines.some((x) => /reachable beyond this host/.test(x)), 'no warning on loopback');
});
