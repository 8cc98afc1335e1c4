import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.js';
import type { MeterReading, VehicleReading } from './reading.js';

/**
 * Both statements insert a whole batch through `unnest` arrays (a fixed handful of bind
 * parameters for any batch size), skip readings already stored (first write wins), move
 * the live row forward only when the new reading is newer, and return the positions of
 * the readings that were not inserted. The caller owns the transaction.
 *
 * The input must hold each (device, ts) at most once: the ingest queue deduplicates it.
 */
type SkippedRow = { position: number };

export async function insertMeterReadings(trx: Transaction<Database>, readings: MeterReading[]): Promise<number[]> {
  if (readings.length === 0) return [];
  const result = await sql<SkippedRow>`
    WITH input AS (
      SELECT * FROM unnest(
        ${readings.map((r) => r.meterId)}::text[],
        ${readings.map((r) => r.timestamp.toISOString())}::timestamptz[],
        ${readings.map((r) => r.kwhConsumedAc)}::float8[],
        ${readings.map((r) => r.voltage)}::float8[]
      ) WITH ORDINALITY AS t (meter_id, ts, kwh_consumed_ac, voltage, position)
    ), inserted AS (
      INSERT INTO meter_telemetry_history (meter_id, ts, kwh_consumed_ac, voltage)
      SELECT meter_id, ts, kwh_consumed_ac, voltage FROM input
      ON CONFLICT DO NOTHING
      RETURNING meter_id, ts, kwh_consumed_ac, voltage, received_at
    ), newest AS (
      SELECT DISTINCT ON (meter_id) * FROM inserted ORDER BY meter_id, ts DESC
    ), live AS (
      INSERT INTO meter_live AS l (meter_id, ts, kwh_consumed_ac, voltage, received_at)
      SELECT meter_id, ts, kwh_consumed_ac, voltage, received_at FROM newest
      ON CONFLICT (meter_id) DO UPDATE
        SET ts = excluded.ts, kwh_consumed_ac = excluded.kwh_consumed_ac,
            voltage = excluded.voltage, received_at = excluded.received_at
        WHERE l.ts < excluded.ts
    )
    SELECT (input.position - 1)::int AS position
    FROM input LEFT JOIN inserted USING (meter_id, ts)
    WHERE inserted.meter_id IS NULL`.execute(trx);
  return result.rows.map((row) => row.position);
}

export async function insertVehicleReadings(
  trx: Transaction<Database>,
  readings: VehicleReading[],
): Promise<number[]> {
  if (readings.length === 0) return [];
  const result = await sql<SkippedRow>`
    WITH input AS (
      SELECT * FROM unnest(
        ${readings.map((r) => r.vehicleId)}::text[],
        ${readings.map((r) => r.timestamp.toISOString())}::timestamptz[],
        ${readings.map((r) => r.soc)}::float8[],
        ${readings.map((r) => r.kwhDeliveredDc)}::float8[],
        ${readings.map((r) => r.batteryTemp)}::float8[]
      ) WITH ORDINALITY AS t (vehicle_id, ts, soc, kwh_delivered_dc, battery_temp, position)
    ), inserted AS (
      INSERT INTO vehicle_telemetry_history (vehicle_id, ts, soc, kwh_delivered_dc, battery_temp)
      SELECT vehicle_id, ts, soc, kwh_delivered_dc, battery_temp FROM input
      ON CONFLICT DO NOTHING
      RETURNING vehicle_id, ts, soc, kwh_delivered_dc, battery_temp, received_at
    ), newest AS (
      SELECT DISTINCT ON (vehicle_id) * FROM inserted ORDER BY vehicle_id, ts DESC
    ), live AS (
      INSERT INTO vehicle_live AS l (vehicle_id, ts, soc, kwh_delivered_dc, battery_temp, received_at)
      SELECT vehicle_id, ts, soc, kwh_delivered_dc, battery_temp, received_at FROM newest
      ON CONFLICT (vehicle_id) DO UPDATE
        SET ts = excluded.ts, soc = excluded.soc, kwh_delivered_dc = excluded.kwh_delivered_dc,
            battery_temp = excluded.battery_temp, received_at = excluded.received_at
        WHERE l.ts < excluded.ts
    )
    SELECT (input.position - 1)::int AS position
    FROM input LEFT JOIN inserted USING (vehicle_id, ts)
    WHERE inserted.vehicle_id IS NULL`.execute(trx);
  return result.rows.map((row) => row.position);
}
