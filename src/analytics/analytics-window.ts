export const HOUR_MS = 3_600_000;
export const QUARTER_HOUR_MS = 900_000;

export interface TimeRange {
  from: Date;
  to: Date;
}

/** Where a segment's figures come from: a continuous aggregate or the raw history. */
export type SegmentSource = 'hourly' | 'quarter' | 'raw';

export interface Segment extends TimeRange {
  source: SegmentSource;
}

const GRANULES: readonly { source: SegmentSource; ms: number }[] = [
  { source: 'hourly', ms: HOUR_MS },
  { source: 'quarter', ms: QUARTER_HOUR_MS },
];

/**
 * How far each level of aggregates is materialized (epoch ms; a lower value than the truth
 * is always safe: it only moves rows from an aggregate to the raw history).
 */
export type MaterializedUntil = Partial<Record<'hourly' | 'quarter', number>>;

/**
 * Splits a half-open window [from, to) for exact aggregation with the least reading: the
 * whole hours come from the hourly aggregates, the whole quarter hours left at either edge
 * from the quarter-hour aggregates, and only the minutes left over from the raw history.
 * Aggregates are used only below their watermark (`materializedUntil`): above it a real-
 * time aggregate would group the raw rows by device and bucket first, and reading them
 * directly is about twice as fast. Segments are disjoint, cover the window exactly and are
 * never empty. `coarsest: 'quarter'` skips the hourly level (for 15-minute series).
 */
export function planWindow(
  from: Date,
  to: Date,
  coarsest: 'hourly' | 'quarter' = 'hourly',
  materializedUntil: MaterializedUntil = {},
): Segment[] {
  const levels = GRANULES.slice(GRANULES.findIndex((g) => g.source === coarsest));
  const segments: Segment[] = [];
  const split = (fromMs: number, toMs: number, level: number): void => {
    if (fromMs >= toMs) return;
    const granule = levels[level];
    if (!granule) {
      segments.push({ source: 'raw', from: new Date(fromMs), to: new Date(toMs) });
      return;
    }
    const limit = materializedUntil[granule.source as 'hourly' | 'quarter'] ?? Infinity;
    const first = Math.ceil(fromMs / granule.ms) * granule.ms;
    const last = Math.floor(Math.min(toMs, limit) / granule.ms) * granule.ms;
    if (first >= last) {
      split(fromMs, toMs, level + 1);
      return;
    }
    split(fromMs, first, level + 1);
    segments.push({ source: granule.source, from: new Date(first), to: new Date(last) });
    split(last, toMs, level + 1);
  };
  split(from.getTime(), to.getTime(), 0);
  return segments;
}
