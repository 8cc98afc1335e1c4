export const HOUR_MS = 3_600_000;

export interface TimeRange {
  from: Date;
  to: Date;
}

/**
 * A half-open window [from, to) split for exact aggregation: whole hours come from the
 * hourly continuous aggregates, the partial hours at either edge from the raw history.
 * A window without a whole hour inside is read from the raw history entirely.
 */
export interface WindowPlan {
  window: TimeRange;
  /** Whole hourly buckets: bucket >= from AND bucket < to (may be empty). */
  buckets: TimeRange;
  /** Raw ranges before and after the buckets (either may be empty). */
  head: TimeRange;
  tail: TimeRange;
}

export function planWindow(from: Date, to: Date): WindowPlan {
  const firstWholeHour = Math.ceil(from.getTime() / HOUR_MS) * HOUR_MS;
  const lastWholeHourEnd = Math.floor(to.getTime() / HOUR_MS) * HOUR_MS;
  if (firstWholeHour >= lastWholeHourEnd) {
    return { window: { from, to }, buckets: { from: to, to }, head: { from, to }, tail: { from: to, to } };
  }
  const bucketsFrom = new Date(firstWholeHour);
  const bucketsTo = new Date(lastWholeHourEnd);
  return {
    window: { from, to },
    buckets: { from: bucketsFrom, to: bucketsTo },
    head: { from, to: bucketsFrom },
    tail: { from: bucketsTo, to },
  };
}
