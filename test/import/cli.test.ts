// `vigil import` as a user runs it: bin/vigil in a child process; and no input ends in a stack
// trace (truncated, shuffled, binary files).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importKeepalived } from '../../host/import/index.ts';

const vigil = fileURLToPath(new URL('../../bin/vigil', import.meta.url));
const run = (args: string[]) => {
  const r = spawnSync(vigil, args, { encoding: 'utf8', env: { ...process.env, VIGIL_DEBUG: '' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const dir = mkdtempSync(join(tmpdir(), 'vigil-import-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string | Buffer) => { const p = join(dir, name); writeFileSync(p, text); return p; };

const GOOD = 'vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  priority 150\n  virtual_ipaddress {\n    192.0.2.100/24\n  }\n}\n';

t.test('all mapped: exit 0, the YAML on stdout or in -o', async (t) => {
  const r = run(['import', file('good.conf', GOOD)]);
  t.equal(r.code, 0, r.err);
  t.match(r.out, /^# vigil configuration imported from keepalived: good\.conf\n/);
  t.match(r.out, /  # from good\.conf:1 vrrp_instance VI_1\n  - name: VI_1\n    interface: eth0\n    vrid: 51\n    priority: 150\n    version: 2\n/);
  t.match(r.err, /1 instance\(s\), .*everything mapped/);
  const out = join(dir, 'out.yaml');
  t.equal(run(['import', join(dir, 'good.conf'), '-o', out]).code, 0);
  t.equal(run(['check', '-c', out]).code, 0, 'vigil check takes it');
});

t.test('lines left out: exit 3, each listed', async (t) => {
  const r = run(['import', file('some.conf', GOOD.replace('  priority 150\n', '  priority 150\n  smtp_alert\n'))]);
  t.equal(r.code, 3);
  t.match(r.err, /^some\.conf:5:3: smtp_alert: not supported \(vigil sends no e-mail: run a notify hook that does\)\n/);
});

t.test('what vigil check would refuse in the YAML is listed too: exit 3', async (t) => {
  const r = run(['import', file('dup.conf', GOOD + GOOD.replace('VI_1', 'VI_2').replace('192.0.2.100', '192.0.2.101'))]);
  t.equal(r.code, 3);
  t.match(r.err, /imported\.yaml:\d+:\d+: VRID 51 is already used on eth0 by instance VI_1 .*\(vigil check refuses this line of the imported YAML: fix it there\)/);
  t.match(r.err, /the YAML needs 1 fix\(es\) before vigil check takes it/);
});

t.test('not keepalived config, or no file: exit 2, one line, no stack', async (t) => {
  const tpl = run(['import', file('tpl.conf', GOOD.replace('eth0', '{{ iface }}'))]);
  t.equal(tpl.code, 2);
  t.match(tpl.err, /tpl\.conf:2:13: "\{\{ iface \}\}": this is a template, not keepalived config/);
  t.equal(tpl.out, '');
  const missing = run(['import', join(dir, 'nope.conf')]);
  t.equal(missing.code, 2);
  t.match(missing.err, /^vigil import: cannot read .*nope\.conf: no such file\n$/);
  t.equal(run(['import', dir]).code, 2, 'a directory');
  t.equal(run(['import']).code, 2, 'no file');
});

t.test('--explain: the mapping table', async (t) => {
  const r = run(['import', '--explain']);
  t.equal(r.code, 0);
  t.match(r.out, /^keepalived +vigil\n/);
  for (const re of [/virtual_router_id +instances\[\]\.vrid/, /vrrp_script +checks\[\] type: exec/, /lb_kind \/ lvs_method NAT\|DR +virtualServers\[\]\.forwarding/,
    /global_defs router_id +not supported: /, /smtp_alert +not supported: vigil sends no e-mail/, /MISC_CHECK .*type: exec/]) t.match(r.out, re);
});

t.test('nothing crashes: truncated, shuffled and binary inputs', async (t) => {
  const corpus = fileURLToPath(new URL('../../../shared/kaconf/', import.meta.url));
  const texts = [GOOD, readFileSync(fileURLToPath(import.meta.url), 'utf8')];
  if (existsSync(corpus)) for (const f of ['02-linuxgateway-vmac.conf', '12-upstream-vsg-fwmark.conf', '60-legacy-lvs-misspelled.conf']) texts.push(readFileSync(join(corpus, f), 'utf8'));
  let seed = 7;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  let n = 0;
  for (const text of texts) {
    for (let i = 0; i < 60; i++) {
      let x = text;
      const op = i % 4;
      if (op === 0) x = x.slice(0, rnd(x.length));
      else if (op === 1) { const lines = x.split('\n'); for (let k = 0; k < 5; k++) lines.splice(rnd(lines.length), 0, lines[rnd(lines.length)]); x = lines.join('\n'); }
      else if (op === 2) x = x.split('').map((c) => (rnd(50) === 0 ? '{}"#!\n '[rnd(7)] : c)).join('');
      else x = Buffer.from(Array.from({ length: 300 }, () => rnd(256))).toString('latin1');
      const p = file(`m${n++}.conf`, x);
      try { importKeepalived(p); } catch (err) { t.fail(`${p}: ${(err as Error).stack}`); }
    }
  }
  t.pass(`${n} mangled files imported without an exception`);
});
