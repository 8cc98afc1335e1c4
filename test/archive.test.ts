import test from 'ava';
import { sql } from 'kysely';

import { ArchiveJob } from '../src/archive/archive-job.js';
import type { S3ObjectStore } from '../src/archive/object-store.js';
import type { Db } from '../src/db/database.js';
import { createLogger } from '../src/logger.js';
import { DAY_MS, HOUR_MS } from '../src/time.js';
import { startArchiveFixture, type ArchiveFixture } from './helpers/archive-fixture.js';
import { archiveHelpers, dayAgo, iso, PREFIX, TestStore } from './helpers/archive-helpers.js';
import type { TestService } from './helpers/test-service.js';

let fixture: ArchiveFixture;
let svc: TestService;
let db: Db;
let store: S3ObjectStore;

test.before(async () => {
  fixture = await startArchiveFixture();
  ({ svc, db, store } = fixture);
});

test.after.always(async () => {
  await fixture?.stop();
});

const { insertOld, storedRows, archivedRows, chunksOf, manifest, job } = archiveHelpers(() => fixture);
const logger = createLogger('silent');

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
