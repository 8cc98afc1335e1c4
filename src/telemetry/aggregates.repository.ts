import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { Stream } from './reading.js';

export const HOURLY_VIEW: Record<Stream, 'meter_telemetry_hourly' | 'vehicle_telemetry_hourly'> = {
  meter: 'meter_telemetry_hourly',
  vehicle: 'vehicle_telemetry_hourly',
};

/**
 * End of the materialized part of a continuous aggregate, in epoch milliseconds; below it
 * queries read materialized buckets, above it they aggregate raw rows. -Infinity when
 * nothing is materialized yet.
 */
export async function getWatermarkMs(db: Db, stream: Stream): Promise<number> {
  const result = await sql<{ watermark_us: number }>`
    SELECT _timescaledb_functions.cagg_watermark(ca.mat_hypertable_id) AS watermark_us
    FROM _timescaledb_catalog.continuous_agg ca
    WHERE ca.user_view_schema = current_schema() AND ca.user_view_name = ${HOURLY_VIEW[stream]}`.execute(db);
  const micros = result.rows[0]?.watermark_us;
  // The "no data" watermark is the minimum int8: far below any real timestamp.
  if (micros === undefined || micros < -1e17) return -Infinity;
  return Math.floor(micros / 1000);
}

/** Re-materializes the buckets in [from, to). Must run outside a transaction. */
export async function refreshAggregate(db: Db, stream: Stream, from: Date, to: Date): Promise<void> {
  await sql`CALL refresh_continuous_aggregate(${HOURLY_VIEW[stream]}::regclass, ${from.toISOString()}::timestamptz, ${to.toISOString()}::timestamptz)`.execute(
    db,
  );
}
