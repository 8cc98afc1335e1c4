import { copyFile, open, stat, truncate } from 'node:fs/promises';

import { sql } from 'kysely';

import { STREAM_FORMATS, type ArchiveRow } from '../../src/archive/archive-format.js';
import { ArchiveJob, type ArchiveJobOptions } from '../../src/archive/archive-job.js';
import { queryArchive } from '../../src/archive/archive-restore.js';
import { fileChecksums, type FileChecksums, type ObjectStore } from '../../src/archive/object-store.js';
import { createLogger } from '../../src/logger.js';
import type { ReadingKind } from '../../src/telemetry/reading.js';
import { DAY_MS } from '../../src/time.js';
import type { ArchiveFixture } from './archive-fixture.js';

/** Midnight (UTC) `days` days ago: chunks are one day long, aligned to UTC days. */
export const dayAgo = (days: number) => Math.floor((Date.now() - days * DAY_MS) / DAY_MS) * DAY_MS;
export const iso = (ms: number) => new Date(ms).toISOString();
export const PREFIX = 'archive';
const logger = createLogger('silent');

/** Counts writes; optionally breaks them (tests of failures). */
export class TestStore implements ObjectStore {
  puts: string[] = [];
  constructor(
    private readonly inner: ObjectStore,
    private readonly faults: {
      failPutHalfway?: boolean;
      corruptRead?: boolean;
    } = {},
  ) {}
  async put(key: string, filename: string, checksums: FileChecksums): Promise<void> {
    this.puts.push(key);
    if (this.faults.failPutHalfway) {
      // Half the bytes reach the store, then the connection breaks.
      const half = `${filename}.half`;
      await copyFile(filename, half);
      await truncate(half, Math.floor(checksums.bytes / 2));
      await this.inner.put(key, half, await fileChecksums(half));
      throw new Error('connection reset by peer');
    }
    await this.inner.put(key, filename, checksums);
  }
  async get(key: string, filename: string): Promise<void> {
    await this.inner.get(key, filename);
    if (this.faults.corruptRead) {
      const handle = await open(filename, 'r+');
      const middle = Math.floor((await stat(filename)).size / 2);
      const byte = Buffer.alloc(1);
      await handle.read(byte, 0, 1, middle);
      byte[0] = byte[0]! ^ 0xff;
      await handle.write(byte, 0, 1, middle);
      await handle.close();
    }
  }
  head = (key: string) => this.inner.head(key);
  list = (prefix: string) => this.inner.list(prefix);
}

/**
 * What the archive tests do to the fixture's database and store (read when called: the fixture
 * is started in the file's before hook, after these are declared).
 */
export function archiveHelpers(fixture: () => ArchiveFixture) {
  const db = () => fixture().db;
  const store = () => fixture().store;
  /**
   * Old readings straight into the hypertables (the API refuses readings this old): every 5
   * minutes over [from, to), random doubles, received_at with microseconds.
   */
  async function insertOld(prefix: string, from: number, to: number): Promise<void> {
    await sql`INSERT INTO meter_telemetry_history (meter_id, ts, kwh_consumed_ac, voltage, received_at)
      SELECT ${prefix} || '-m' || d, ts, random() * 3, 200 + random() * 40, ts + random() * interval '2 seconds'
        FROM generate_series(1, 2) d,
             generate_series(${iso(from)}::timestamptz, ${iso(to)}::timestamptz - interval '5 minutes', interval '5 minutes') ts`.execute(
      db(),
    );
    await sql`INSERT INTO vehicle_telemetry_history (vehicle_id, ts, soc, kwh_delivered_dc, battery_temp, received_at)
      SELECT ${prefix} || '-v1', ts, random() * 100, random() * 2.5, 20 + random() * 15, ts + random() * interval '2 seconds'
        FROM generate_series(${iso(from)}::timestamptz, ${iso(to)}::timestamptz - interval '5 minutes', interval '5 minutes') ts`.execute(
      db(),
    );
  }

  /** Every stored row of a stream in [from, to), exactly (timestamps in microseconds, registers as text). */
  async function storedRows(stream: ReadingKind, from: number, to: number): Promise<ArchiveRow[]> {
    const format = STREAM_FORMATS[stream];
    const values = sql.join(format.valueColumns.map((c) => sql.ref(c)));
    const result = await sql<Record<string, unknown>>`
      SELECT ${sql.ref(format.deviceColumn)} AS device, (extract(epoch FROM ts) * 1000000)::int8 AS ts_us,
             (extract(epoch FROM received_at) * 1000000)::int8 AS r_us, ARRAY[${values}]::text[] AS vals,
             kwh_register::text AS register, register_event AS event
        FROM ${sql.table(format.hypertable)} WHERE ts >= ${iso(from)}::timestamptz AND ts < ${iso(to)}::timestamptz
       ORDER BY 1, ts`.execute(db());
    return result.rows.map((r) => ({
      device: String(r.device),
      tsUs: Number(r.ts_us),
      receivedAtUs: Number(r.r_us),
      values: (r.vals as string[]).map(Number),
      kwhRegister: r.register as string | null,
      registerEvent: r.event as ArchiveRow['registerEvent'],
    }));
  }

  async function archivedRows(stream: ReadingKind, from: number, to: number, device?: string): Promise<ArchiveRow[]> {
    const rows: ArchiveRow[] = [];
    for await (const batch of queryArchive(db(), store(), { stream, from: new Date(from), to: new Date(to), device })) {
      rows.push(...batch);
    }
    return rows.sort((a, b) => (a.device < b.device ? -1 : a.device > b.device ? 1 : a.tsUs - b.tsUs));
  }

  const chunksOf = async (hypertable: string, from: number, to: number) =>
    (
      await sql<{ name: string }>`SELECT chunk_name AS name FROM timescaledb_information.chunks
        WHERE hypertable_name = ${hypertable} AND range_start >= ${iso(from)}::timestamptz AND range_end <= ${iso(to)}::timestamptz
        ORDER BY range_start`.execute(db())
    ).rows.map((r) => r.name);

  const manifest = async (from: number, to: number) =>
    db()
      .selectFrom('archive_manifest')
      .select(['hypertable', 'object_key', 'status', 'failures', 'last_error', 'row_count', 'claimed_by'])
      .where('range_start', '>=', new Date(from))
      .where('range_start', '<', new Date(to))
      .orderBy('hypertable')
      .orderBy('range_start')
      .execute();

  const job = (objectStore: ObjectStore, options: Partial<ArchiveJobOptions> = {}) =>
    new ArchiveJob(db(), objectStore, logger, { prefix: PREFIX, owner: 'test', batchRows: 200, ...options });

  /**
   * Register readings straight into the hypertables, one device per stream over [from, to), every
   * 5 minutes: every third reading an interval reading (no register), the others registers with
   * their scale ('1000.20', '0.40') and one with more digits than a double holds, and each event.
   */
  async function insertRegisters(prefix: string, from: number, to: number): Promise<void> {
    const register = sql`CASE WHEN n = 151 THEN 0.40 WHEN n = 202 THEN 999999999.123456789012345678
                              WHEN n % 3 = 0 THEN NULL ELSE round(1000 + n * 0.2, 2) END`;
    const event = sql`CASE n WHEN 1 THEN 'first' WHEN 151 THEN 'reset' WHEN 202 THEN 'jump' END`;
    const ts = sql`${iso(from)}::timestamptz + n * interval '5 minutes'`;
    const count = (to - from) / (5 * 60_000);
    await sql`INSERT INTO meter_telemetry_history (meter_id, ts, kwh_consumed_ac, voltage, received_at, kwh_register, register_event)
      SELECT ${prefix} || '-m9', ${ts}, 0.2, 230, ${ts} + random() * interval '2 seconds', ${register}, ${event}
        FROM generate_series(0, ${count - 1}::int) n`.execute(db());
    await sql`INSERT INTO vehicle_telemetry_history (vehicle_id, ts, soc, kwh_delivered_dc, battery_temp, received_at, kwh_register, register_event)
      SELECT ${prefix} || '-v9', ${ts}, 50, 0.2, 25, ${ts} + random() * interval '2 seconds', ${register}, ${event}
        FROM generate_series(0, ${count - 1}::int) n`.execute(db());
  }

  return { insertOld, insertRegisters, storedRows, archivedRows, chunksOf, manifest, job };
}
