// Availability maths: A = MTTF / (MTTF + MTTR); nines = -log10(1 - A).
// Periods follow the usual "nines" tables: a year of 365.25 days, a month of a twelfth of it.
export const SECONDS_PER_YEAR: f64 = 365.25 * 86400.0;
export const SECONDS_PER_MONTH: f64 = SECONDS_PER_YEAR / 12.0;
export const SECONDS_PER_WEEK: f64 = 7.0 * 86400.0;

export function availability(mttf: f64, mttr: f64): f64 {
  if (!(mttf >= 0.0) || !(mttr >= 0.0)) return NaN;
  const total = mttf + mttr;
  if (total == 0.0) return NaN;
  return mttf / total;
}

export function ninesOf(a: f64): f64 {
  if (!(a >= 0.0 && a <= 1.0)) return NaN;
  if (a == 1.0) return Infinity;
  return -Math.log10(1.0 - a);
}

export function availabilityOfNines(n: f64): f64 {
  if (!(n >= 0.0)) return NaN;
  return 1.0 - Math.pow(10.0, -n);
}

export function downtimeAllowed(a: f64, periodSeconds: f64): f64 {
  if (!(a >= 0.0 && a <= 1.0)) return NaN;
  return (1.0 - a) * periodSeconds;
}
