import test from 'ava';
import { sql } from 'kysely';
import postgres from 'postgres';

import { loadConfig } from '../src/config/config.js';
import { migrate } from '../src/db/migrate.js';
import { startEmbeddedDb, type EmbeddedDb } from '../src/embedded/embedded-db.js';
import { createLogger } from '../src/logger.js';
import { defaultProbe, type ReplicaProbe } from '../src/replicas/read-router.js';
import { startService, type RunningService } from '../src/runtime/api-process.js';
import { TEST_ADMIN_KEY, meterReading, minutesAgo, vehicleReading } from './helpers/test-service.js';

/**
 * Read replicas with two embedded databases: one is the primary, the other stands in for a
 * replica. It is not a standby (pg_is_in_recovery() is false, so the router reads it as up to
 * date, as documented) and it does not follow the primary: the two hold different data, so
 * every answer shows which one served it. Lag is simulated through the probe seam; a recovery
 * conflict through a view on the replica that raises the very error a standby raises.
 */
let primary: EmbeddedDb;
let replica: EmbeddedDb;
let svc: RunningService;

/** What the probe reports; the real probe (real SQL on both databases) unless a test says otherwise. */
const seam: { mode: 'real' | 'lagging' | 'unreachable' | 'catches-up'; polls: number } = { mode: 'real', polls: 0 };
const probe: ReplicaProbe = {
  fence: defaultProbe.fence,
  position: async (db, lsn, name) => {
    seam.polls += 1;
    if (seam.mode === 'lagging') return { inRecovery: true, reached: false, replayedAt: null };
    if (seam.mode === 'unreachable') throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    // A standby that replays the fence on the third look.
    if (seam.mode === 'catches-up') return { inRecovery: true, reached: seam.polls >= 3, replayedAt: new Date() };
    return defaultProbe.position(db, lsn, name);
  },
};

const MAX_LAG_MS = 300;
const auth = { authorization: `Bearer ${TEST_ADMIN_KEY}` };
const hour = minutesAgo(120);

async function request(method: string, path: string, body?: unknown) {
  const response = await fetch(svc.url + path, {
    method,
    headers: { ...auth, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

const metric = async (pattern: RegExp) => {
  const text = await (await fetch(`${svc.url}/metrics`)).text();
  const line = text.split('\n').find((l) => pattern.test(l));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
};

test.before(async () => {
  [primary, replica] = await Promise.all([
    startEmbeddedDb({ dataDir: undefined, host: '127.0.0.1', port: 0 }),
    startEmbeddedDb({ dataDir: undefined, host: '127.0.0.1', port: 0 }),
  ]);
  await Promise.all([migrate({ databaseUrl: primary.url }), migrate({ databaseUrl: replica.url })]);
  // The replica's own data (the embedded server takes one client: seed it before the service connects).
  const seed = postgres(replica.url, { max: 1, onnotice: () => undefined });
  try {
    await seed`INSERT INTO vehicle_live (vehicle_id, ts, soc, kwh_delivered_dc, battery_temp, received_at)
               VALUES ('only-on-replica', ${hour}, 42, 1, 30, now())`;
    await seed`INSERT INTO vehicle_meter_assignment (vehicle_id, meter_id, valid_from)
               VALUES ('only-on-replica', 'm-replica', '-infinity')`;
    // A standby cancels a query that holds back replay with exactly this SQLSTATE and message.
    await seed.unsafe(`
      CREATE FUNCTION recovery_conflict() RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        RAISE EXCEPTION 'canceling statement due to conflict with recovery' USING ERRCODE = '40001';
      END $$;
      ALTER TABLE vehicle_live RENAME TO vehicle_live_stored;
      CREATE VIEW vehicle_live AS
        SELECT * FROM vehicle_live_stored WHERE vehicle_id <> 'conflicted' OR recovery_conflict();
      INSERT INTO vehicle_live_stored (vehicle_id, ts, soc, kwh_delivered_dc, battery_temp, received_at)
        VALUES ('conflicted', now(), 1, 1, 1, now());
      ALTER TABLE vehicle_meter_assignment RENAME TO vehicle_meter_assignment_stored;
      CREATE VIEW vehicle_meter_assignment AS
        SELECT * FROM vehicle_meter_assignment_stored WHERE vehicle_id <> 'conflicted' OR recovery_conflict();
      INSERT INTO vehicle_meter_assignment_stored (vehicle_id, meter_id, valid_from)
        VALUES ('conflicted', 'm-conflicted', '-infinity');`);
  } finally {
    await seed.end();
  }
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    ADMIN_API_KEY: TEST_ADMIN_KEY,
    DATABASE_URL: primary.url,
    // Embedded databases serve one session each.
    DATABASE_POOL_MAX: '1',
    ANALYTICS_DATABASE_URL: replica.url,
    ANALYTICS_MAX_REPLICA_LAG_MS: String(MAX_LAG_MS),
  });
  svc = await startService(config, createLogger(config.logLevel), { replicaProbe: probe });
  // The primary's data: the same vehicle 'conflicted' and one the replica does not have.
  for (const [vehicleId, meterId] of [
    ['only-on-primary', 'm-primary'],
    ['conflicted', 'm-conflicted'],
  ] as const) {
    setupOk(await request('PUT', `/v1/vehicles/${vehicleId}/meter`, { meterId }));
    setupOk(await request('POST', '/v1/ingestion/meter', [meterReading(meterId, hour, 10)]));
    setupOk(await request('POST', '/v1/ingestion/vehicle', [vehicleReading(vehicleId, hour, 9)]));
  }
});

function setupOk(response: { status: number; body: unknown }) {
  if (response.status >= 300)
    throw new Error(`setup request failed: ${response.status} ${JSON.stringify(response.body)}`);
}

test.after.always(async () => {
  await svc?.stop();
  await Promise.all([primary?.stop(), replica?.stop()]);
});

test.serial(
  'live and analytics reads go to the replica and say so; writes, keys and mappings stay on the primary',
  async (t) => {
    seam.mode = 'real';
    t.false(svc.jobs?.runsPolicies ?? false, "with DATABASE_URL the service runs no policies: the server's workers do");
    const live = await request('GET', '/v1/vehicles/only-on-replica/live');
    t.is(live.status, 200);
    t.is(live.body.soc, 42);
    t.is(live.headers.get('x-data-source'), 'replica');
    t.regex(live.headers.get('x-replica-lag-ms') ?? '', /^\d+$/);
    const asOf = Date.parse(live.headers.get('x-data-as-of') ?? '');
    t.true(Math.abs(asOf - Date.now()) < 10_000, 'as of the fence, a moment ago');
    t.is((await request('GET', '/v1/vehicles/only-on-primary/live')).status, 404, 'the replica does not have it');

    const performance = await request('GET', '/v1/analytics/performance/only-on-replica');
    t.is(performance.status, 200);
    t.is(performance.body.meterId, 'm-replica');
    t.is(performance.headers.get('x-data-source'), 'replica');
    // The fleet reads every assignment, the replica's 'conflicted' one too, which raises a
    // recovery conflict there (see the last test): the primary answers the fleet.
    const fleet = await request('GET', '/v1/analytics/fleet');
    t.is(fleet.headers.get('x-data-source'), 'primary');
    t.deepEqual((fleet.body.items as { vehicleId: string }[]).map((item) => item.vehicleId).sort(), [
      'conflicted',
      'only-on-primary',
    ]);

    // The writes above (mapping, readings) and a new key are on the primary only.
    const onPrimary = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM vehicle_live WHERE vehicle_id = 'only-on-primary'`.execute(svc.dbHandle.db);
    t.is(onPrimary.rows[0]!.n, 1);
    const key = await request('POST', '/v1/keys', { name: 'reader', scopes: ['read'] });
    t.is(key.status, 201);
    const keyed = await fetch(`${svc.url}/v1/vehicles/only-on-replica/live`, {
      headers: { authorization: `Bearer ${String(key.body.key)}` },
    });
    t.is(keyed.status, 200, 'the key was checked on the primary, the read served by the replica');
    t.true((await metric(/^ev_replica_reads_total\{.*outcome="served"/)) >= 4);
  },
);

test.serial(
  'a replica that does not replay the fence in time is skipped for the primary, then skipped without waiting',
  async (t) => {
    seam.mode = 'lagging';
    const before = await metric(/^ev_replica_primary_fallbacks_total\{reason="lagging"\}/);
    const started = Date.now();
    const first = await request('GET', '/v1/vehicles/only-on-primary/live');
    const waited = Date.now() - started;
    t.is(first.status, 200);
    t.is(first.headers.get('x-data-source'), 'primary');
    t.is(first.headers.get('x-replica-lag-ms'), null);
    t.true(waited >= MAX_LAG_MS - 50, `waited ${waited} ms for the replica`);
    const polls = seam.polls;
    const second = await request('GET', '/v1/analytics/performance/only-on-primary');
    t.is(second.status, 200);
    t.is(second.body.meterId, 'm-primary');
    t.is(second.headers.get('x-data-source'), 'primary');
    t.is(seam.polls, polls, 'within the cool-down the replica is not even asked');
    t.is((await metric(/^ev_replica_primary_fallbacks_total\{reason="lagging"\}/)) - before, 2);
    const ready = await request('GET', '/readyz');
    t.is(ready.status, 200, 'a lagging replica does not make the service unready');
    t.like((ready.body.replicas as unknown[])[0], { status: 'lagging', lagMs: null });
    await new Promise((done) => setTimeout(done, MAX_LAG_MS + 20));
  },
);

test.serial('a replica read waits for the replica to replay the fence, and reports how long that took', async (t) => {
  seam.mode = 'catches-up';
  seam.polls = 0;
  const live = await request('GET', '/v1/vehicles/only-on-replica/live');
  t.is(live.status, 200);
  t.is(live.headers.get('x-data-source'), 'replica');
  t.is(seam.polls, 3);
  t.true(Number(live.headers.get('x-replica-lag-ms')) >= 2 + 4, 'two waits between three looks');
});

test.serial('an unreachable replica is skipped; the primary answers and /readyz still says ready', async (t) => {
  seam.mode = 'unreachable';
  const live = await request('GET', '/v1/vehicles/only-on-primary/live');
  t.is(live.status, 200);
  t.is(live.headers.get('x-data-source'), 'primary');
  t.true((await metric(/^ev_replica_primary_fallbacks_total\{reason="unreachable"\}/)) >= 1);
  const ready = await request('GET', '/readyz');
  t.is(ready.status, 200);
  t.like((ready.body.replicas as unknown[])[0], { status: 'unreachable', inRecovery: null });
  // A replica that did not answer is not asked again for the lag bound: reads do not wait on it.
  const polls = seam.polls;
  t.is((await request('GET', '/v1/vehicles/only-on-primary/live')).headers.get('x-data-source'), 'primary');
  t.is(seam.polls, polls, 'within the cool-down the unreachable replica is not asked');
  await new Promise((done) => setTimeout(done, MAX_LAG_MS + 50));
});

test.serial('a replica read cancelled by a recovery conflict is retried once on the primary, not a 500', async (t) => {
  seam.mode = 'real';
  const live = await request('GET', '/v1/vehicles/conflicted/live');
  t.is(live.status, 200);
  t.is(live.headers.get('x-data-source'), 'primary');
  t.is(live.body.soc, 50, "the primary's reading");
  // Inside the analytics' REPEATABLE READ transaction too.
  const performance = await request('GET', '/v1/analytics/performance/conflicted');
  t.is(performance.status, 200);
  t.is(performance.headers.get('x-data-source'), 'primary');
  t.is(performance.body.meterId, 'm-conflicted');
  // These two and the fleet page of the first test.
  t.is(await metric(/^ev_replica_primary_fallbacks_total\{reason="recovery_conflict"\}/), 3);
  const ready = await request('GET', '/readyz');
  t.like((ready.body.replicas as unknown[])[0], { status: 'ok', inRecovery: false });
});
