// file checks (keepalived's track_file): the integer is read when the file changes (inotify),
// including a file replaced by rename or made later; what it does to a priority is
// keepalived's (value x weight; weight 0: non-zero is FAULT; under -253: FAULT).
import t from 'tap';
import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileWatch, readValue } from '../../host/checks/file.ts';
import { trackEffect } from '../../host/checks/protocol.ts';
import type { CheckReport } from '../../host/checks/protocol.ts';
import { parseConfig } from '../../host/config/load.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-file-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const spec = (path: string) => parseConfig(`instances:\n  - { name: V, interface: e0, vrid: 1, virtualAddresses: [192.0.2.1] }\nchecks:\n  - { name: f, type: file, path: ${path}, interval: 100ms }\n`, 'x.yaml').checks[0];

async function next(reports: CheckReport[], n: number, ms = 3000): Promise<CheckReport> {
  const t0 = Date.now();
  while (reports.length < n) {
    if (Date.now() - t0 > ms) throw new Error(`no report ${n} within ${ms} ms: ${JSON.stringify(reports)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return reports[n - 1];
}

t.test('the value as keepalived reads it', async (t) => {
  const p = join(dir, 'v');
  for (const [text, v] of [['5\n', 5], ['  -12 apples', -12], ['+3', 3], ['0', 0]] as const) { writeFileSync(p, text); t.strictSame(readValue(p), { value: v }, JSON.stringify(text)); }
  writeFileSync(p, 'none');
  t.match(readValue(p), { error: /holds no integer/ });
  t.match(readValue(join(dir, 'missing')), { error: /cannot read .*ENOENT/ });
});

t.test('read at each change, not on a timer: written in place, replaced by rename, removed, made again', async (t) => {
  const p = join(dir, 'weight');
  writeFileSync(p, '2\n');
  const reports: CheckReport[] = [];
  const w = new FileWatch(spec(p), (r) => reports.push(r));
  t.teardown(() => w.stop());
  w.start();
  t.match(await next(reports, 1), { check: 'f', up: true, settled: true, value: 2, error: null });
  const t0 = performance.now();
  writeFileSync(p, '7\n');
  t.match(await next(reports, 2), { value: 7 });
  t.comment(`a write seen in ${(performance.now() - t0).toFixed(1)} ms`);
  writeFileSync(join(dir, 'weight.new'), '-3\n');
  renameSync(join(dir, 'weight.new'), p);
  t.match(await next(reports, 3), { value: -3 });
  unlinkSync(p);
  t.match(await next(reports, 4), { up: false, value: null, code: 'VIGIL_ECHECK_FILE', error: /ENOENT/ });
  writeFileSync(p, '0');
  t.match(await next(reports, 5), { up: true, value: 0 });
  // Nothing changes: nothing is read or reported.
  await new Promise((r) => setTimeout(r, 300));
  t.equal(reports.length, 5, 'no report without a change');
});

t.test('a file in a directory made later', async (t) => {
  const sub = join(dir, 'later');
  const p = join(sub, 'w');
  const reports: CheckReport[] = [];
  const w = new FileWatch(spec(p), (r) => reports.push(r));
  t.teardown(() => w.stop());
  w.start();
  t.match(await next(reports, 1), { up: false, value: null });
  (await import('node:fs')).mkdirSync(sub);
  writeFileSync(p, '4');
  t.match(await next(reports, 2), { up: true, value: 4 });
});

t.test('what the value does to a priority: keepalived\'s track_file', async (t) => {
  t.strictSame(trackEffect(-10, true, 0), { weight: 0, failing: false }, '0 x weight: nothing');
  t.strictSame(trackEffect(-10, true, 3), { weight: -30, failing: true }, 'value x weight added');
  t.strictSame(trackEffect(2, true, 5), { weight: 10, failing: true }, 'positive');
  t.strictSame(trackEffect(1, true, -254), { weight: 0, failing: true }, 'under -253: FAULT');
  t.strictSame(trackEffect(0, true, 1), { weight: 0, failing: true }, 'weight 0: non-zero is FAULT');
  t.strictSame(trackEffect(0, true, 0), { weight: 0, failing: false }, 'weight 0: zero is OK');
  t.strictSame(trackEffect(-10, false, null), { weight: 0, failing: true }, 'unreadable: FAULT');
  t.strictSame(trackEffect(-10, false, undefined), { weight: -10, failing: true }, 'other checks: the weight while failing');
});
