import test from 'ava';
import postgres from 'postgres';

import { listMigrationNames, migrate } from '../src/db/migrate.js';
import { startEmbeddedDb, type EmbeddedDb } from '../src/embedded/embedded-db.js';

let edb: EmbeddedDb;
test.before(async () => {
  edb = await startEmbeddedDb({ dataDir: undefined, host: '127.0.0.1', port: 0 });
});
test.after.always(async () => {
  await edb?.stop();
});

/** Our objects in the database: tables, views, policies. Each query on a fresh connection. */
async function inventory(url: string) {
  // The embedded server takes one client at a time; retry while the last one detaches.
  for (let attempt = 0; ; attempt += 1) {
    const sql = postgres(url, { max: 1, onnotice: () => undefined });
    try {
      const relations = await sql<{ name: string }[]>`
        SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'm') AND c.relname <> 'pgmigrations'
        ORDER BY 1`;
      const jobs = await sql<
        { n: number }[]
      >`SELECT count(*)::int AS n FROM timescaledb_information.jobs WHERE job_id >= 1000`;
      return { relations: relations.map((r) => r.name), jobs: jobs[0]!.n };
    } catch (error) {
      if (attempt > 20) throw error;
      await new Promise((done) => setTimeout(done, 100));
    } finally {
      await sql.end();
    }
  }
}

test.serial('migrates up from empty, down to empty, up again; a second up is a no-op', async (t) => {
  const all = await listMigrationNames();
  t.true(all.length >= 5);
  const up = await migrate({ databaseUrl: edb.url });
  t.deepEqual(
    up.map((m) => m.name),
    all,
  );
  const afterUp = await inventory(edb.url);
  t.deepEqual(afterUp.relations, [
    'api_keys',
    'meter_live',
    'meter_telemetry_15m',
    'meter_telemetry_history',
    'meter_telemetry_hourly',
    'vehicle_live',
    'vehicle_meter_mapping',
    'vehicle_telemetry_15m',
    'vehicle_telemetry_history',
    'vehicle_telemetry_hourly',
  ]);
  // 2 compression + 2 raw retention + 2 x 2 refresh + 2 x 2 aggregate retention policies.
  t.is(afterUp.jobs, 12);

  const again = await retry(() => migrate({ databaseUrl: edb.url }));
  t.is(again.length, 0);

  const down = await retry(() => migrate({ databaseUrl: edb.url, direction: 'down' }));
  t.is(down.length, all.length);
  t.deepEqual(await inventory(edb.url), { relations: [], jobs: 0 });

  const upAgain = await retry(() => migrate({ databaseUrl: edb.url }));
  t.is(upAgain.length, all.length);
  t.deepEqual(await inventory(edb.url), afterUp);
});

async function retry<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await fn();
    } catch (error) {
      if (attempt > 20) throw error;
      await new Promise((done) => setTimeout(done, 100));
    }
  }
}
