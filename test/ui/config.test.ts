// status.target, the status page's availability target: parsed with the listener, refused with
// its place and the fix when it is no percent the budget can use.
import t from 'tap';
import { lines, ok, problemsOf, where } from '../config/util.ts';

const INSTANCE = ['instances:', '  - { name: A, interface: eth0, vrid: 1, virtualAddresses: [192.0.2.1/24] }'];

t.test('status.target', async (t) => {
  t.equal(ok(lines(...INSTANCE, 'status: { listen: 127.0.0.1:9110, target: 99.99 }')).status.target, 99.99);
  const alone = ok(lines(...INSTANCE, 'status: { target: 99.9 }')).status;
  t.strictSame(alone, { listen: { host: '127.0.0.1', port: 9110 }, exposed: false, target: 99.9 }, 'with the default listener');
  t.notOk('target' in ok(lines(...INSTANCE)).status, 'none by default');
  for (const bad of ['100', '0.5', '"99.9"', 'high']) {
    const text = lines(...INSTANCE, `status: { target: ${bad} }`);
    const [p, ...more] = problemsOf(text);
    t.equal(more.length, 0);
    t.match(p, { ...where(text, `target: |${bad}`), message: /^status\.target must be an availability in percent, 1\.\.99\.99999 \(e\.g\. 99\.99\), not / }, `${bad} refused at its place`);
  }
});
