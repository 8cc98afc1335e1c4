import test from 'ava';
import { sql } from 'kysely';

import { restoreArchive } from '../src/archive/archive-restore.js';
import type { S3ObjectStore } from '../src/archive/object-store.js';
import type { Db } from '../src/db/database.js';
import { DAY_MS, HOUR_MS } from '../src/time.js';
import { startArchiveFixture, type ArchiveFixture } from './helpers/archive-fixture.js';
import { archiveHelpers, dayAgo, iso, TestStore } from './helpers/archive-helpers.js';
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

/**
 * Restoring archived readings and archiving register readings (test/archive.test.ts: the archive
 * run itself, its failures, crashes and leases).
 */

const { insertOld, insertRegisters, storedRows, archivedRows, manifest, job } = archiveHelpers(() => fixture);

test.serial(
  'restore puts archived readings back without duplicates; analytics answer the same; query by device',
  async (t) => {
    // Three days to archive and restore whole (as the archive run of test/archive.test.ts leaves them).
    const from = dayAgo(62);
    const to = from + 3 * DAY_MS;
    await insertOld('rs', from, to);
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
    // 3 days x 2 hypertables, and the 2 days of the analytics x 2.
    t.like(await job(store).run(), { archived: 10, failed: 0 });
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
