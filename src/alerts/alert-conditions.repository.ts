import { sql } from 'kysely';

import type { Db } from '../db/database.js';

/** Only these devices (a rule's list), or every device when null. */
const inScope = (column: string, devices: readonly string[] | null) =>
  devices === null ? sql`TRUE` : sql`${sql.ref(column)} = ANY(${devices}::text[])`;

export interface PeakTemperatureRow {
  vehicle_id: string;
  max_battery_temp: number;
  readings: number;
}

/**
 * Each vehicle's peak battery temperature in [from, to), from its raw readings (the analytics
 * show no peak; the raw readings are kept far longer than an alert window).
 */
export async function findPeakTemperatures(
  db: Db,
  window: { from: Date; to: Date },
  devices: readonly string[] | null,
): Promise<PeakTemperatureRow[]> {
  const result = await sql<PeakTemperatureRow>`
    SELECT vehicle_id, max(battery_temp) AS max_battery_temp, count(*)::int AS readings
    FROM vehicle_telemetry_history
    WHERE ts >= ${window.from} AND ts < ${window.to} AND ${inScope('vehicle_id', devices)}
    GROUP BY vehicle_id`.execute(db);
  return result.rows;
}

export interface LastReceivedRow {
  kind: 'meter' | 'vehicle';
  device_id: string;
  ts: Date;
  received_at: Date;
}

/** When each device's latest reading (by its timestamp) was received: the live tables. */
export async function findLastReceived(db: Db, devices: readonly string[] | null): Promise<LastReceivedRow[]> {
  const result = await sql<LastReceivedRow>`
    SELECT 'meter' AS kind, meter_id AS device_id, ts, received_at FROM meter_live WHERE ${inScope('meter_id', devices)}
    UNION ALL
    SELECT 'vehicle', vehicle_id, ts, received_at FROM vehicle_live WHERE ${inScope('vehicle_id', devices)}`.execute(
    db,
  );
  return result.rows;
}

export interface RegisterEventCountRow {
  kind: 'meter' | 'vehicle';
  device_id: string;
  events: number;
  last_ts: Date;
  last_event: 'reset' | 'jump';
}

/** The register resets and jumps (register-event.ts) of each device in [from, to), by reading time. */
export async function countRegisterEvents(
  db: Db,
  window: { from: Date; to: Date },
  devices: readonly string[] | null,
): Promise<RegisterEventCountRow[]> {
  const result = await sql<RegisterEventCountRow>`
    SELECT kind, device_id, count(*)::int AS events, max(ts) AS last_ts,
           (array_agg(register_event ORDER BY ts DESC))[1] AS last_event
    FROM (
      SELECT 'meter' AS kind, meter_id AS device_id, ts, register_event FROM meter_telemetry_history
      WHERE register_event IN ('reset', 'jump') AND ts >= ${window.from} AND ts < ${window.to}
        AND ${inScope('meter_id', devices)}
      UNION ALL
      SELECT 'vehicle', vehicle_id, ts, register_event FROM vehicle_telemetry_history
      WHERE register_event IN ('reset', 'jump') AND ts >= ${window.from} AND ts < ${window.to}
        AND ${inScope('vehicle_id', devices)}
    ) AS e
    GROUP BY kind, device_id`.execute(db);
  return result.rows;
}

export interface DeadLetterCountRow {
  stream_name: string;
  letters: number;
  last_at: Date;
  last_reason: string;
}

/** Dead letters stored in [from, to), per stream. */
export async function countDeadLetters(db: Db, window: { from: Date; to: Date }): Promise<DeadLetterCountRow[]> {
  const result = await sql<DeadLetterCountRow>`
    SELECT stream_name, count(*)::int AS letters, max(created_at) AS last_at,
           (array_agg(reason ORDER BY id DESC))[1] AS last_reason
    FROM stream_dead_letter
    WHERE created_at >= ${window.from} AND created_at < ${window.to}
    GROUP BY stream_name`.execute(db);
  return result.rows;
}
