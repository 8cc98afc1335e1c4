import test from 'ava';
import { sql } from 'kysely';

import { ArchiveJob } from '../src/archive/archive-job.js';
import { S3ObjectStore } from '../src/archive/object-store.js';
import { loadConfig } from '../src/config/config.js';
import type { Db } from '../src/db/database.js';
import { createLogger } from '../src/logger.js';
import { DAY_MS, HOUR_MS } from '../src/time.js';
import { startTestS3, type TestS3 } from '../tools/harness/s3-server.js';
import { startTestService, type TestService } from './helpers/test-service.js';

/**
 * Late readings that reach an hour after its last refresh, then the hour is archived and its
 * chunk dropped (a DBA shortening the hot period, or a refresh policy that stalled): the
 * aggregates are all that is left below the archived boundary, so the archive must refresh
 * them over the chunk before the drop, and refuse the drop while they do not hold exactly its
 * rows. Generated: random late readings (how many, when, how much) after a refresh; every hour
 * of the day is then compared with the brute-force sum of the readings that were stored.
 */
let s3: TestS3;
let svc: TestService;
let db: Db;
let store: S3ObjectStore;
const logger = createLogger('silent');
const iso = (ms: number) => new Date(ms).toISOString();
const VIEWS = ['meter_telemetry_hourly', 'vehicle_telemetry_hourly', 'meter_telemetry_15m', 'vehicle_telemetry_15m'];

test.before(async () => {
  s3 = await startTestS3();
  svc = await startTestService(s3.env);
  db = svc.dbHandle.maintenanceDb;
  store = new S3ObjectStore(loadConfig(s3.env).archive!);
  await sql`SELECT archive_mode_on('meter_telemetry_history', INTERVAL '30 days')`.execute(db);
  await sql`SELECT archive_mode_on('vehicle_telemetry_history', INTERVAL '30 days')`.execute(db);
  await svc.acceptance.reload();
});

test.after.always(async () => {
  store?.destroy();
  await svc?.stop();
  await s3?.stop();
});

/** A seeded generator (mulberry32): a failing case can be replayed from its seed. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

test.serial(
  'late readings after the last refresh are still counted once their hour is archived and dropped',
  async (t) => {
    const seed = Number(process.env.TEST_SEED ?? Date.now() % 1_000_000);
    t.log(`seed ${seed}`);
    const next = random(seed);
    const day = Math.floor((Date.now() - 40 * DAY_MS) / DAY_MS) * DAY_MS;
    await sql`INSERT INTO vehicle_meter_assignment (vehicle_id, meter_id, valid_from) VALUES ('late-v', 'late-m', '-infinity')`.execute(
      db,
    );
    // A day of readings every 10 minutes, materialized.
    await sql`INSERT INTO meter_telemetry_history (meter_id, ts, kwh_consumed_ac, voltage)
    SELECT 'late-m', ts, 0.5, 230 FROM generate_series(${iso(day)}::timestamptz, ${iso(day + DAY_MS - 600_000)}::timestamptz, interval '10 minutes') ts`.execute(
      db,
    );
    await sql`INSERT INTO vehicle_telemetry_history (vehicle_id, ts, soc, kwh_delivered_dc, battery_temp)
    SELECT 'late-v', ts, 50, 0.4, 25 FROM generate_series(${iso(day)}::timestamptz, ${iso(day + DAY_MS - 600_000)}::timestamptz, interval '10 minutes') ts`.execute(
      db,
    );
    for (const view of VIEWS) {
      await sql`CALL refresh_continuous_aggregate(${view}::regclass, ${iso(day)}::timestamptz, ${iso(day + DAY_MS)}::timestamptz)`.execute(
        db,
      );
    }
    // Then late readings reach hours that were already refreshed (not on the 10-minute grid).
    const late = Array.from({ length: 1 + Math.floor(next() * 6) }, () => ({
      ts: day + Math.floor(next() * 24 * 60) * 60_000 + 1_000 + Math.floor(next() * 50_000),
      ac: Math.round(next() * 1000) / 1000,
      dc: Math.round(next() * 1000) / 1000,
    }));
    for (const reading of late) {
      await sql`INSERT INTO meter_telemetry_history (meter_id, ts, kwh_consumed_ac, voltage)
      VALUES ('late-m', ${iso(reading.ts)}::timestamptz, ${reading.ac}, 230) ON CONFLICT DO NOTHING`.execute(db);
      await sql`INSERT INTO vehicle_telemetry_history (vehicle_id, ts, soc, kwh_delivered_dc, battery_temp)
      VALUES ('late-v', ${iso(reading.ts)}::timestamptz, 50, ${reading.dc}, 25) ON CONFLICT DO NOTHING`.execute(db);
    }
    // The oracle: per hour, the sums of the rows stored now.
    const oracle = await sql<{ hour: Date; ac: number; dc: number }>`
    SELECT date_trunc('hour', m.ts) AS hour, sum(m.kwh_consumed_ac)::float8 AS ac, sum(v.kwh_delivered_dc)::float8 AS dc
      FROM meter_telemetry_history m JOIN vehicle_telemetry_history v ON v.ts = m.ts AND v.vehicle_id = 'late-v'
     WHERE m.meter_id = 'late-m' AND m.ts >= ${iso(day)}::timestamptz AND m.ts < ${iso(day + DAY_MS)}::timestamptz
     GROUP BY 1 ORDER BY 1`.execute(db);

    const report = await new ArchiveJob(db, store, logger, { prefix: 'archive', owner: 'late' }).run();
    t.like(report, { archived: 2, failed: 0 }, JSON.stringify(report));
    const left = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM meter_telemetry_history WHERE ts >= ${iso(day)}::timestamptz AND ts < ${iso(day + DAY_MS)}::timestamptz`.execute(
      db,
    );
    t.is(left.rows[0]!.n, 0, 'the raw readings of the day were dropped');

    for (const hour of oracle.rows) {
      const from = hour.hour.getTime();
      const answer = await svc.get(`/v1/analytics/performance/late-v?from=${iso(from)}&to=${iso(from + HOUR_MS)}`);
      t.is(answer.status, 200, JSON.stringify(answer.body));
      t.is(Math.round(answer.body.acEnergyKwh * 1e6), Math.round(hour.ac * 1e6), `AC in the hour from ${iso(from)}`);
      t.is(Math.round(answer.body.dcEnergyKwh * 1e6), Math.round(hour.dc * 1e6), `DC in the hour from ${iso(from)}`);
    }
  },
);
