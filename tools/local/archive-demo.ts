import { sql } from 'kysely';

import { ALL_AGGREGATE_VIEWS } from '../../src/aggregates/aggregate-levels.js';
import { loadConfig } from '../../src/config/config.js';
import { createDb } from '../../src/db/create-db.js';
import { migrate } from '../../src/db/migrate.js';
import { waitForDatabase } from '../../src/db/wait-for-database.js';
import { startEmbeddedDb, type EmbeddedDb } from '../../src/embedded/embedded-db.js';
import { createLogger } from '../../src/logger.js';
import { DAY_MS } from '../../src/time.js';
import { DEMO_DAYS, DEMO_METER, DEMO_STEP_MINUTES, DEMO_VEHICLE } from './archive-demo-data.js';

/*
 * `npm run local:archive-demo`: makes a database the archive has something to do with, in
 * minutes instead of a month (docs/archive.md, "Try it locally"). The archive takes chunks
 * older than the hot period (30 days), and the API refuses readings older than 28 days, so a
 * fresh database never has any. This switches both raw tables to archive mode (what a DBA's
 * migration does) and writes five days of readings 40 to 35 days old straight into them, then
 * refreshes the aggregates over those days, as the refresh policies would have done while the
 * readings were young. The database: DATABASE_URL, else the embedded one in DATA_DIR, which
 * defaults here to ./data-demo (not the service's ./data: a demo should not touch real data).
 */

const midnight = (daysAgo: number) => new Date(Math.floor((Date.now() - daysAgo * DAY_MS) / DAY_MS) * DAY_MS);

async function main(): Promise<void> {
  const env = { ...process.env };
  if (!env.DATABASE_URL && !env.DATA_DIR) env.DATA_DIR = './data-demo';
  const config = loadConfig(env);
  let embedded: EmbeddedDb | undefined;
  let url = config.database.url;
  if (!url) {
    embedded = await startEmbeddedDb({ dataDir: config.database.dataDir, host: '127.0.0.1', port: 0 });
    url = embedded.url;
  }
  await migrate({ databaseUrl: url });
  const handle = createDb({
    url,
    max: 1,
    statementTimeoutMs: 600_000,
    lockTimeoutMs: 5_000,
    logger: createLogger('silent'),
  });
  try {
    await waitForDatabase(handle.db, 30_000);
    const db = handle.maintenanceDb;
    const from = midnight(DEMO_DAYS.from).toISOString();
    const to = midnight(DEMO_DAYS.to).toISOString();
    const step = `${DEMO_STEP_MINUTES} minutes`;
    await sql`SELECT archive_mode_on('meter_telemetry_history', INTERVAL '30 days')`.execute(db);
    await sql`SELECT archive_mode_on('vehicle_telemetry_history', INTERVAL '30 days')`.execute(db);
    // Fixed values (0.1 kWh AC, 0.09 kWh DC per reading: 0.9 efficiency) so the figures are easy to check.
    const meter = await sql`INSERT INTO meter_telemetry_history (meter_id, ts, kwh_consumed_ac, voltage, received_at)
      SELECT ${DEMO_METER}, ts, 0.1, 230, ts
        FROM generate_series(${from}::timestamptz, ${to}::timestamptz - ${step}::interval, ${step}::interval) ts
      ON CONFLICT DO NOTHING`.execute(db);
    const vehicle =
      await sql`INSERT INTO vehicle_telemetry_history (vehicle_id, ts, soc, kwh_delivered_dc, battery_temp, received_at)
      SELECT ${DEMO_VEHICLE}, ts, 50, 0.09, 25, ts
        FROM generate_series(${from}::timestamptz, ${to}::timestamptz - ${step}::interval, ${step}::interval) ts
      ON CONFLICT DO NOTHING`.execute(db);
    // Finest first: the hourly aggregates read the quarter-hour ones.
    for (const view of ALL_AGGREGATE_VIEWS) {
      await sql`CALL refresh_continuous_aggregate(${view}::regclass, ${from}::timestamptz, ${to}::timestamptz)`.execute(
        db,
      );
    }
    process.stdout.write(
      `${JSON.stringify({
        database: config.database.url ? 'DATABASE_URL' : config.database.dataDir,
        archiveMode: 'on (hot period 30 days)',
        meterReadings: Number(meter.numAffectedRows ?? 0),
        vehicleReadings: Number(vehicle.numAffectedRows ?? 0),
        from,
        to,
      })}\n`,
    );
  } finally {
    await handle.close();
    await embedded?.stop();
  }
}

await main();
