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

/** The watermark of every continuous aggregate, in one statement (see getWatermarkMs). */
export async function getAllWatermarksMs(db: Db): Promise<Map<string, number>> {
  const result = await sql<{ view: string; watermark_us: number }>`
    SELECT ca.user_view_name AS view, _timescaledb_functions.cagg_watermark(ca.mat_hypertable_id) AS watermark_us
    FROM _timescaledb_catalog.continuous_agg ca
    WHERE ca.user_view_schema = current_schema()`.execute(db);
  return new Map(result.rows.map((row) => [row.view, row.watermark_us < -1e17 ? -Infinity : Math.floor(row.watermark_us / 1000)]));
}
