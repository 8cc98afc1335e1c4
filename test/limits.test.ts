import test from 'ava';
import { sql } from 'kysely';

import { DAY_MS, HOUR_MS, MINUTE_MS } from '../src/time.js';
import { embeddedOnly } from './helpers/test-database.js';
import { meterReading, startTestService, vehicleReading, type TestService } from './helpers/test-service.js';

let svc: TestService;
test.before(async () => {
  svc = await startTestService({ DATABASE_STATEMENT_TIMEOUT_MS: '500' });
});
test.after.always(async () => {
  await svc?.stop();
});

const ago = (ms: number) => new Date(Date.now() - ms);

test.serial('every field has physical bounds: the API refuses beyond them, the database too', async (t) => {
  const edge = await svc.post('/v1/ingestion/meter', [meterReading('lim-edge', ago(MINUTE_MS), 10_000, 1_000)]);
  t.is(edge.status, 202, 'the bounds themselves are accepted');
  for (const [reading, field] of [
    [meterReading('lim-m', ago(MINUTE_MS), 1e308), 'kwhConsumedAc'],
    [meterReading('lim-m', ago(MINUTE_MS), 10_000.001), 'kwhConsumedAc'],
    [meterReading('lim-m', ago(MINUTE_MS), 1, 1_000.5), 'voltage'],
    [meterReading('lim-m', ago(MINUTE_MS), -0.001), 'kwhConsumedAc'],
  ] as const) {
    const res = await svc.post('/v1/ingestion/meter', [meterReading('lim-ok', ago(2 * MINUTE_MS)), reading]);
    t.is(res.status, 400, field);
    t.like(res.body.error.details[0], { index: 1, path: field });
    t.regex(res.body.error.details[0].message, /from -?\d+ to \d+/);
  }
  const dc = await svc.post('/v1/ingestion/vehicle', [vehicleReading('lim-v', ago(MINUTE_MS), 10_000.5)]);
  t.like(dc.body.error.details[0], { path: 'kwhDeliveredDc' });
  // Nothing of the refused requests was stored; the database refuses such values itself.
  const stored = await sql<{ n: number }>`
    SELECT count(*) AS n FROM meter_telemetry_history WHERE meter_id IN ('lim-ok', 'lim-m')`.execute(svc.dbHandle.db);
  t.is(stored.rows[0]!.n, 0);
  const direct = sql`INSERT INTO meter_telemetry_history (meter_id, ts, kwh_consumed_ac, voltage)
    VALUES ('lim-direct', now(), 1e308, 230)`.execute(svc.dbHandle.db);
  await t.throwsAsync(direct, { message: /meter_telemetry_history_bounds/ });
});

test.serial('an AC sum too small to show has no efficiency, and nobody gets a 500 (no ratio overflow)', async (t) => {
  await svc.put('/v1/vehicles/lim-tiny/meter', { meterId: 'lim-tiny-m' });
  await svc.post('/v1/ingestion/meter', [meterReading('lim-tiny-m', ago(10 * MINUTE_MS), 5e-324)]);
  await svc.post('/v1/ingestion/vehicle', [vehicleReading('lim-tiny', ago(10 * MINUTE_MS), 0.1)]);
  const one = await svc.get('/v1/analytics/performance/lim-tiny');
  t.is(one.status, 200);
  t.like(one.body, { acEnergyKwh: 0, dcEnergyKwh: 0.1, efficiencyRatio: null, efficiencyStatus: 'no_data' });
  for (const sort of ['efficiency', 'flagged', '-efficiency']) {
    const fleet = await svc.get(`/v1/analytics/fleet?sort=${sort}`);
    t.is(fleet.status, 200, sort);
    t.like(
      fleet.body.items.find((i: { vehicleId: string }) => i.vehicleId === 'lim-tiny'),
      { efficiencyRatio: null },
    );
  }
});

test.serial('the oldest accepted reading follows the policies in the database, with margins', async (t) => {
  // Default policies: raw retention 30 days, refresh windows 29 days: readings up to 28 days.
  t.is(svc.acceptance.maxAgeMs, 28 * DAY_MS);
  const inside = await svc.post('/v1/ingestion/meter', [meterReading('lim-age', ago(28 * DAY_MS - HOUR_MS))]);
  t.is(inside.status, 202);
  const outside = await svc.post('/v1/ingestion/meter', [meterReading('lim-age', ago(28 * DAY_MS + HOUR_MS))]);
  t.is(outside.status, 400);
  t.regex(outside.body.error.details[0].message, /older than 28 days/);

  // A DBA shortens the raw retention (and the refresh windows with it): the limit follows.
  const setPolicies = async (retention: string, refreshStart: string) => {
    for (const table of ['meter_telemetry_history', 'vehicle_telemetry_history']) {
      await sql`SELECT remove_retention_policy(${table}::regclass)`.execute(svc.dbHandle.db);
      await sql`SELECT add_retention_policy(${table}::regclass, drop_after => ${retention}::interval)`.execute(
        svc.dbHandle.db,
      );
    }
    await sql`SELECT alter_job(job_id, config => jsonb_set(config, '{start_offset}', to_jsonb(${refreshStart}::text)))
      FROM timescaledb_information.jobs WHERE proc_name = 'policy_refresh_continuous_aggregate'`.execute(
      svc.dbHandle.db,
    );
    await svc.acceptance.reload();
  };
  try {
    await setPolicies('10 days', '9 days');
    t.is(svc.acceptance.maxAgeMs, 8 * DAY_MS);
    const now = await svc.post('/v1/ingestion/meter', [meterReading('lim-age', ago(9 * DAY_MS))]);
    t.regex(now.body.error.details[0].message, /older than 8 days/);
  } finally {
    await setPolicies('30 days', '29 days');
  }
  t.is(svc.acceptance.maxAgeMs, 28 * DAY_MS);
});

test('the service answers with the keep-alive timeout a load balancer needs', async (t) => {
  const res = await fetch(`${svc.url}/healthz`);
  t.is(res.headers.get('keep-alive'), 'timeout=65');
});

embeddedOnly('it freezes the embedded database process', { serial: true })(
  'a hung database: requests get 503 within the statement timeout plus grace, and the service recovers',
  async (t) => {
    const pid = svc.embedded!.process.pid!;
    process.kill(pid, 'SIGSTOP');
    const safety = setTimeout(() => process.kill(pid, 'SIGCONT'), 20_000); // never leave it stopped
    try {
      const started = Date.now();
      const res = await svc.get('/v1/analytics/fleet');
      const waited = Date.now() - started;
      t.is(res.status, 503);
      t.is(res.body.error.code, 'database_unavailable');
      t.true(waited < 500 + 2_000 + 1_500, `answered after ${waited} ms`);
    } finally {
      clearTimeout(safety);
      process.kill(pid, 'SIGCONT');
    }
    for (let attempt = 0; ; attempt += 1) {
      const res = await svc.get('/v1/analytics/fleet');
      if (res.status === 200) break;
      if (attempt > 50) t.fail(`still ${res.status} after the database came back`);
      await new Promise((done) => setTimeout(done, 200));
    }
    t.pass();
  },
);
