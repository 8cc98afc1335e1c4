import { copyFile, open, stat, truncate } from 'node:fs/promises';

import test from 'ava';
import { sql } from 'kysely';

import { STREAM_FORMATS, type ArchiveRow } from '../src/archive/archive-format.js';
import { ArchiveJob, type ArchiveJobOptions } from '../src/archive/archive-job.js';
import { queryArchive, restoreArchive } from '../src/archive/archive-restore.js';
import {
  fileChecksums,
  type S3ObjectStore,
  type FileChecksums,
  type ObjectStore,
} from '../src/archive/object-store.js';
import type { Db } from '../src/db/database.js';
import { createLogger } from '../src/logger.js';
import type { ReadingKind } from '../src/telemetry/reading.js';
import { DAY_MS, HOUR_MS } from '../src/time.js';
import { startArchiveFixture, type ArchiveFixture } from './helpers/archive-fixture.js';
import type { TestService } from './helpers/test-service.js';

let fixture: ArchiveFixture;
let svc: TestService;
let db: Db;
let store: S3ObjectStore;
const logger = createLogger('silent');
const PREFIX = 'archive';

test.before(async () => {
  fixture = await startArchiveFixture();
  ({ svc, db, store } = fixture);
});

test.after.always(async () => {
  await fixture?.stop();
});

/** Midnight (UTC) `days` days ago: chunks are one day long, aligned to UTC days. */
const dayAgo = (days: number) => Math.floor((Date.now() - days * DAY_MS) / DAY_MS) * DAY_MS;
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Old readings straight into the hypertables (the API refuses readings this old): every 5
 * minutes over [from, to), random doubles, received_at with microseconds.
 */
async function insertOld(prefix: string, from: number, to: number): Promise<void> {
  await sql`INSERT INTO meter_telemetry_history (meter_id, ts, kwh_consumed_ac, voltage, received_at)
    SELECT ${prefix} || '-m' || d, ts, random() * 3, 200 + random() * 40, ts + random() * interval '2 seconds'
      FROM generate_series(1, 2) d,
           generate_series(${iso(from)}::timestamptz, ${iso(to)}::timestamptz - interval '5 minutes', interval '5 minutes') ts`.execute(
    db,
  );
  await sql`INSERT INTO vehicle_telemetry_history (vehicle_id, ts, soc, kwh_delivered_dc, battery_temp, received_at)
    SELECT ${prefix} || '-v1', ts, random() * 100, random() * 2.5, 20 + random() * 15, ts + random() * interval '2 seconds'
      FROM generate_series(${iso(from)}::timestamptz, ${iso(to)}::timestamptz - interval '5 minutes', interval '5 minutes') ts`.execute(
    db,
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
     ORDER BY 1, ts`.execute(db);
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
  for await (const batch of queryArchive(db, store, { stream, from: new Date(from), to: new Date(to), device })) {
    rows.push(...batch);
  }
  return rows.sort((a, b) => (a.device < b.device ? -1 : a.device > b.device ? 1 : a.tsUs - b.tsUs));
}

const chunksOf = async (hypertable: string, from: number, to: number) =>
  (
    await sql<{ name: string }>`SELECT chunk_name AS name FROM timescaledb_information.chunks
      WHERE hypertable_name = ${hypertable} AND range_start >= ${iso(from)}::timestamptz AND range_end <= ${iso(to)}::timestamptz
      ORDER BY range_start`.execute(db)
  ).rows.map((r) => r.name);

const manifest = async (from: number, to: number) =>
  db
    .selectFrom('archive_manifest')
    .select(['hypertable', 'object_key', 'status', 'failures', 'last_error', 'row_count', 'claimed_by'])
    .where('range_start', '>=', new Date(from))
    .where('range_start', '<', new Date(to))
    .orderBy('hypertable')
    .orderBy('range_start')
    .execute();

/** Counts writes; optionally breaks them (tests of failures). */
class TestStore implements ObjectStore {
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

const job = (objectStore: ObjectStore, options: Partial<ArchiveJobOptions> = {}) =>
  new ArchiveJob(db, objectStore, logger, { prefix: PREFIX, owner: 'test', batchRows: 200, ...options });

test.serial('archive mode replaces retention; the hot period keeps the acceptance window', async (t) => {
  const jobs = await sql<{ n: number }>`SELECT count(*)::int AS n FROM timescaledb_information.jobs
    WHERE proc_name = 'policy_retention' AND hypertable_name LIKE '%telemetry_history'`.execute(db);
  t.is(jobs.rows[0]!.n, 0);
  // 30-day hot period less the margins, as with a 30-day retention (refresh window 29 days less a day).
  t.is(svc.acceptance.maxAgeMs, 28 * DAY_MS);
  const ready = await svc.get('/readyz');
  t.deepEqual(ready.body.archive.archivedStreams, ['meter', 'vehicle']);
  // Archive mode without a bucket archives (and drops) nothing, and says so.
  t.deepEqual((await new ArchiveJob(db, undefined, logger, { prefix: PREFIX }).run()).unconfigured, [
    'meter',
    'vehicle',
  ]);
});

test.serial(
  'old chunks, compressed or not, are archived, verified and dropped; every reading reads back identical',
  async (t) => {
    const from = dayAgo(62);
    const to = from + 3 * DAY_MS;
    await insertOld('ok', from, to);
    await sql`SELECT compress_chunk(c) FROM show_chunks('meter_telemetry_history',
    newer_than => ${iso(from + DAY_MS)}::timestamptz, older_than => ${iso(from + 2 * DAY_MS)}::timestamptz) c`.execute(
      db,
    );
    const before = { meter: await storedRows('meter', from, to), vehicle: await storedRows('vehicle', from, to) };
    t.is(before.meter.length, 2 * 3 * 288);
    t.is((await chunksOf('meter_telemetry_history', from, to)).length, 3);

    const counting = new TestStore(store);
    const started = Date.now();
    const report = await job(counting).run();
    t.log(`archived ${before.meter.length + before.vehicle.length} rows in 6 chunks in ${Date.now() - started} ms`);
    t.like(report, { archived: 6, failed: 0 });
    t.deepEqual(await chunksOf('meter_telemetry_history', from, to), []);
    t.deepEqual(await chunksOf('vehicle_telemetry_history', from, to), []);
    t.deepEqual(await storedRows('meter', from, to), []);

    const rows = await manifest(from, to);
    t.deepEqual(
      rows.map((r) => r.status),
      Array<string>(6).fill('dropped'),
    );
    const keys = rows.map((r) => r.object_key);
    t.true(
      keys.every((key) =>
        /^archive\/v2\/stream=(meter|vehicle)\/date=\d{4}-\d{2}-\d{2}\/chunk-\d+\.parquet$/.test(key),
      ),
    );
    t.deepEqual(counting.puts.sort(), [...keys].sort());
    t.deepEqual((await store.list(`${PREFIX}/`)).sort(), [...keys].sort());

    t.deepEqual(await archivedRows('meter', from, to), before.meter);
    t.deepEqual(await archivedRows('vehicle', from, to), before.vehicle);
  },
);

test.serial('a rerun after success uploads nothing and drops nothing', async (t) => {
  const objects = await store.list(`${PREFIX}/`);
  const counting = new TestStore(store);
  const report = await job(counting).run();
  t.like(report, { archived: 0, failed: 0 });
  t.deepEqual(counting.puts, []);
  t.deepEqual(await store.list(`${PREFIX}/`), objects);
});

test.serial(
  'an upload that fails half-way keeps the chunk, shows it failing; the next run archives it to the same key',
  async (t) => {
    const from = dayAgo(70);
    const to = from + DAY_MS;
    await insertOld('up', from, to);
    const before = await storedRows('meter', from, to);

    const report = await job(new TestStore(store, { failPutHalfway: true })).run();
    t.like(report, { archived: 0, failed: 2 });
    t.deepEqual(await storedRows('meter', from, to), before);
    const failing = await manifest(from, to);
    t.deepEqual(
      failing.map((r) => [r.status, r.failures, r.claimed_by]),
      [
        ['pending', 1, null],
        ['pending', 1, null],
      ],
    );
    t.regex(failing[0]!.last_error!, /connection reset/);
    const ready = await svc.get('/readyz');
    t.is(ready.status, 200);
    t.is(ready.body.archive.failingChunks, 2);
    t.regex(ready.body.archive.chunks[0].lastError, /connection reset/);
    const metrics = await svc.get('/metrics');
    t.regex(String(metrics.body), /^ev_archive_failing_chunks 2$/m);

    const counting = new TestStore(store);
    t.like(await job(counting).run(), { archived: 2, failed: 0 });
    t.deepEqual(counting.puts.sort(), failing.map((r) => r.object_key).sort());
    t.deepEqual(await archivedRows('meter', from, to), before);
    t.is((await svc.get('/readyz')).body.archive.failingChunks, 0);
  },
);

test.serial('a read-back that differs from the upload stops the drop', async (t) => {
  const from = dayAgo(72);
  const to = from + DAY_MS;
  await insertOld('rb', from, to);
  const before = await storedRows('vehicle', from, to);
  t.like(await job(new TestStore(store, { corruptRead: true })).run(), { archived: 0, failed: 2 });
  t.deepEqual(await storedRows('vehicle', from, to), before);
  const rows = await manifest(from, to);
  t.deepEqual(
    rows.map((r) => r.status),
    ['uploaded', 'uploaded'],
  );
  t.regex(rows[0]!.last_error!, /read-back SHA-256/);
  t.like(await job(store).run(), { archived: 2, failed: 0 });
  t.deepEqual(await archivedRows('vehicle', from, to), before);
});

test.serial('a crash between upload and drop, then reruns: one object, the chunk dropped once', async (t) => {
  const from = dayAgo(74);
  const to = from + DAY_MS;
  await insertOld('cr', from, to);
  const before = await storedRows('meter', from, to);
  const crash = () => {
    throw new Error('process killed');
  };
  t.like(await job(store, { beforeDrop: crash }).run(), { archived: 0, failed: 2 });
  t.deepEqual(
    (await manifest(from, to)).map((r) => r.status),
    ['verified', 'verified'],
  );
  t.deepEqual(await storedRows('meter', from, to), before);

  // A real crash leaves the lease behind: another instance waits until it expires.
  await sql`UPDATE archive_manifest SET claimed_by = 'crashed', claimed_until = now() + interval '1 hour'
    WHERE range_start = ${iso(from)}::timestamptz`.execute(db);
  const other = new TestStore(store);
  t.like(await job(other, { owner: 'other' }).run(), { archived: 0, busy: 2 });
  await sql`UPDATE archive_manifest SET claimed_until = now() - interval '1 second'
    WHERE range_start = ${iso(from)}::timestamptz`.execute(db);
  t.like(await job(other, { owner: 'other' }).run(), { archived: 2, failed: 0 });
  t.deepEqual(other.puts, [], 'verified objects are not uploaded again');
  t.deepEqual(await archivedRows('meter', from, to), before);
  const keys = (await manifest(from, to)).map((r) => r.object_key);
  t.is((await store.list(`${PREFIX}/`)).filter((key) => keys.includes(key)).length, 2);
});

test.serial('an instance that lost its lease drops nothing and records nothing', async (t) => {
  const from = dayAgo(78);
  const to = from + DAY_MS;
  await insertOld('lease', from, to);
  const before = await storedRows('meter', from, to);
  // The lease expired while this instance worked, and another instance took the chunk over.
  const stolen = async () => {
    await sql`UPDATE archive_manifest SET claimed_by = 'other', claimed_until = now() + interval '1 hour'
      WHERE range_start = ${iso(from)}::timestamptz`.execute(db);
  };
  t.like(await job(store, { beforeDrop: stolen }).run(), { archived: 0, failed: 2 });
  t.deepEqual(await storedRows('meter', from, to), before);
  t.deepEqual(
    (await manifest(from, to)).map((r) => [r.status, r.failures, r.claimed_by]),
    [
      ['verified', 0, 'other'],
      ['verified', 0, 'other'],
    ],
  );
  await sql`UPDATE archive_manifest SET claimed_until = now() - interval '1 second'
    WHERE range_start = ${iso(from)}::timestamptz`.execute(db);
  t.like(await job(store).run(), { archived: 2, failed: 0 });
  t.deepEqual(await archivedRows('meter', from, to), before);
});

test.serial('a row written after the export is never dropped unarchived', async (t) => {
  const from = dayAgo(76);
  const to = from + DAY_MS;
  await insertOld('late', from, to);
  const writeLate = async () => {
    await sql`INSERT INTO meter_telemetry_history (meter_id, ts, kwh_consumed_ac, voltage)
      VALUES ('late-m9', ${iso(from + HOUR_MS)}::timestamptz, 1.25, 230) ON CONFLICT DO NOTHING`.execute(db);
  };
  const report = await job(store, { beforeDrop: writeLate }).run();
  t.like(report, { failed: 1, archived: 1 }, 'the vehicle chunk went, the meter chunk stayed');
  const meterRow = (await manifest(from, to)).find((r) => r.hypertable === 'meter_telemetry_history')!;
  t.is(meterRow.status, 'pending');
  t.regex(meterRow.last_error!, /differs from its archive/);
  const withLate = await storedRows('meter', from, to);
  t.is(withLate.length, 2 * 288 + 1);

  t.like(await job(store).run(), { archived: 1, failed: 0 });
  t.deepEqual(await archivedRows('meter', from, to), withLate);
});

test.serial(
  'restore puts archived readings back without duplicates; analytics answer the same; query by device',
  async (t) => {
    const from = dayAgo(62);
    const to = from + 3 * DAY_MS;
    // Analytics over whole hours, before the chunks are archived (fresh data, same shape).
    const aFrom = dayAgo(90);
    const aTo = aFrom + 2 * DAY_MS;
    await insertOld('an', aFrom, aTo);
    await sql`INSERT INTO vehicle_meter_assignment (vehicle_id, meter_id, valid_from) VALUES ('an-v1', 'an-m1', '-infinity')`.execute(
      db,
    );
    for (const view of [
      'meter_telemetry_hourly',
      'vehicle_telemetry_hourly',
      'meter_telemetry_15m',
      'vehicle_telemetry_15m',
    ]) {
      await sql`CALL refresh_continuous_aggregate(${view}::regclass, ${iso(aFrom)}::timestamptz, ${iso(aTo)}::timestamptz)`.execute(
        db,
      );
    }
    const path = `/v1/analytics/performance/an-v1?from=${iso(aFrom + HOUR_MS)}&to=${iso(aTo - 3 * HOUR_MS)}`;
    const original = await svc.get(path);
    t.is(original.status, 200, JSON.stringify(original.body));
    const wholeHours = await svc.get(`/v1/analytics/performance/an-v1?from=${iso(aFrom)}&to=${iso(aTo)}`);
    t.is(wholeHours.status, 200);
    const analyticsBefore = await storedRows('meter', aFrom, aTo);
    t.like(await job(store).run(), { archived: 4, failed: 0 });
    const afterArchive = await svc.get(path);
    t.is(afterArchive.status, 200);
    t.deepEqual(afterArchive.body, original.body);
    // An edge inside an archived hour: moved out to the hour, and the answer says so.
    const unaligned = await svc.get(`/v1/analytics/performance/an-v1?from=${iso(aFrom + 60_000)}&to=${iso(aTo)}`);
    t.is(unaligned.status, 200, JSON.stringify(unaligned.body));
    t.deepEqual(unaligned.body.requestedWindow, { from: iso(aFrom + 60_000), to: iso(aTo) });
    t.deepEqual(unaligned.body, { ...wholeHours.body, requestedWindow: unaligned.body.requestedWindow });
    const series = await svc.get(
      `/v1/analytics/performance/an-v1/series?bucket=1h&from=${iso(aFrom + 60_000)}&to=${iso(aFrom + 5 * HOUR_MS - 60_000)}`,
    );
    t.is(series.status, 200, JSON.stringify(series.body));
    t.deepEqual(series.body.window, { from: iso(aFrom), to: iso(aFrom + 5 * HOUR_MS) });
    t.is(series.body.points.length, 5);
    const fleet = await svc.get(`/v1/analytics/fleet?from=${iso(aFrom + 60_000)}&to=${iso(aTo)}`);
    t.is(fleet.status, 200, JSON.stringify(fleet.body));
    t.deepEqual(fleet.body.window, { from: iso(aFrom), to: iso(aTo) });

    // Query without restoring: one device, part of a day.
    const some = await archivedRows('meter', aFrom + HOUR_MS, aFrom + 2 * HOUR_MS, 'an-m2');
    t.deepEqual(
      some,
      analyticsBefore.filter(
        (r) => r.device === 'an-m2' && r.tsUs >= (aFrom + HOUR_MS) * 1000 && r.tsUs < (aFrom + 2 * HOUR_MS) * 1000,
      ),
    );
    t.is(some.length, 12);

    // Restore: whole chunks, twice (the second inserts nothing), then analytics again.
    const first = await restoreArchive(db, store, { stream: 'meter', from: new Date(from), to: new Date(to) });
    t.deepEqual(first, { objects: 3, rows: 2 * 3 * 288, inserted: 2 * 3 * 288 });
    const again = await restoreArchive(db, store, { stream: 'meter', from: new Date(from), to: new Date(to) });
    t.deepEqual(again, { objects: 3, rows: 2 * 3 * 288, inserted: 0 });
    t.deepEqual(await storedRows('meter', from, to), await archivedRows('meter', from, to));
    await restoreArchive(db, store, { stream: 'meter', from: new Date(aFrom), to: new Date(aTo) });
    await restoreArchive(db, store, { stream: 'vehicle', from: new Date(aFrom), to: new Date(aTo) });
    t.deepEqual(await storedRows('meter', aFrom, aTo), analyticsBefore);
    t.deepEqual((await svc.get(path)).body, original.body);

    // Held for a week, then dropped again after a comparison with the manifest, without a new object.
    const counting = new TestStore(store);
    t.like(await job(counting).run(), { archived: 0, held: 7 });
    t.like(await job(counting).run(Date.now() + 8 * DAY_MS), { archived: 7, failed: 0 });
    t.deepEqual(counting.puts, []);
    t.deepEqual(await storedRows('meter', from, to), []);
  },
);

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
      FROM generate_series(0, ${count - 1}::int) n`.execute(db);
  await sql`INSERT INTO vehicle_telemetry_history (vehicle_id, ts, soc, kwh_delivered_dc, battery_temp, received_at, kwh_register, register_event)
    SELECT ${prefix} || '-v9', ${ts}, 50, 0.2, 25, ${ts} + random() * interval '2 seconds', ${register}, ${event}
      FROM generate_series(0, ${count - 1}::int) n`.execute(db);
}

test.serial(
  'register readings are archived, read back and restored exactly: registers (text, scale) and events',
  async (t) => {
    const from = dayAgo(82);
    const to = from + DAY_MS;
    await insertOld('reg', from, to);
    await insertRegisters('reg', from, to);
    const before = { meter: await storedRows('meter', from, to), vehicle: await storedRows('vehicle', from, to) };
    const registers = before.meter.filter((r) => r.device === 'reg-m9');
    t.is(registers.length, 288);
    t.is(registers.filter((r) => r.kwhRegister !== null).length, 192);
    t.deepEqual(
      registers.filter((r) => r.registerEvent !== null).map((r) => [r.kwhRegister, r.registerEvent]),
      [
        ['1000.20', 'first'],
        ['0.40', 'reset'],
        ['999999999.123456789012345678', 'jump'],
      ],
    );

    // A register changed after the export, even only in its scale (the same number), is noticed
    // at the drop: the chunk stays and is exported again.
    const rescale = async () => {
      await sql`UPDATE meter_telemetry_history SET kwh_register = 1000.4
        WHERE meter_id = 'reg-m9' AND ts = ${iso(from + 2 * 5 * 60_000)}::timestamptz`.execute(db);
    };
    t.like(await job(store, { beforeDrop: rescale }).run(), { archived: 1, failed: 1 });
    const meterRow = (await manifest(from, to)).find((r) => r.hypertable === 'meter_telemetry_history')!;
    t.regex(meterRow.last_error!, /differs from its archive.*reg-m9/);
    before.meter = await storedRows('meter', from, to);
    t.is(
      before.meter.find((r) => r.device === 'reg-m9' && r.tsUs === (from + 10 * 60_000) * 1000)?.kwhRegister,
      '1000.4',
    );

    t.like(await job(store).run(), { archived: 1, failed: 0 });
    t.deepEqual(await storedRows('meter', from, to), []);
    t.deepEqual(await storedRows('vehicle', from, to), []);
    const summary = await db
      .selectFrom('archive_manifest')
      .select(['device_summary', 'schema_version'])
      .where('hypertable', '=', 'vehicle_telemetry_history')
      .where('range_start', '=', new Date(from))
      .executeTakeFirstOrThrow();
    t.is(summary.schema_version, 2);
    t.like(summary.device_summary!.devices['reg-v9'], { registers: 192, events: { first: 1, reset: 1, jump: 1 } });
    t.regex(summary.device_summary!.devices['reg-v9']!.registerDigest!, /^[0-9a-f]{64}$/);
    t.like(summary.device_summary!.devices['reg-v1'], { registers: 0, registerDigest: null });

    t.deepEqual(await archivedRows('meter', from, to), before.meter);
    t.deepEqual(await archivedRows('vehicle', from, to), before.vehicle);

    t.deepEqual(await restoreArchive(db, store, { stream: 'meter', from: new Date(from), to: new Date(to) }), {
      objects: 1,
      rows: before.meter.length,
      inserted: before.meter.length,
    });
    await restoreArchive(db, store, { stream: 'vehicle', from: new Date(from), to: new Date(to) });
    t.deepEqual(await storedRows('meter', from, to), before.meter);
    t.deepEqual(await storedRows('vehicle', from, to), before.vehicle);

    // After the hold, the database's summary of the restored chunks (registers included)
    // equals the manifest's, so they are dropped again without a new object.
    const counting = new TestStore(store);
    t.like(await job(counting).run(Date.now() + 8 * DAY_MS), { archived: 2, failed: 0 });
    t.deepEqual(counting.puts, []);
    t.deepEqual(await storedRows('meter', from, to), []);
  },
);
