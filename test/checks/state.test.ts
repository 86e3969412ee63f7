// The rise/fall state machine, round by round (a virtual clock: one step is one round), and
// the runner with injected probes.
import t from 'tap';
import { initialState, step } from '../../host/checks/state.ts';
import { Runner } from '../../host/checks/runner.ts';
import type { CheckReport } from '../../host/checks/protocol.ts';
import { parseConfig } from '../../host/config/load.ts';

const run = (rounds: string, rise: number, fall: number) => {
  const s = initialState();
  const out: string[] = [];
  for (const r of rounds) out.push(step(s, r === '+', rise, fall) ?? '.');
  return { s, out: out.join(' ') };
};

t.test('starts down; exactly `rise` successes in a row bring it up', async (t) => {
  t.strictSame(initialState(), { up: false, okRun: 0, failRun: 0, transitions: 0, settled: false });
  t.equal(run('+', 2, 3).out, '.');
  t.equal(run('++', 2, 3).out, '. up');
  t.equal(run('+-+-++', 2, 3).out, '. . . . . up', 'a failure resets the success run');
  t.equal(run('+', 1, 3).out, 'up');
  t.equal(run('+++++', 5, 1).out, '. . . . up');
});

t.test('up; exactly `fall` failures in a row bring it down', async (t) => {
  t.equal(run('++---', 2, 3).out, '. up . . down');
  t.equal(run('++--+--+---', 2, 3).out, '. up . . . . . . . . down', 'a success resets the failure run');
  t.equal(run('++-', 2, 1).out, '. up down');
  const { s } = run('++---++', 2, 3);
  t.equal(s.transitions, 3);
  t.equal(s.up, true);
});

t.test('a check that never comes up settles down after `fall` failures, once', async (t) => {
  t.equal(run('-----', 2, 3).out, '. . settled . .');
  const { s } = run('---', 2, 3);
  t.equal(s.settled, true);
  t.equal(s.up, false);
  t.equal(s.transitions, 0);
  t.equal(run('--++---', 2, 3).out, '. . . up . . down', 'an up before settling settles it');
});

t.test('the runner: rounds at the interval, reports at a flip, failures with their reason', async (t) => {
  const c = parseConfig([
    'checks:',
    '  - { name: a, type: tcp, target: "198.51.100.1:80", interval: 20ms, timeout: 10ms, rise: 2, fall: 3 }',
    '  - { name: slow, type: dns, target: 198.51.100.1, query: a.example, interval: 20ms, timeout: 5ms, rise: 1, fall: 1 }',
    'instances: [{ name: VI_1, interface: e0, vrid: 1, virtualAddresses: [192.0.2.1] }]',
  ].join('\n'), 'x.yaml');
  // a: up for 4 rounds, then down for 4, then up.
  let n = 0;
  const plan = '++++----++++++';
  const reports: CheckReport[] = [];
  const rounds: string[] = [];
  const runner = new Runner(c.checks, {
    flushMs: 1000,
    report: (r) => reports.push(r),
    onRound: (name, ok) => { if (name === 'a') rounds.push(ok ? '+' : '-'); },
    probes: {
      tcp: async () => { if (plan[n++] !== '+') throw new Error('refused'); },
      dns: (_c, signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('')))),
    },
  });
  const t0 = performance.now();
  await runner.start();
  await new Promise((r) => setTimeout(r, 20 * 12 + 10));
  runner.stop();
  const elapsed = performance.now() - t0;
  const a = reports.filter((r) => r.check === 'a').map((r) => `${r.up ? 'up' : 'down'}@${r.rounds}`);
  t.strictSame(a.slice(0, 2), ['up@2', 'down@7'], 'up after 2 successes, down after exactly 3 failures (rounds 5, 6, 7)');
  t.ok(rounds.length >= 10 && rounds.length <= 14, `${rounds.length} rounds in ${elapsed.toFixed(0)} ms at 20 ms`);
  const snap = runner.snapshot();
  t.match(snap.find((r) => r.check === 'slow'), { up: false, settled: true, error: 'timed out', code: 'VIGIL_ECHECK_TIMEOUT', transitions: 0 });
  t.ok(snap.find((r) => r.check === 'slow')!.latencyMs! >= 4, 'latency includes the timeout');
});
