import { sql } from 'kysely';

import { ALL_AGGREGATE_VIEWS } from '../../src/aggregates/aggregate-levels.js';
import { createDb, type DbHandle } from '../../src/db/create-db.js';
import { migrate } from '../../src/db/migrate.js';
import { waitForDatabase } from '../../src/db/wait-for-database.js';
import { startEmbeddedDb, type EmbeddedDb } from '../../src/embedded/embedded-db.js';
import { JobScheduler } from '../../src/jobs/job-scheduler.js';
import { createLogger } from '../../src/logger.js';

const silent = createLogger('silent');

export interface DirectDb {
  handle: DbHandle;
  /** Set when the bench started an embedded database for this client (stopped by close). */
  embedded: EmbeddedDb | undefined;
  close(): Promise<void>;
}

// Bulk loads run for minutes: no statement time limit for the bench's own client.
const HOUR_MS = 3_600_000;

/** The embedded database on `dataDir`, migrated, with the bench as its only client. */
export async function openDirect(dataDir: string): Promise<DirectDb> {
  const embedded = await startEmbeddedDb({ dataDir, host: '127.0.0.1', port: 0 });
  await migrate({ databaseUrl: embedded.url });
  const direct = await connectDirect(embedded.url);
  return {
    ...direct,
    embedded,
    close: async () => {
      await direct.close();
      await embedded.stop();
    },
  };
}

/**
 * The bench's own client of an already migrated database: one connection (its measurements
 * are one statement at a time; the embedded database takes one session anyway). `prepare` as
 * the service on that database does (DATABASE_PREPARE, default on a server): the "database
 * part" of the analytics is then measured the way the service runs it.
 */
export async function connectDirect(url: string, prepare = false): Promise<DirectDb> {
  const handle = createDb({
    url,
    max: 1,
    prepare,
    logger: silent,
    statementTimeoutMs: HOUR_MS,
    lockTimeoutMs: HOUR_MS,
  });
  await waitForDatabase(handle.db, 30_000);
  return { handle, embedded: undefined, close: () => handle.close() };
}

export const benchVehicle = (i: number) => `bench-ev-${String(i).padStart(5, '0')}`;

export async function countReadings(direct: DirectDb): Promise<{ meter: number; vehicle: number }> {
  const result = await sql<{ meter: number; vehicle: number }>`
    SELECT (SELECT count(*) FROM meter_telemetry_history) AS meter,
           (SELECT count(*) FROM vehicle_telemetry_history) AS vehicle`.execute(direct.handle.db);
  return result.rows[0]!;
}

/**
 * The seed's write path: for each reading one INSERT into the history and one UPSERT of
 * the live row, each its own statement and round trip, no batching.
 */
export async function naiveIngest(direct: DirectDb, durationMs: number, devices: number, startMs: number) {
  const db = direct.handle.db;
  const deadline = performance.now() + durationMs;
  let readings = 0;
  const started = performance.now();
  for (let i = 0; performance.now() < deadline; i += 1) {
    const meterId = `naive-${i % devices}`;
    const ts = new Date(startMs + Math.floor(i / devices) * 60_000);
    await sql`INSERT INTO meter_telemetry_history (meter_id, ts, kwh_consumed_ac, voltage)
              VALUES (${meterId}, ${ts}, ${0.2}, ${230}) ON CONFLICT DO NOTHING`.execute(db);
    await sql`INSERT INTO meter_live (meter_id, ts, kwh_consumed_ac, voltage, received_at)
              VALUES (${meterId}, ${ts}, ${0.2}, ${230}, now())
              ON CONFLICT (meter_id) DO UPDATE SET ts = excluded.ts, kwh_consumed_ac = excluded.kwh_consumed_ac,
                voltage = excluded.voltage, received_at = excluded.received_at
              WHERE meter_live.ts < excluded.ts`.execute(db);
    readings += 1;
  }
  return { readings, seconds: (performance.now() - started) / 1000 };
}

/** The database's own bulk speed: 5,000-row unnest batches straight into the hypertable. */
export async function bulkInsertCeiling(direct: DirectDb, durationMs: number, devices: number, startMs: number) {
  const db = direct.handle.db;
  const batch = 5000;
  const deadline = performance.now() + durationMs;
  let readings = 0;
  const started = performance.now();
  for (let b = 0; performance.now() < deadline; b += 1) {
    const ids: string[] = [];
    const ts: string[] = [];
    const kwh: number[] = [];
    const volts: number[] = [];
    for (let j = 0; j < batch; j += 1) {
      const i = b * batch + j;
      ids.push(`ceiling-${i % devices}`);
      ts.push(new Date(startMs + Math.floor(i / devices) * 60_000).toISOString());
      kwh.push(0.2);
      volts.push(230);
    }
    await sql`INSERT INTO meter_telemetry_history (meter_id, ts, kwh_consumed_ac, voltage)
              SELECT * FROM unnest(${ids}::text[], ${ts}::timestamptz[], ${kwh}::float8[], ${volts}::float8[])
              ON CONFLICT DO NOTHING`.execute(db);
    readings += batch;
  }
  return { readings, seconds: (performance.now() - started) / 1000 };
}

/**
 * The bulk ceiling measured inside the server: one INSERT ... SELECT generate_series of
 * `devices` x `minutes` rows into the hypertable, no client data on the wire at all. The
 * client-side ceiling above still pays for parameters; this one is the engine's own limit.
 */
export async function serverBulkCeiling(direct: DirectDb, devices: number, minutes: number, startMs: number) {
  const started = performance.now();
  const result = await sql`INSERT INTO meter_telemetry_history (meter_id, ts, kwh_consumed_ac, voltage)
            SELECT 'server-ceiling-' || d, ${new Date(startMs)}::timestamptz + m * interval '1 minute', 0.2, 230
            FROM generate_series(0, ${minutes - 1}::int) m, generate_series(0, ${devices - 1}::int) d
            ON CONFLICT DO NOTHING`.execute(direct.handle.db);
  const seconds = (performance.now() - started) / 1000;
  return { readings: Number(result.numAffectedRows ?? 0n), seconds };
}

/**
 * Loads minute readings for `vehicles` vehicles and their meters over [from, to) with
 * generate_series (server-side, fast), plus the mapping; deterministic values with a
 * spread of efficiencies.
 */
export async function loadHistory(direct: DirectDb, firstVehicle: number, vehicles: number, from: Date, to: Date) {
  const db = direct.handle.db;
  const last = firstVehicle + vehicles - 1;
  await sql`INSERT INTO vehicle_meter_assignment (vehicle_id, meter_id, valid_from)
            SELECT 'bench-ev-' || lpad(v::text, 5, '0'), 'bench-meter-' || lpad(v::text, 5, '0'), '-infinity'
            FROM generate_series(${firstVehicle}::int, ${last}::int) v
            WHERE NOT EXISTS (SELECT 1 FROM vehicle_meter_assignment a
                              WHERE a.vehicle_id = 'bench-ev-' || lpad(v::text, 5, '0'))`.execute(db);
  await sql`INSERT INTO meter_telemetry_history (meter_id, ts, kwh_consumed_ac, voltage)
            SELECT 'bench-meter-' || lpad(v::text, 5, '0'), t,
                   0.05 + (v % 13) * 0.01 + (extract(minute FROM t) % 7) * 0.003, 228 + (v % 5)
            FROM generate_series(${from}::timestamptz, ${to}::timestamptz - interval '1 minute', interval '1 minute') t,
                 generate_series(${firstVehicle}::int, ${last}::int) v
            ON CONFLICT DO NOTHING`.execute(db);
  await sql`INSERT INTO vehicle_telemetry_history (vehicle_id, ts, soc, kwh_delivered_dc, battery_temp)
            SELECT 'bench-ev-' || lpad(v::text, 5, '0'), t, 20 + (extract(epoch FROM t)::bigint / 60 + v) % 80,
                   (0.05 + (v % 13) * 0.01 + (extract(minute FROM t) % 7) * 0.003) * (0.8 + (v % 16) * 0.01),
                   15 + (v % 20) + (extract(minute FROM t) % 10) * 0.5
            FROM generate_series(${from}::timestamptz, ${to}::timestamptz - interval '1 minute', interval '1 minute') t,
                 generate_series(${firstVehicle}::int, ${last}::int) v
            ON CONFLICT DO NOTHING`.execute(db);
}

/** Materializes the aggregates as the policies would, then the whole loaded range. */
export async function materialize(direct: DirectDb, from: Date, to: Date) {
  await new JobScheduler(direct.handle.db, 60_000, silent).runDueJobs();
  for (const view of ALL_AGGREGATE_VIEWS) {
    await sql`CALL refresh_continuous_aggregate(${view}::regclass, ${from.toISOString()}::timestamptz, ${to.toISOString()}::timestamptz)`.execute(
      direct.handle.db,
    );
  }
}

/** The seed's analytics: the same figures computed by scanning the raw history for the window. */
export async function rawScanPerformance(direct: DirectDb, vehicleId: string, from: Date, to: Date) {
  const result = await sql<{ ac: number | null; dc: number | null; temp: number | null }>`
    SELECT
      (SELECT sum(h.kwh_consumed_ac) FROM meter_telemetry_history h
        WHERE h.meter_id = m.meter_id AND h.ts >= ${from} AND h.ts < ${to}) AS ac,
      (SELECT sum(v.kwh_delivered_dc) FROM vehicle_telemetry_history v
        WHERE v.vehicle_id = m.vehicle_id AND v.ts >= ${from} AND v.ts < ${to}) AS dc,
      (SELECT avg(v.battery_temp) FROM vehicle_telemetry_history v
        WHERE v.vehicle_id = m.vehicle_id AND v.ts >= ${from} AND v.ts < ${to}) AS temp
    FROM vehicle_meter_mapping m WHERE m.vehicle_id = ${vehicleId}`.execute(direct.handle.db);
  return result.rows[0];
}

/**
 * The fleet figures without continuous aggregates: every mapped vehicle's window summed
 * from the raw history, sorted by efficiency (the baseline for the fleet endpoint).
 */
export async function rawScanFleet(direct: DirectDb, from: Date, to: Date, limit: number) {
  const result = await sql<{ vehicle_id: string; efficiency: number | null }>`
    WITH ac AS (
      SELECT meter_id, sum(kwh_consumed_ac) AS kwh FROM meter_telemetry_history
      WHERE ts >= ${from} AND ts < ${to} GROUP BY meter_id
    ), dc AS (
      SELECT vehicle_id, sum(kwh_delivered_dc) AS kwh, avg(battery_temp) AS temp FROM vehicle_telemetry_history
      WHERE ts >= ${from} AND ts < ${to} GROUP BY vehicle_id
    )
    SELECT m.vehicle_id, CASE WHEN ac.kwh > 0 THEN coalesce(dc.kwh, 0) / ac.kwh END AS efficiency
    FROM vehicle_meter_mapping m
    LEFT JOIN ac ON ac.meter_id = m.meter_id
    LEFT JOIN dc ON dc.vehicle_id = m.vehicle_id
    ORDER BY efficiency ASC NULLS LAST, m.vehicle_id
    LIMIT ${limit}`.execute(direct.handle.db);
  return result.rows;
}
