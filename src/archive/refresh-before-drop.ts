import type { Db } from '../db/database.js';
import {
  aggregateCoverageProblems,
  aggregatesOver,
  refreshAggregate,
} from '../timescaledb/timescaledb-catalog.repository.js';

/**
 * Extra passes over the chunk's range when one refresh left the aggregates not covering it.
 * Why: on TimescaleDB 2.28.3 (PostgreSQL 15.18) a refresh of the 15-minute aggregates over a day
 * sometimes leaves a stale invalidation overlapping its first bucket (one logged by the drop of
 * the day before, up to this day's 00:00 inclusive, when the log already held other entries for
 * the day): the buckets are right, but the drop rightly refuses a range with an invalidation in
 * it, and the chunk failed every run. A second identical refresh clears it (reproduced in plain
 * SQL). The range is never widened: a refresh into an already dropped day would empty it.
 */
const EXTRA_PASSES = 2;

/**
 * Brings every aggregate over `hypertable` up to date with its rows in [from, to), refreshing
 * again while the coverage check still finds a problem (at most EXTRA_PASSES more times). What
 * is left is for the drop's own check, under its lock, to refuse.
 */
export async function refreshBeforeDrop(db: Db, hypertable: string, from: Date, to: Date): Promise<void> {
  const views = await aggregatesOver(db, hypertable);
  for (let pass = 0; pass <= EXTRA_PASSES; pass += 1) {
    if (pass > 0 && (await aggregateCoverageProblems(db, hypertable, from, to)).length === 0) return;
    for (const view of views) await refreshAggregate(db, view, from, to);
  }
}
