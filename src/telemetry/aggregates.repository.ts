import { sql } from 'kysely';

import type { Database, Db } from '../db/database.js';
import type { Stream } from './reading.js';

export type AggregateView = Extract<keyof Database, `${string}_hourly` | `${string}_15m`>;

/** Every continuous aggregate over each stream's history, finest first. */
export const AGGREGATE_VIEWS: Record<Stream, readonly AggregateView[]> = {
  meter: ['meter_telemetry_15m', 'meter_telemetry_hourly'],
  vehicle: ['vehicle_telemetry_15m', 'vehicle_telemetry_hourly'],
};

/**
 * End of the materialized part of a continuous aggregate, in epoch milliseconds; below it
 * queries read materialized buckets, above it they aggregate raw rows. -Infinity when
 * nothing is materialized yet.
 */
export async function getWatermarkMs(db: Db, view: AggregateView): Promise<number> {
  const result = await sql<{ watermark_us: number }>`
    SELECT _timescaledb_functions.cagg_watermark(ca.mat_hypertable_id) AS watermark_us
    FROM _timescaledb_catalog.continuous_agg ca
    WHERE ca.user_view_schema = current_schema() AND ca.user_view_name = ${view}`.execute(db);
  const micros = result.rows[0]?.watermark_us;
  // The "no data" watermark is the minimum int8: far below any real timestamp.
  if (micros === undefined || micros < -1e17) return -Infinity;
  return Math.floor(micros / 1000);
}

/** Re-materializes the buckets in [from, to). Must run outside a transaction. */
export async function refreshAggregate(db: Db, view: AggregateView, from: Date, to: Date): Promise<void> {
  await sql`CALL refresh_continuous_aggregate(${view}::regclass, ${from.toISOString()}::timestamptz, ${to.toISOString()}::timestamptz)`.execute(
    db,
  );
}

/**
 * Where each continuous aggregate is materialized: from its oldest materialized bucket to
 * its watermark, in epoch ms (an empty span when nothing is materialized).
 */
export async function getMaterializedSpans(db: Db): Promise<Map<string, { from: number; until: number }>> {
  const views = await sql<{ view: string; watermark_us: number; schema: string; table: string }>`
    SELECT ca.user_view_name AS view, _timescaledb_functions.cagg_watermark(ca.mat_hypertable_id) AS watermark_us,
           h.schema_name AS schema, h.table_name AS table
    FROM _timescaledb_catalog.continuous_agg ca
    JOIN _timescaledb_catalog.hypertable h ON h.id = ca.mat_hypertable_id
    WHERE ca.user_view_schema = current_schema()`.execute(db);
  const spans = new Map<string, { from: number; until: number }>();
  for (const view of views.rows) {
    // The materialization hypertable keeps the view's column names; its bucket index makes this cheap.
    const oldest = await sql<{ first: Date | null }>`
      SELECT min(bucket) AS first FROM ${sql.table(`${view.schema}.${view.table}`)}`.execute(db);
    const first = oldest.rows[0]?.first;
    const until = view.watermark_us < -1e17 ? -Infinity : Math.floor(view.watermark_us / 1000);
    spans.set(view.view, first ? { from: first.getTime(), until } : { from: Infinity, until: -Infinity });
  }
  return spans;
}
