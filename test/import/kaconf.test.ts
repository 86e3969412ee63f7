// `vigil import` over 40 real keepalived.conf files (../shared/kaconf/, read in place, never
// copied into the project): every plain file imports (exit 0 or 3) and its YAML passes
// `vigil check`; every template is refused (exit 2) with a file:line:col; nothing crashes.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const vigil = fileURLToPath(new URL('../../bin/vigil', import.meta.url));
const corpus = fileURLToPath(new URL('../../../shared/kaconf/', import.meta.url));
const run = (args: string[]) => {
  const r = spawnSync(vigil, args, { encoding: 'utf8', env: { ...process.env, VIGIL_DEBUG: '' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

if (!existsSync(join(corpus, 'README.md'))) {
  t.plan(0, `${corpus} is absent: the real keepalived configs live outside the project`);
} else {
  // The README's table: file -> kind (plain, template: ..., negative ...).
  const kinds = new Map<string, string>();
  for (const l of readFileSync(join(corpus, 'README.md'), 'utf8').split('\n')) {
    const m = /^\| (\d\d-[^|]+\.conf) \| ([^|]+) \|/.exec(l);
    if (m) kinds.set(m[1].trim(), m[2].trim());
  }
  const files = readdirSync(corpus).filter((f) => f.endsWith('.conf')).sort();
  const dir = mkdtempSync(join(tmpdir(), 'vigil-kaconf-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  t.test('the corpus is there', async (t) => {
    t.equal(files.length, 40);
    t.equal(kinds.size, 40, 'each file has its kind in the README');
  });

  const left: number[] = [];
  for (const f of files) {
    const kind = kinds.get(f) ?? 'unknown';
    t.test(`${f} (${kind})`, async (t) => {
      const out = join(dir, f.replace(/\.conf$/, '.yaml'));
      const r = run(['import', join(corpus, f), '-o', out]);
      t.notMatch(r.err, /internal error|\n\s+at .*:\d+:\d+/, 'no stack trace');
      if (kind.startsWith('template') || /placeholder/.test(kind) && r.code === 2) {
        t.equal(r.code, 2, `a template is refused: ${r.err.trim().split('\n')[0]}`);
        t.match(r.err, new RegExp(`${f.replace(/\./g, '\\.')}:\\d+:\\d+: `), 'at a file:line:col');
        t.notOk(existsSync(out), 'and no YAML is written');
        return;
      }
      if (kind.startsWith('negative')) { t.ok(r.code === 2 || r.code === 3, `keepalived rejects it too: exit ${r.code}`); return; }
      t.ok(r.code === 0 || r.code === 3, `imported: exit ${r.code}`, { diagnostic: true, stderr: r.err });
      // Every left-out line names where it is and why.
      const lines = r.err.trim().split('\n').filter((l) => !l.startsWith('vigil import:'));
      for (const l of lines) t.match(l, /^[^:]+:\d+:\d+: [^:]+: not supported \(.+\)$/, l);
      if (r.code === 3) left.push(lines.length);
      if (!existsSync(out)) {
        t.match(r.err, /no instance or virtual server could be imported/, 'nothing to run: said so, nothing written');
        return;
      }
      const yaml = readFileSync(out, 'utf8');
      t.match(yaml, /# from [^:]+\.conf:\d+ (vrrp_instance|virtual_server)/, 'each item says where it came from');
      const c = run(['check', '-c', out]);
      t.equal(c.code, 0, `vigil check accepts it\n${c.err}`);
    });
  }

  t.test('include with a relative glob: 55 with its fragments 56 and 57 in conf.d/', async (t) => {
    const d = join(dir, 'inc');
    mkdirSync(join(d, 'conf.d'), { recursive: true });
    copyFileSync(join(corpus, '55-include-glob-main.conf'), join(d, 'keepalived.conf'));
    copyFileSync(join(corpus, '56-include-frag-vrrp.conf'), join(d, 'conf.d', 'vrrp.conf'));
    copyFileSync(join(corpus, '57-include-frag-lvs.conf'), join(d, 'conf.d', 'deliver.conf'));
    const r = run(['import', join(d, 'keepalived.conf')]);
    t.equal(r.code, 3, r.err);
    // Both fragments were read: their lines are named by their own files.
    t.match(r.err, /conf\.d\/vrrp\.conf:\d+:\d+: /);
    t.match(r.err, /conf\.d\/deliver\.conf:\d+:\d+: /);
    t.match(r.err, /conf\.d\/vrrp\.conf:24:5: 10\.0\.xxx\.xxx\/16|virtual_ipaddress: not supported \(10\.0\.xxx\.xxx\/16 is not an IP address\)/);
  });

  t.test('summary', async (t) => {
    t.ok(left.length > 0);
    t.comment(`files with lines left out: ${left.length}, ${left.reduce((a, b) => a + b, 0)} lines in all`);
  });
}
