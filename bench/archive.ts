/**
 * Archive throughput: `npx tsx bench/archive.ts [--devices N]`. One day of meter readings at one
 * a minute per device, archived twice: as a plain chunk and as a compressed chunk. Prints rows/s
 * and bytes per reading in Parquet and in the hypertable (heap + indexes, or compressed). Runs
 * against the embedded database and an in-process s3rver, so it measures this code path, not a
 * network.
 */
import { parseArgs } from 'node:util';

import { sql } from 'kysely';

import { ArchiveJob } from '../src/archive/archive-job.js';
import { S3ObjectStore } from '../src/archive/object-store.js';
import { loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/logger.js';
import { startService } from '../src/runtime/api-process.js';
import { DAY_MS } from '../src/time.js';
import { startTestS3 } from '../tools/harness/s3-server.js';

const { values } = parseArgs({ options: { devices: { type: 'string', default: '200' } } });
const devices = Number(values.devices);
const s3 = await startTestS3('ev-archive-bench');
const config = loadConfig({
  HOST: '127.0.0.1',
  PORT: '0',
  LOG_LEVEL: 'silent',
  ADMIN_API_KEY: 'x'.repeat(32),
  ...s3.env,
});
const svc = await startService(config, createLogger('silent'), { inMemory: true, runJobs: false });
const db = svc.dbHandle.maintenanceDb;
const store = new S3ObjectStore(config.archive!);
await sql`SELECT archive_mode_on('meter_telemetry_history', INTERVAL '30 days')`.execute(db);
const day = (n: number) => new Date(Math.floor((Date.now() - n * DAY_MS) / DAY_MS) * DAY_MS).toISOString();

const rows: Record<string, unknown>[] = [];
for (const [label, ago, compress] of [
  ['plain chunk', 60, false],
  ['compressed chunk', 62, true],
] as const) {
  await sql`INSERT INTO meter_telemetry_history (meter_id, ts, kwh_consumed_ac, voltage)
    SELECT 'bench-' || lpad(d::text, 5, '0'), ts, random() * 0.05, 225 + random() * 10
      FROM generate_series(1, ${devices}) d,
           generate_series(${day(ago)}::timestamptz, ${day(ago)}::timestamptz + interval '1 day' - interval '1 minute', interval '1 minute') ts`.execute(
    db,
  );
  const chunk = `(SELECT c FROM show_chunks('meter_telemetry_history', older_than => '${day(ago - 1)}'::timestamptz, newer_than => '${day(ago)}'::timestamptz) c LIMIT 1)`;
  if (compress) await sql.raw(`SELECT compress_chunk(${chunk})`).execute(db);
  const size = compress
    ? await sql
        .raw<{ bytes: number }>(
          `SELECT after_compression_total_bytes AS bytes FROM chunk_compression_stats('meter_telemetry_history') WHERE chunk_name = (SELECT relname FROM pg_class WHERE oid = ${chunk})`,
        )
        .execute(db)
    : await sql.raw<{ bytes: number }>(`SELECT pg_total_relation_size(${chunk}) AS bytes`).execute(db);
  const tableBytes = Number(size.rows[0]?.bytes);
  const started = performance.now();
  const report = await new ArchiveJob(db, store, createLogger('silent'), { prefix: 'bench' }).run();
  const seconds = (performance.now() - started) / 1000;
  const manifest = await db
    .selectFrom('archive_manifest')
    .select(['row_count', 'bytes'])
    .where('range_start', '=', new Date(day(ago)))
    .executeTakeFirstOrThrow();
  const readings = manifest.row_count ?? 0;
  rows.push({
    chunk: label,
    readings,
    archived: report.archived,
    seconds: Math.round(seconds * 10) / 10,
    rowsPerSecond: Math.round(readings / seconds),
    parquetBytesPerReading: Math.round(((manifest.bytes ?? 0) / readings) * 10) / 10,
    tableBytesPerReading: Math.round((tableBytes / readings) * 10) / 10,
  });
}
console.table(rows);
store.destroy();
await svc.stop();
await s3.stop();
