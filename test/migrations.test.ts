import test from 'ava';
import postgres from 'postgres';

import { listMigrationNames, migrate } from '../src/db/migrate.js';
import { emptyDatabase } from './helpers/test-database.js';

/** An empty database: embedded, or a fresh one on the TEST_DATABASE_URL server. */
let edb: { url: string; drop: () => Promise<void> };
test.before(async () => {
  edb = await emptyDatabase();
});
test.after.always(async () => {
  await edb?.drop();
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
    'alert_evaluations',
    'alert_rules',
    'alerts',
    'api_keys',
    'archive_manifest',
    'archive_settings',
    'charge_point_connectors',
    'charge_point_transactions',
    'charge_points',
    'id_tokens',
    'meter_live',
    'meter_telemetry_15m',
    'meter_telemetry_history',
    'meter_telemetry_hourly',
    'stream_dead_letter',
    'stream_shard_lease',
    'unknown_id_tokens',
    'vehicle_live',
    'vehicle_meter_assignment',
    'vehicle_meter_assignment_audit',
    'vehicle_meter_mapping',
    'vehicle_telemetry_15m',
    'vehicle_telemetry_history',
    'vehicle_telemetry_hourly',
    'webhook_deliveries',
    'webhook_events',
    'webhooks',
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

test.serial(
  'mappings become assignments since the beginning; a shared meter goes to its vehicles in turn; down restores',
  async (t) => {
    const all = await listMigrationNames();
    const before = all.indexOf('1764201600008_meter_assignments');
    await retry(() => migrate({ databaseUrl: edb.url, direction: 'down' }));
    await retry(() => migrate({ databaseUrl: edb.url, count: before }));
    const query = async <T>(run: (sql: postgres.Sql) => Promise<T>) => {
      for (let attempt = 0; ; attempt += 1) {
        const sql = postgres(edb.url, { max: 1, onnotice: () => undefined });
        try {
          return await run(sql);
        } catch (error) {
          if (attempt > 20) throw error;
          await new Promise((done) => setTimeout(done, 100));
        } finally {
          await sql.end();
        }
      }
    };
    await query(
      (sql) => sql`INSERT INTO vehicle_meter_mapping (vehicle_id, meter_id, updated_at) VALUES
    ('mig-a', 'mig-m1', '2026-11-01T00:00:00Z'), ('mig-b', 'mig-m1', '2026-11-10T00:00:00Z'),
    ('mig-c', 'mig-m2', '2026-11-05T00:00:00Z')`,
    );
    await retry(() => migrate({ databaseUrl: edb.url }));
    const rows = await query(
      (sql) => sql<{ vehicle_id: string; meter_id: string; valid_from: string; valid_to: string }[]>`
      SELECT vehicle_id, meter_id, valid_from::text, valid_to::text FROM vehicle_meter_assignment ORDER BY vehicle_id`,
    );
    t.deepEqual(
      rows.map((r) => [r.vehicle_id, r.meter_id, r.valid_from, r.valid_to]),
      [
        ['mig-a', 'mig-m1', '-infinity', '2026-11-10 00:00:00+00'],
        ['mig-b', 'mig-m1', '2026-11-10 00:00:00+00', 'infinity'],
        ['mig-c', 'mig-m2', '-infinity', 'infinity'],
      ],
    );
    // Down to before 0008 (the later migrations first).
    await retry(() => migrate({ databaseUrl: edb.url, direction: 'down', count: all.length - before }));
    const restored = await query(
      (sql) => sql<{ vehicle_id: string; meter_id: string }[]>`
      SELECT vehicle_id, meter_id FROM vehicle_meter_mapping ORDER BY vehicle_id`,
    );
    t.deepEqual(
      restored.map((r) => [r.vehicle_id, r.meter_id]),
      [
        ['mig-a', 'mig-m1'],
        ['mig-b', 'mig-m1'],
        ['mig-c', 'mig-m2'],
      ],
      "each vehicle's assignment in force now, or else its latest: the original mappings",
    );
    await retry(() => migrate({ databaseUrl: edb.url }));
  },
);

test.serial('archive mode replaces the raw retention policy and back; migrating down restores retention', async (t) => {
  await retry(() => migrate({ databaseUrl: edb.url }));
  const run = async (statement: string) => {
    for (let attempt = 0; ; attempt += 1) {
      const sql = postgres(edb.url, { max: 1, onnotice: () => undefined });
      try {
        return await sql.unsafe(statement);
      } catch (error) {
        if (attempt > 20) throw error;
        await new Promise((done) => setTimeout(done, 100));
      } finally {
        await sql.end();
      }
    }
  };
  t.is((await inventory(edb.url)).jobs, 12);
  await run(`SELECT archive_mode_on('meter_telemetry_history', INTERVAL '30 days')`);
  await run(`SELECT archive_mode_on('vehicle_telemetry_history', INTERVAL '30 days')`);
  t.is((await inventory(edb.url)).jobs, 10);
  await run(`SELECT archive_mode_off('meter_telemetry_history', INTERVAL '30 days')`);
  t.is((await inventory(edb.url)).jobs, 11);
  // Down through the archive migration (and the ones after it, which leave the policies alone).
  const names = await listMigrationNames();
  const count = names.length - names.indexOf('1764201600011_archive');
  await retry(() => migrate({ databaseUrl: edb.url, direction: 'down', count }));
  t.is((await inventory(edb.url)).jobs, 12);
  await retry(() => migrate({ databaseUrl: edb.url }));
});

test.serial(
  'chain links are backfilled from the stored chains, and a stored 10 Wh dip is no longer a reset',
  async (t) => {
    const all = await listMigrationNames();
    const before = all.indexOf('1764201600012_register_chain_links');
    await retry(() => migrate({ databaseUrl: edb.url, direction: 'down' }));
    await retry(() => migrate({ databaseUrl: edb.url, count: before }));
    const query = async <T>(run: (sql: postgres.Sql) => Promise<T>) => {
      for (let attempt = 0; ; attempt += 1) {
        const sql = postgres(edb.url, { max: 1, onnotice: () => undefined });
        try {
          return await run(sql);
        } catch (error) {
          if (attempt > 20) throw error;
          await new Promise((done) => setTimeout(done, 100));
        } finally {
          await sql.end();
        }
      }
    };
    // A chain as the old rule stored it: 100, 100.995 (0.995), 100.99 (a 5 Wh dip: reset), 150 (a real reset from 200).
    await query(
      (
        sql,
      ) => sql`INSERT INTO meter_telemetry_history (meter_id, ts, kwh_consumed_ac, kwh_register, register_event, voltage)
      VALUES ('mig-r', '2026-11-01T00:00:00Z', 0, 100, 'first', 230), ('mig-r', '2026-11-01T00:01:00Z', 0.995, 100.995, NULL, 230),
             ('mig-r', '2026-11-01T00:02:00Z', 100.99, 100.99, 'reset', 230), ('mig-r', '2026-11-01T00:03:00Z', 99.01, 200, NULL, 230),
             ('mig-r', '2026-11-01T00:04:00Z', 150, 150, 'reset', 230), ('mig-r', '2026-11-01T00:05:00Z', 2, NULL, NULL, 230)`,
    );
    await query(
      (sql) => sql`INSERT INTO meter_live (meter_id, ts, kwh_consumed_ac, kwh_register, voltage, received_at)
      VALUES ('mig-r', '2026-11-01T00:02:00Z', 100.99, 100.99, 230, now())`,
    );
    await retry(() => migrate({ databaseUrl: edb.url }));
    const rows = await query(
      (sql) => sql<
        { minute: number; kwh: number; event: string | null; previous: string | null; register: string | null }[]
      >`
      SELECT extract(minute FROM ts)::int AS minute, kwh_consumed_ac AS kwh, register_event AS event,
             to_char(previous_ts AT TIME ZONE 'UTC', 'MI') AS previous, previous_register::text AS register
      FROM meter_telemetry_history WHERE meter_id = 'mig-r' ORDER BY ts`,
    );
    t.deepEqual(
      rows.map((r) => [r.minute, r.kwh, r.event, r.previous, r.register]),
      [
        [0, 0, 'first', null, null],
        [1, 0.995, null, '00', '100'],
        [2, 0, null, '01', '100.995'],
        [3, 99.01, null, '02', '100.99'],
        [4, 150, 'reset', '03', '200'],
        [5, 2, null, null, null],
      ],
    );
    const live = await query(
      (sql) => sql<{ kwh: number }[]>`SELECT kwh_consumed_ac AS kwh FROM meter_live WHERE meter_id = 'mig-r'`,
    );
    t.is(live[0]!.kwh, 0);
    await query((sql) => sql`DELETE FROM meter_telemetry_history WHERE meter_id = 'mig-r'`);
    await query((sql) => sql`DELETE FROM meter_live WHERE meter_id = 'mig-r'`);
  },
);
