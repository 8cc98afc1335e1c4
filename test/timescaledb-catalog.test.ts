import test from 'ava';
import { sql } from 'kysely';

import { assertCatalogSupported, checkCatalog } from '../src/timescaledb/timescaledb-catalog.repository.js';
import { embeddedOnly, serverUnderTest } from './helpers/test-database.js';
import { startTestService, type TestService } from './helpers/test-service.js';

/**
 * The service reads a few TimescaleDB internals (src/timescaledb/) and checks at start-up that
 * this server's catalog has them: on the embedded build, and on a server with TEST_DATABASE_URL
 * (2.28 on PostgreSQL 15, 2.29 on PostgreSQL 17: docs/production.md).
 */
let service: TestService;
test.before(async () => {
  service = await startTestService();
});
test.after.always(() => service?.stop());

test.serial('the catalog of this TimescaleDB is recognised, and analytics answer on it', async (t) => {
  const check = await checkCatalog(service.dbHandle.db);
  t.is(check.status, 'ok', JSON.stringify(check));
  if (check.status === 'ok') t.regex(check.version, /^2\.\d+\.\d+/);
  await service.put('/v1/vehicles/cat-ev/meter', { meterId: 'cat-meter' });
  const ts = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000).toISOString();
  t.is(
    (
      await service.post('/v1/ingestion/meter', {
        meterId: 'cat-meter',
        kwhConsumedAc: 1.5,
        voltage: 230,
        timestamp: ts,
      })
    ).status,
    202,
  );
  t.is(
    (
      await service.post('/v1/ingestion/vehicle', {
        vehicleId: 'cat-ev',
        soc: 50,
        kwhDeliveredDc: 1.2,
        batteryTemp: 30,
        timestamp: ts,
      })
    ).status,
    202,
  );
  const answer = await service.get('/v1/analytics/performance/cat-ev');
  t.is(answer.status, 200, JSON.stringify(answer.body));
  t.is(answer.body.acEnergyKwh, 1.5);
  t.is(answer.body.dcEnergyKwh, 1.2);
  t.is((await service.get('/readyz')).status, 200);
});

// Changing TimescaleDB's own catalog is only safe on a throw-away embedded database.
embeddedOnly('it alters TimescaleDB catalog tables', { serial: true })(
  'a catalog that lacks what the service reads: start-up refuses, /readyz says why naming the version, requests get 503',
  async (t) => {
    const db = service.dbHandle.db;
    await sql`ALTER TABLE _timescaledb_catalog.continuous_aggs_invalidation_threshold RENAME COLUMN watermark TO moved`.execute(
      db,
    );
    try {
      const check = await checkCatalog(db);
      t.is(check.status, 'unsupported');
      const error = await t.throwsAsync(assertCatalogSupported(db));
      t.regex(error.message, /TimescaleDB 2\.\d+\.\d+\S* is not supported/);
      t.regex(error.message, /_timescaledb_catalog\.continuous_aggs_invalidation_threshold\.watermark/);
      const ready = await service.get('/readyz');
      t.is(ready.status, 503);
      t.is(ready.body.error.code, 'not_ready');
      t.regex(ready.body.error.message, /continuous_aggs_invalidation_threshold\.watermark/);
      // A request meanwhile: the database is unusable for it (503 with Retry-After), not a 500.
      const analytics = await service.get('/v1/analytics/performance/cat-ev');
      t.is(analytics.status, 503, JSON.stringify(analytics.body));
      t.is(analytics.body.error.code, 'database_unavailable');
      t.truthy(analytics.headers.get('retry-after'));
    } finally {
      await sql`ALTER TABLE _timescaledb_catalog.continuous_aggs_invalidation_threshold RENAME COLUMN moved TO watermark`.execute(
        db,
      );
    }
    t.is((await service.get('/readyz')).status, 200);
  },
);

test(`runs against ${serverUnderTest ? 'the TimescaleDB server of TEST_DATABASE_URL' : 'the embedded TimescaleDB'}`, (t) => {
  t.pass();
});
