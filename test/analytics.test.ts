import test from 'ava';
import { sql } from 'kysely';

import { loadFreshness } from '../src/aggregates/aggregate-freshness.js';
import { selectPerformance } from '../src/analytics/performance.repository.js';
import { planSegments } from '../src/analytics/window-plan.js';
import { JobScheduler } from '../src/jobs/job-scheduler.js';
import { createLogger } from '../src/logger.js';
import { HOUR_MS, MINUTE_MS } from '../src/time.js';
import { meterReading, startTestService, vehicleReading, type TestService } from './helpers/test-service.js';

let svc: TestService;
/** A whole hour 30 hours back: inside the refresh policy's window and far from "now". */
const anchor = Math.floor((Date.now() - 30 * HOUR_MS) / HOUR_MS) * HOUR_MS;
const at = (minutes: number) => new Date(anchor + minutes * MINUTE_MS);
const iso = (minutes: number) => at(minutes).toISOString();

test.before(async () => {
  svc = await startTestService();
});
test.after.always(async () => {
  await svc?.stop();
});

async function mapped(vehicleId: string, meterId: string) {
  const res = await svc.put(`/v1/vehicles/${vehicleId}/meter`, { meterId });
  if (res.status !== 200) throw new Error(`mapping failed: ${res.status}`);
}

async function performance(vehicleId: string, from: number, to: number) {
  return svc.get(
    `/v1/analytics/performance/${vehicleId}?from=${encodeURIComponent(iso(from))}&to=${encodeURIComponent(iso(to))}`,
  );
}

test('window edges: a reading at "from" counts, one at "to" does not; unaligned windows are exact', async (t) => {
  await mapped('an-edge', 'an-edge-m');
  // One reading a minute for 3 hours; AC 1 kWh and DC 0.9 kWh each, temperature = minute - 50.
  const minutes = Array.from({ length: 180 }, (_, i) => i);
  await svc.post(
    '/v1/ingestion/meter',
    minutes.map((m) => meterReading('an-edge-m', at(m), 1)),
  );
  await svc.post(
    '/v1/ingestion/vehicle',
    minutes.map((m) => vehicleReading('an-edge', at(m), 0.9, 20 + (m % 60), m - 50)),
  );

  const aligned = await performance('an-edge', 60, 120);
  t.is(aligned.status, 200);
  t.like(aligned.body, {
    vehicleId: 'an-edge',
    meterId: 'an-edge-m',
    window: { from: iso(60), to: iso(120) },
    acEnergyKwh: 60,
    dcEnergyKwh: 54,
    efficiencyRatio: 0.9,
    efficiencyStatus: 'normal',
    readings: { meter: 60, vehicle: 60 },
    socMin: 20,
    socMax: 79,
  });
  t.is(aligned.body.avgBatteryTempC, (60 + 119) / 2 - 50);
  t.deepEqual(aligned.body.coverage, { expectedReadings: 60, meter: 1, vehicle: 1 });

  // 00:17 to 02:43: a partial hour, a whole hour, a partial hour.
  const unaligned = await performance('an-edge', 17, 163);
  t.like(unaligned.body, { acEnergyKwh: 146, readings: { meter: 146, vehicle: 146 } });
  t.is(unaligned.body.dcEnergyKwh, 131.4);
  t.is(unaligned.body.avgBatteryTempC, (17 + 162) / 2 - 50);

  // Inside one hour; and across one hour boundary without a whole hour.
  t.like((await performance('an-edge', 5, 6)).body, { acEnergyKwh: 1, readings: { meter: 1, vehicle: 1 } });
  t.like((await performance('an-edge', 50, 70)).body, { acEnergyKwh: 20, readings: { meter: 20, vehicle: 20 } });
});

test('an empty window: zero energy, no efficiency, no temperature', async (t) => {
  await mapped('an-empty', 'an-empty-m');
  const res = await performance('an-empty', 0, 600);
  t.is(res.status, 200);
  t.like(res.body, {
    acEnergyKwh: 0,
    dcEnergyKwh: 0,
    efficiencyRatio: null,
    efficiencyStatus: 'no_data',
    avgBatteryTempC: null,
    socMin: null,
    socMax: null,
    readings: { meter: 0, vehicle: 0 },
    coverage: { expectedReadings: 600, meter: 0, vehicle: 0 },
  });
});

test('efficiency status: below 0.85 is low, above 1 implausible', async (t) => {
  await mapped('an-faulty', 'an-faulty-m');
  await svc.post('/v1/ingestion/meter', [meterReading('an-faulty-m', at(1), 10)]);
  await svc.post('/v1/ingestion/vehicle', [vehicleReading('an-faulty', at(1), 8)]);
  t.like((await performance('an-faulty', 0, 60)).body, { efficiencyRatio: 0.8, efficiencyStatus: 'low' });

  await mapped('an-swapped', 'an-swapped-m');
  await svc.post('/v1/ingestion/meter', [meterReading('an-swapped-m', at(1), 1)]);
  await svc.post('/v1/ingestion/vehicle', [vehicleReading('an-swapped', at(1), 2)]);
  t.like((await performance('an-swapped', 0, 60)).body, { efficiencyRatio: 2, efficiencyStatus: 'implausible' });
});

test('window validation: unknown vehicle 404, from >= to 400, over 31 days 400, bad dates 400', async (t) => {
  const unknown = await svc.get('/v1/analytics/performance/an-nobody');
  t.is(unknown.status, 404);
  t.is(unknown.body.error.code, 'vehicle_not_found');

  await mapped('an-valid', 'an-valid-m');
  const reversed = await performance('an-valid', 60, 0);
  t.is(reversed.status, 400);
  t.is(reversed.body.error.details[0].path, 'query.from');
  t.is((await performance('an-valid', 60, 60)).status, 400);
  t.is((await performance('an-valid', 0, 31 * 24 * 60 + 1)).status, 400);
  t.is((await performance('an-valid', 0, 31 * 24 * 60)).status, 200);

  const noZone = await svc.get('/v1/analytics/performance/an-valid?from=2026-01-01T00:00:00');
  t.is(noZone.status, 400);
  t.is(noZone.body.error.details[0].path, 'query.from');
});

test('defaults: "to" is now and "from" 24 hours before it', async (t) => {
  await mapped('an-default', 'an-default-m');
  const before = Date.now();
  const res = await svc.get('/v1/analytics/performance/an-default');
  t.is(res.status, 200);
  const to = Date.parse(res.body.window.to);
  t.true(to >= before && to <= Date.now());
  t.is(to - Date.parse(res.body.window.from), 24 * HOUR_MS);
  const onlyTo = await svc.get(`/v1/analytics/performance/an-default?to=${encodeURIComponent(iso(120))}`);
  t.is(onlyTo.body.window.from, new Date(anchor + 120 * MINUTE_MS - 24 * HOUR_MS).toISOString());
});

test.serial('a late reading for an hour already materialized is counted at once, with no refresh', async (t) => {
  await mapped('an-late', 'an-late-m');
  await svc.post('/v1/ingestion/meter', [meterReading('an-late-m', at(200), 1), meterReading('an-late-m', at(201), 1)]);
  // Materialize everything the refresh policies cover, as the embedded scheduler would.
  await new JobScheduler(svc.dbHandle.db, 60_000, createLogger('silent')).runDueJobs();
  const hour = { from: at(180).getTime(), to: at(240).getTime() };
  // How the hour of the AC side would be read: from the hourly aggregate or raw.
  const source = async () =>
    planSegments(hour, (await loadFreshness(svc.dbHandle.db, hour)).meter.usable).map((s) => s.source);
  t.deepEqual(await source(), ['hourly'], 'the hour is materialized and up to date');

  const late = await svc.post('/v1/ingestion/meter', [meterReading('an-late-m', at(202), 5)]);
  t.deepEqual(late.body, { accepted: 1, duplicates: 0 });
  // The hour is invalidated; so is its quarter 195-210 (quarters after it hold no data, so
  // they are above that aggregate's watermark): read raw from minute 195.
  t.deepEqual(await source(), ['quarter', 'raw'], 'the late reading invalidated its hour and quarter hour');
  t.like((await performance('an-late', 180, 240)).body, { acEnergyKwh: 7, readings: { meter: 3, vehicle: 0 } });
  // The next policy run re-materializes the hour; the figures stay the same.
  await new JobScheduler(svc.dbHandle.db, 60_000, createLogger('silent')).runDueJobs();
  t.deepEqual(await source(), ['hourly']);
  t.like((await performance('an-late', 180, 240)).body, { acEnergyKwh: 7, readings: { meter: 3, vehicle: 0 } });
});

test.serial(
  'late readings invalidate the hours they fall in, not the span between them (refresh cost follows readings)',
  async (t) => {
    await new JobScheduler(svc.dbHandle.db, 60_000, createLogger('silent')).runDueJobs();
    const log = async () =>
      (
        await sql<{ lo: number; hi: number }>`
        SELECT (l.lowest_modified_value / 1000)::float8 AS lo, (l.greatest_modified_value / 1000)::float8 AS hi
        FROM _timescaledb_catalog.continuous_aggs_hypertable_invalidation_log l
        JOIN _timescaledb_catalog.hypertable h ON h.id = l.hypertable_id
        WHERE h.table_name = 'meter_telemetry_history'`.execute(svc.dbHandle.db)
      ).rows;
    t.deepEqual(await log(), [], 'the jobs processed every invalidation');
    const now = Date.now();
    // Two devices in concurrent requests (one group-commit window), and one request mixing ages.
    await Promise.all([
      svc.post('/v1/ingestion/meter', [meterReading('an-cost-a', new Date(now - 20 * 24 * HOUR_MS))]),
      svc.post('/v1/ingestion/meter', [meterReading('an-cost-b', new Date(now - 90 * MINUTE_MS))]),
    ]);
    await svc.post('/v1/ingestion/meter', [
      meterReading('an-cost-c', new Date(now - 10 * 24 * HOUR_MS)),
      meterReading('an-cost-c', new Date(now - 3 * HOUR_MS)),
    ]);
    const ranges = await log();
    t.true(ranges.length >= 3, JSON.stringify(ranges));
    for (const range of ranges)
      t.true(range.hi - range.lo < HOUR_MS, `a range of ${(range.hi - range.lo) / HOUR_MS} h`);
  },
);

test('the plan reads only chunks that overlap the window', async (t) => {
  await mapped('an-plan', 'an-plan-m');
  // Ten days of hourly readings: ten daily chunks.
  const tenDays = Array.from({ length: 240 }, (_, i) =>
    meterReading('an-plan-m', new Date(anchor - 9 * 24 * HOUR_MS + i * HOUR_MS), 1),
  );
  await svc.post('/v1/ingestion/meter', tenDays);
  const from = new Date(anchor - 2 * 24 * HOUR_MS + 17 * MINUTE_MS);
  const to = new Date(anchor - 24 * HOUR_MS - 13 * MINUTE_MS);
  const everywhere = [{ from: -Infinity, to: Infinity }];
  const usable = { hourly: everywhere, quarter: everywhere };
  const segments = planSegments({ from: from.getTime(), to: to.getTime() }, usable);
  const parts = [{ segments, meterIds: ['an-plan-m'], group: 0 }];
  const rows = await selectPerformance(svc.dbHandle.db, 'an-plan', segments, parts).explain('json');
  const rawChunks = new Set(JSON.stringify(rows).match(/_hyper_1_\d+_chunk/g) ?? []);
  // The window spans two calendar days: at most those two daily chunks of the raw history.
  t.true(rawChunks.size >= 1 && rawChunks.size <= 2, `raw chunks in plan: ${[...rawChunks].join(', ')}`);
});
