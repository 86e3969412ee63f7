// What a tracked check does to an instance's priority: the (weight, failing) pair the core's
// track() takes. Every check but file: its weight while it fails (0: FAULT). A file check
// (keepalived's track_file) carries the integer its file holds: value x weight is added to the
// priority; with weight 0 a non-zero value is FAULT; a result under -253, or a file that cannot
// be read, is FAULT too.
export function trackEffect(weight: number, up: boolean, value: number | null | undefined): { weight: number; failing: boolean } {
  if (value === undefined) return { weight, failing: !up };
  if (value === null) return { weight: 0, failing: true };
  if (weight === 0) return { weight: 0, failing: value !== 0 };
  const v = value * weight;
  if (v < -253) return { weight: 0, failing: true };
  return { weight: Math.max(-254, Math.min(254, v)), failing: v !== 0 };
}
