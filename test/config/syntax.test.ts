// YAML that does not read, and files that cannot be read: reported the same way, with a place.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseConfig } from '../../host/config/load.ts';
import { ConfigError } from '../../host/config/errors.ts';
import { FILE, instance, lines, problemsOf } from './util.ts';

const brief = (text: string) => problemsOf(text).map((p) => `${p.line}:${p.col}: ${p.message}`);

t.test('syntax errors: where the YAML stops making sense', async (t) => {
  // The flow list opened on line 4 never closes; the parser notices at "priority" on line 5.
  t.strictSame(brief(lines('instances:', '  - name: VI_1', '    interface: e0', '    vrid: [51', '    priority: 100')),
    ['5:5: YAML: Flow sequence in block collection must be sufficiently indented and end with a ]']);
  t.strictSame(brief(lines('instances:', '  - name: VI_1', '\tinterface: e0')),
    ['3:1: YAML: Tabs are not allowed as indentation: indent with spaces']);
  t.strictSame(brief(lines('instances:', ...instance('A', 1, '192.0.2.1'), '---', 'x: 1')),
    ['6:1: YAML: the file holds more than one YAML document (a second "---"): keep one']);
  t.strictSame(brief(lines('instances:', '  - name: "VI_1', '    vrid: 1')), ['2:11: YAML: the quoted string that starts here never closes: add the closing "']);
  t.strictSame(brief(lines('instances:', "  - name: 'VI_1", '    vrid: 1')), ["2:11: YAML: the quoted string that starts here never closes: add the closing '"]);
  t.strictSame(brief(lines('a: b: c')), ['1:4: YAML: Nested mappings are not allowed in compact mappings']);
  // Warnings are problems too: nothing is "carry on".
  t.strictSame(brief(lines('instances:', ...instance('A', 1, '192.0.2.1', ['priority: !int 5']))), ['6:15: YAML: Unresolved tag: !int']);
});

t.test('a syntax error is reported alone: no guesses about a half-read file', async (t) => {
  const p = problemsOf(lines('instances:', '  - name: VI_1', '    prority: 5', '    vrid: [1'));
  t.equal(p.length, 1);
  t.match(p[0].message, /^YAML: /);
  t.equal(p[0].file, FILE);
});

t.test('every syntax error at once', async (t) => {
  t.strictSame(brief(lines('instances:', '\t- a', 'status:', '\tlisten: x', 'realtime: [1')), [
    '2:1: YAML: Tabs are not allowed as indentation: indent with spaces',
    '4:1: YAML: Tabs are not allowed as indentation: indent with spaces',
    '6:1: YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
  ]);
});

t.test('empty and wrong-shaped files', async (t) => {
  const empty = 'the file is empty: it needs an "instances:" list with at least one instance (see examples/vigil.yaml)';
  t.strictSame(brief(''), [`1:1: ${empty}`]);
  t.strictSame(brief('# nothing but a comment\n'), [`1:1: ${empty}`]);
  t.strictSame(brief('- a\n- b\n'), ['1:1: the file must be a map with "instances:" at the top, not a list']);
  t.strictSame(brief('just words\n'), ['1:1: the file must be a map with "instances:" at the top, not "just words"']);
  t.strictSame(brief('status: false\n'), ['1:1: no instances: add an "instances:" list with at least one instance (see examples/vigil.yaml), or "virtualServers:" for a load balancer alone']);
  t.strictSame(brief('1: x\ninstances: []\n'), ['1:1: 1 is not a key name: keys are words like "priority"', '2:12: instances is empty: list at least one instance']);
});

t.test('loadConfig: files that cannot be read are one problem without a place', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-config-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const problem = (path: string) => {
    try { loadConfig(path); } catch (err) {
      t.ok(err instanceof ConfigError);
      return (err as ConfigError).problems;
    }
    throw new Error('accepted');
  };
  t.strictSame(problem(join(dir, 'missing.yaml')), [{ file: join(dir, 'missing.yaml'), line: 0, col: 0, message: 'cannot read it: no such file (ENOENT)' }]);
  t.strictSame(problem(dir), [{ file: dir, line: 0, col: 0, message: 'is a directory: give the path of the YAML file' }]);
  const big = join(dir, 'big.yaml');
  writeFileSync(big, '#'.repeat((1 << 20) + 1));
  t.strictSame(problem(big), [{ file: big, line: 0, col: 0, message: `is ${(1 << 20) + 1} bytes; a vigil config is at most ${1 << 20} bytes` }]);
  t.throws(() => parseConfig('#'.repeat((1 << 20) + 1), 'x'), { code: 'VIGIL_ECONFIG', problems: [{ line: 0 }] });
  const good = join(dir, 'good.yaml');
  writeFileSync(good, lines('instances:', ...instance('A', 1, '192.0.2.1')));
  t.equal(loadConfig(good).instances[0].name, 'A');
  t.equal(loadConfig(good).file, good);
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, lines('instances:', ...instance('A', 1, '192.0.2.1', ['prority: 5'])));
  t.strictSame(problem(bad).map((p) => [p.file, p.line, p.col]), [[bad, 6, 5]]);
});
