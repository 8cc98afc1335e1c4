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
 * The span [from, until) in epoch ms where each level of aggregates is known to be
 * materialized: from its oldest materialized bucket to its watermark. A narrower span than
 * the truth is always safe: it only moves rows from an aggregate to the raw history.
 */
export type Materialized = Partial<Record<'hourly' | 'quarter', { from: number; until: number }>>;

/**
 * Splits a half-open window [from, to) for exact aggregation with the least reading: the
 * whole hours come from the hourly aggregates, the whole quarter hours left at either edge
 * from the quarter-hour aggregates, and only the minutes left over from the raw history.
 * Aggregates are used only inside their materialized span (`materialized`): above the
 * watermark a real-time aggregate would group the raw rows by device and bucket first
 * (reading them directly is 2-4 x faster), and below the oldest materialized bucket an
 * aggregate created after the data (the quarter-hour ones on an upgraded database) has
 * nothing. Segments are disjoint, cover the window exactly and are never empty.
 * `coarsest: 'quarter'` skips the hourly level (for 15-minute series).
 */
export function planWindow(
  from: Date,
  to: Date,
  coarsest: 'hourly' | 'quarter' = 'hourly',
  materialized: Materialized = {},
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
    const span = materialized[granule.source as 'hourly' | 'quarter'] ?? { from: -Infinity, until: Infinity };
    const first = Math.ceil(Math.max(fromMs, span.from) / granule.ms) * granule.ms;
    const last = Math.floor(Math.min(toMs, span.until) / granule.ms) * granule.ms;
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
