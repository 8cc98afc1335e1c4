import { AGGREGATE_LEVELS, BUCKET_MS, type AggregateLevel } from '../aggregates/aggregate-levels.js';
import type { Interval } from '../time.js';

/** Where a segment's figures come from: a continuous aggregate level or the raw history. */
export type SegmentSource = AggregateLevel | 'raw';

export interface Segment {
  source: SegmentSource;
  from: Date;
  to: Date;
}

/**
 * Splits a half-open window [from, to) for exact aggregation with the least reading: whole
 * hours from the hourly aggregate, whole quarter hours from the quarter-hour one, and the
 * rest from the raw history. An aggregate bucket is used only inside that level's usable
 * spans (`usable`, see aggregate-freshness.ts): everywhere else, including above the
 * watermark where a real-time aggregate would group the raw rows by device and bucket first
 * (reading them directly is 2-4 x faster), the rows are read raw. Segments are disjoint,
 * ascending, never empty, and cover the window exactly. `coarsest: 'quarter'` skips the
 * hourly level (for 15-minute series).
 */
export function planSegments(
  window: Interval,
  usable: Partial<Record<AggregateLevel, readonly Interval[]>>,
  coarsest: AggregateLevel = 'hourly',
): Segment[] {
  const levels = AGGREGATE_LEVELS.slice(AGGREGATE_LEVELS.indexOf(coarsest));
  const segments: Segment[] = [];
  const push = (source: SegmentSource, from: number, to: number) =>
    segments.push({ source, from: new Date(from), to: new Date(to) });

  const split = (from: number, to: number, depth: number): void => {
    if (from >= to) return;
    const level = levels[depth];
    if (!level) {
      push('raw', from, to);
      return;
    }
    const bucket = BUCKET_MS[level];
    let cursor = from;
    for (const span of usable[level] ?? []) {
      const first = Math.ceil(Math.max(cursor, span.from) / bucket) * bucket;
      const last = Math.floor(Math.min(to, span.to) / bucket) * bucket;
      if (first >= last) continue;
      split(cursor, first, depth + 1);
      push(level, first, last);
      cursor = last;
    }
    split(cursor, to, depth + 1);
  };
  split(window.from, window.to, 0);
  return segments;
}
