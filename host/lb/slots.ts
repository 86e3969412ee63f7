// A counting scheduler's new slot table laid over the one applied, so a change touches as few
// slot-map elements as it can: every slot whose server keeps its share stays where it is, and
// only the slots a server gains or loses (plus those past a shrunk table's end) are written.
// One weight changed by one unit is one element and the modulus; a server down is its slots
// refilled. The ideal table's order decides who fills a hole, so shares stay interleaved; a
// restart lays the ideal table down afresh.
export function alignSlots(prev: readonly string[], ideal: readonly string[]): string[] {
  const want = new Map<string, number>();
  for (const id of ideal) want.set(id, (want.get(id) ?? 0) + 1);
  const have = new Map<string, number>();
  const out: (string | null)[] = new Array(ideal.length).fill(null);
  const at = new Map<string, number[]>();
  for (let k = 0; k < Math.min(prev.length, ideal.length); k++) {
    const ps = at.get(prev[k]);
    if (ps) ps.push(k); else at.set(prev[k], [k]);
  }
  // A server that keeps only some of its slots keeps ones spread over the table, not the first
  // ones: its share stays interleaved with the others'.
  for (const [id, ps] of at) {
    const keep = Math.min(ps.length, want.get(id) ?? 0);
    for (let j = 0; j < keep; j++) out[ps[Math.floor((j * ps.length) / keep)]] = id;
    have.set(id, keep);
  }
  const fill: string[] = [];
  for (const id of ideal) {
    const n = have.get(id) ?? 0;
    if (n < want.get(id)!) { fill.push(id); have.set(id, n + 1); }
  }
  let f = 0;
  for (let k = 0; k < out.length; k++) if (out[k] === null) out[k] = fill[f++];
  return out as string[];
}
