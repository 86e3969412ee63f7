// What the checker reports about a policy (in each of its checks' reports, host/checks/
// protocol.ts), shown by the engine's /status and /metrics. Types only: the engine imports
// this file and must reach nothing of the policy runtime (test/checks/isolation.test.ts).
export interface PolicyStats {
  sha256: string | null;
  loadedAt: string | null;
  loads: number;              // successful loads, the first included
  refused: number;            // loads refused (the old policy kept running)
  lastRefusal: string | null;
  lastSwapMs: number | null;  // file change seen -> new policy answering, for the last swap
  evaluations: number;
  kills: Record<string, number>;   // by reason: cpu, memory, trap, crash
  workerStarts: number;
}

export interface PolicyReport extends PolicyStats { name: string; file: string }
