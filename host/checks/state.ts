// A check's rise/fall state machine: pure, no clock, no I/O (test/checks/state.test.ts).
//
// keepalived's behaviour for track_script and for checkers in alpha mode: a check starts DOWN
// and needs `rise` consecutive successes to go UP; an UP check needs `fall` consecutive
// failures to go DOWN. A success resets the failure run and a failure the success run, so
// "exactly fall failures in a row" flips it, never fall failures spread over successes.
// So a tracked check counts as failing from the start: a weight-0 check keeps its instance in
// FAULT (no VIP) until the backend has answered `rise` times.
//
// `settled` is set the first time the state is decided: by a transition, or by `fall`
// failures in a row from the start (a check that never came up). A new checker process
// (restarted by the supervisor) reports a check only once it is settled, so the engine keeps
// the last known state meanwhile instead of falling back to DOWN for `rise` rounds.
export interface CheckState {
  up: boolean;
  okRun: number;        // consecutive successes
  failRun: number;      // consecutive failures
  transitions: number;
  settled: boolean;
}

export function initialState(): CheckState {
  return { up: false, okRun: 0, failRun: 0, transitions: 0, settled: false };
}

// One round's result. Returns 'up' / 'down' when this round flipped the state, 'settled' when
// it decided the state of a check that had never been decided, else null.
export function step(s: CheckState, ok: boolean, rise: number, fall: number): 'up' | 'down' | 'settled' | null {
  if (ok) {
    s.okRun++;
    s.failRun = 0;
    if (!s.up && s.okRun >= rise) {
      s.up = true; s.transitions++; s.settled = true;
      return 'up';
    }
  } else {
    s.failRun++;
    s.okRun = 0;
    if (s.up && s.failRun >= fall) {
      s.up = false; s.transitions++;
      return 'down';
    }
    if (!s.settled && s.failRun >= fall) { s.settled = true; return 'settled'; }
  }
  return null;
}
