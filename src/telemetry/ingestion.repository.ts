import { sql } from 'kysely';

import type { Db } from '../db/database.js';
import {
  deviceIdOf,
  type MeterReading,
  type ReadingsByKind,
  type ReadingKind,
  type VehicleReading,
} from './reading.js';
import type { LinkEnergy } from './register-chain.js';

/** The energy, event and link derived for register readings, by position (register-chain.ts). */
export type DerivedEnergies = ReadingsByKind<LinkEnergy | undefined>;

type SkippedRow = { stream: ReadingKind; position: number };

/**
 * Writes a whole batch of both streams in ONE statement, which PostgreSQL runs atomically:
 * one round trip per batch, so ingest holds the (single, when embedded) connection as
 * briefly as possible. For each stream it
 * - inserts the history through `unnest` arrays (a fixed handful of bind parameters for any
 *   batch size) and skips readings already stored (first write wins),
 * - moves each device's live row forward only when the new reading is newer (the newest
 *   reading per device is picked here, not in SQL; if it turns out to be a stored
 *   duplicate, the live row already holds that timestamp or a newer one, and the
 *   `l.ts < excluded.ts` guard leaves it alone),
 * - returns the positions of the readings it did not insert; the anti-join that finds
 *   them is skipped outright (a one-time filter) when every reading was inserted.
 *
 * A register reading is stored with the energy and link derived for it (`derived`, by
 * position; batch-writer.ts derives them in the same transaction).
 *
 * Every row lock is taken in one global order, device key then timestamp (the ORDER BY of each
 * insert, in "C" collation): instances writing overlapping batches of the same devices in any
 * order wait for each other, never deadlock. (A register run takes its advisory locks, in key
 * order, before any row lock: register-chain.repository.ts.)
 *
 * The input must hold each (device, ts) at most once: the ingest queue deduplicates it.
 */
export async function insertReadings(
  db: Db,
  batch: ReadingsByKind,
  derived: DerivedEnergies = { meter: [], vehicle: [] },
): Promise<ReadingsByKind<number>> {
  const { meter, vehicle } = batch;
  const meterKwh = meter.map((r, i) => derived.meter[i]?.kwh ?? r.kwhConsumedAc ?? 0);
  const vehicleKwh = vehicle.map((r, i) => derived.vehicle[i]?.kwh ?? r.kwhDeliveredDc ?? 0);
  const meterLive = newestPerDevice(meter);
  const vehicleLive = newestPerDevice(vehicle);
  const result = await sql<SkippedRow>`
    WITH meter_input AS (
      SELECT * FROM unnest(
        ${meter.map((r) => r.meterId)}::text[],
        ${meter.map((r) => r.timestamp.toISOString())}::timestamptz[],
        ${meterKwh}::float8[],
        ${meter.map((r) => r.kwhConsumedAcTotal)}::numeric[],
        ${meter.map((_, i) => derived.meter[i]?.event ?? null)}::text[],
        ${previousTs(derived.meter)}::timestamptz[],
        ${previousRegister(derived.meter)}::numeric[],
        ${meter.map((r) => r.voltage)}::float8[]
      ) WITH ORDINALITY AS t (meter_id, ts, kwh_consumed_ac, kwh_register, register_event, previous_ts, previous_register,
                              voltage, position)
    ), meter_inserted AS (
      INSERT INTO meter_telemetry_history
        (meter_id, ts, kwh_consumed_ac, kwh_register, register_event, previous_ts, previous_register, voltage)
      SELECT meter_id, ts, kwh_consumed_ac, kwh_register, register_event, previous_ts, previous_register, voltage
      FROM meter_input
      ORDER BY meter_id COLLATE "C", ts
      ON CONFLICT DO NOTHING
      RETURNING meter_id, ts
    ), meter_live_upsert AS (
      INSERT INTO meter_live AS l (meter_id, ts, kwh_consumed_ac, kwh_register, voltage, received_at)
      SELECT *, now() FROM unnest(
        ${meterLive.map((i) => meter[i]!.meterId)}::text[],
        ${meterLive.map((i) => meter[i]!.timestamp.toISOString())}::timestamptz[],
        ${meterLive.map((i) => meterKwh[i]!)}::float8[],
        ${meterLive.map((i) => meter[i]!.kwhConsumedAcTotal)}::numeric[],
        ${meterLive.map((i) => meter[i]!.voltage)}::float8[]
      ) AS u (meter_id, ts, kwh_consumed_ac, kwh_register, voltage)
      ORDER BY meter_id COLLATE "C"
      ON CONFLICT (meter_id) DO UPDATE
        SET ts = excluded.ts, kwh_consumed_ac = excluded.kwh_consumed_ac, kwh_register = excluded.kwh_register,
            voltage = excluded.voltage, received_at = excluded.received_at
        WHERE l.ts < excluded.ts
    ), vehicle_input AS (
      SELECT * FROM unnest(
        ${vehicle.map((r) => r.vehicleId)}::text[],
        ${vehicle.map((r) => r.timestamp.toISOString())}::timestamptz[],
        ${vehicle.map((r) => r.soc)}::float8[],
        ${vehicleKwh}::float8[],
        ${vehicle.map((r) => r.kwhDeliveredDcTotal)}::numeric[],
        ${vehicle.map((_, i) => derived.vehicle[i]?.event ?? null)}::text[],
        ${previousTs(derived.vehicle)}::timestamptz[],
        ${previousRegister(derived.vehicle)}::numeric[],
        ${vehicle.map((r) => r.batteryTemp)}::float8[]
      ) WITH ORDINALITY AS t (vehicle_id, ts, soc, kwh_delivered_dc, kwh_register, register_event, previous_ts,
                              previous_register, battery_temp, position)
    ), vehicle_inserted AS (
      INSERT INTO vehicle_telemetry_history
        (vehicle_id, ts, soc, kwh_delivered_dc, kwh_register, register_event, previous_ts, previous_register, battery_temp)
      SELECT vehicle_id, ts, soc, kwh_delivered_dc, kwh_register, register_event, previous_ts, previous_register,
             battery_temp
      FROM vehicle_input
      ORDER BY vehicle_id COLLATE "C", ts
      ON CONFLICT DO NOTHING
      RETURNING vehicle_id, ts
    ), vehicle_live_upsert AS (
      INSERT INTO vehicle_live AS l (vehicle_id, ts, soc, kwh_delivered_dc, kwh_register, battery_temp, received_at)
      SELECT *, now() FROM unnest(
        ${vehicleLive.map((i) => vehicle[i]!.vehicleId)}::text[],
        ${vehicleLive.map((i) => vehicle[i]!.timestamp.toISOString())}::timestamptz[],
        ${vehicleLive.map((i) => vehicle[i]!.soc)}::float8[],
        ${vehicleLive.map((i) => vehicleKwh[i]!)}::float8[],
        ${vehicleLive.map((i) => vehicle[i]!.kwhDeliveredDcTotal)}::numeric[],
        ${vehicleLive.map((i) => vehicle[i]!.batteryTemp)}::float8[]
      ) AS u (vehicle_id, ts, soc, kwh_delivered_dc, kwh_register, battery_temp)
      ORDER BY vehicle_id COLLATE "C"
      ON CONFLICT (vehicle_id) DO UPDATE
        SET ts = excluded.ts, soc = excluded.soc, kwh_delivered_dc = excluded.kwh_delivered_dc,
            kwh_register = excluded.kwh_register,
            battery_temp = excluded.battery_temp, received_at = excluded.received_at
        WHERE l.ts < excluded.ts
    )
    SELECT 'meter' AS stream, (i.position - 1)::int AS position
    FROM meter_input i
    WHERE (SELECT count(*) FROM meter_inserted) < ${meter.length}
      AND NOT EXISTS (SELECT 1 FROM meter_inserted x WHERE x.meter_id = i.meter_id AND x.ts = i.ts)
    UNION ALL
    SELECT 'vehicle', (i.position - 1)::int
    FROM vehicle_input i
    WHERE (SELECT count(*) FROM vehicle_inserted) < ${vehicle.length}
      AND NOT EXISTS (SELECT 1 FROM vehicle_inserted x WHERE x.vehicle_id = i.vehicle_id AND x.ts = i.ts)`.execute(db);

  const skipped: ReadingsByKind<number> = { meter: [], vehicle: [] };
  for (const row of result.rows) skipped[row.stream].push(row.position);
  return skipped;
}

/**
 * The derived links' timestamps and registers by position (null: none, or not a register
 * reading). Only as long as `derived`: a multi-argument `unnest` pads the shorter arrays
 * with NULLs, so a batch without register readings sends no array of nulls.
 */
function previousTs(derived: readonly (LinkEnergy | undefined)[]): (string | null)[] {
  return Array.from({ length: derived.length }, (_, i) => {
    const previous = derived[i]?.previous;
    return previous ? new Date(previous.ts).toISOString() : null;
  });
}

function previousRegister(derived: readonly (LinkEnergy | undefined)[]): (number | null)[] {
  return Array.from({ length: derived.length }, (_, i) => derived[i]?.previous?.register ?? null);
}

/** The position of the reading with the newest timestamp of each device (the first one on a tie). */
function newestPerDevice(readings: (MeterReading | VehicleReading)[]): number[] {
  const newest = new Map<string, number>();
  readings.forEach((reading, position) => {
    const id = deviceIdOf(reading);
    const current = newest.get(id);
    if (current === undefined || readings[current]!.timestamp.getTime() < reading.timestamp.getTime()) {
      newest.set(id, position);
    }
  });
  return [...newest.values()];
}
