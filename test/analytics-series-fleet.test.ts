import test from 'ava';

import { JobScheduler } from '../src/jobs/job-scheduler.js';
import { createLogger } from '../src/logger.js';
import { HOUR_MS, MINUTE_MS } from '../src/time.js';
import {
  meterReading,
  startTestService,
  TEST_ADMIN_KEY,
  vehicleReading,
  type TestService,
} from './helpers/test-service.js';

/** A day boundary 30+ hours back, so windows cross days, hours and quarter hours. */
const anchor = Math.floor((Date.now() - 30 * HOUR_MS) / (24 * HOUR_MS)) * 24 * HOUR_MS - 24 * HOUR_MS;
const at = (minutes: number) => new Date(anchor + minutes * MINUTE_MS);
const iso = (minutes: number) => encodeURIComponent(at(minutes).toISOString());

let svc: TestService;
test.before(async () => {
  svc = await startTestService();
  // Vehicles with known efficiencies: AC 1 kWh/min; DC = ratio kWh/min; temperature 20 + i.
  const fleet = [
    { id: 'fl-a', ratio: 0.9 },
    { id: 'fl-b', ratio: 0.5 },
    { id: 'fl-c', ratio: 0.8 },
    { id: 'fl-d', ratio: 1.2 },
    { id: 'fl-e', ratio: 0.95 },
    { id: 'fl-f', ratio: 3 },
  ];
  const mappings = await svc.put('/v1/mappings', [
    ...fleet.map((v) => ({ vehicleId: v.id, meterId: `${v.id}-m` })),
    { vehicleId: 'fl-silent', meterId: 'fl-silent-m' },
  ]);
  if (mappings.status !== 200) throw new Error(JSON.stringify(mappings.body));
  // Minute 1410 to 1530: two hours around midnight (minute 1440).
  const minutes = Array.from({ length: 120 }, (_, i) => 1410 + i);
  for (const [i, v] of fleet.entries()) {
    await svc.post(
      '/v1/ingestion/meter',
      minutes.map((m) => meterReading(`${v.id}-m`, at(m), 1)),
    );
    await svc.post(
      '/v1/ingestion/vehicle',
      minutes.map((m) => vehicleReading(v.id, at(m), v.ratio, 50, 20 + i)),
    );
  }
  // Materialize part of it, as the policies would, so both materialized and real-time rows are read.
  await new JobScheduler(svc.dbHandle.db, 60_000, createLogger('silent')).runDueJobs();
});
test.after.always(async () => {
  await svc?.stop();
});

test('series: every bucket of the window, clipped at the edges, sums equal the window totals', async (t) => {
  const from = 1407;
  const to = 1533;
  const total = await svc.get(`/v1/analytics/performance/fl-a?from=${iso(from)}&to=${iso(to)}`);
  for (const bucket of ['15m', '1h', '1d'] as const) {
    const res = await svc.get(`/v1/analytics/performance/fl-a/series?from=${iso(from)}&to=${iso(to)}&bucket=${bucket}`);
    t.is(res.status, 200, bucket);
    const points = res.body.points as {
      start: string;
      end: string;
      acEnergyKwh: number;
      dcEnergyKwh: number;
      readings: { meter: number };
    }[];
    t.is(points[0]!.start, at(from).toISOString());
    t.is(points.at(-1)!.end, at(to).toISOString());
    for (let i = 1; i < points.length; i += 1) t.is(points[i]!.start, points[i - 1]!.end, `${bucket} contiguous`);
    const ac = points.reduce((sum, p) => sum + p.acEnergyKwh, 0);
    const dc = points.reduce((sum, p) => sum + p.dcEnergyKwh, 0);
    t.is(Math.round(ac * 1e6) / 1e6, total.body.acEnergyKwh, `${bucket} AC`);
    t.is(Math.round(dc * 1e6) / 1e6, total.body.dcEnergyKwh, `${bucket} DC`);
    t.is(res.body.bucket, bucket);
  }
  const quarter = await svc.get(`/v1/analytics/performance/fl-a/series?from=${iso(from)}&to=${iso(to)}&bucket=15m`);
  // 1407-1410 (clipped, before the first reading), 1410-1425, ... 1515-1530, 1530-1533 (after the last).
  t.is(quarter.body.points.length, 10);
  t.like(quarter.body.points[0], { end: at(1410).toISOString(), acEnergyKwh: 0, readings: { meter: 0, vehicle: 0 } });
  t.like(quarter.body.points[8], {
    start: at(1515).toISOString(),
    acEnergyKwh: 15,
    readings: { meter: 15, vehicle: 15 },
  });
  t.like(quarter.body.points[1], {
    start: at(1410).toISOString(),
    end: at(1425).toISOString(),
    acEnergyKwh: 15,
    dcEnergyKwh: 13.5,
    efficiencyRatio: 0.9,
  });
  const daily = await svc.get(`/v1/analytics/performance/fl-a/series?from=${iso(from)}&to=${iso(to)}&bucket=1d`);
  t.is(daily.body.points.length, 2, 'the window crosses midnight UTC');
  t.like(daily.body.points[0], { end: at(1440).toISOString(), acEnergyKwh: 30 });
});

test('series: empty buckets are zeros with no efficiency; unknown vehicle 404; bad bucket 400', async (t) => {
  const empty = await svc.get(`/v1/analytics/performance/fl-a/series?from=${iso(0)}&to=${iso(120)}`);
  t.is(empty.body.points.length, 2);
  t.like(empty.body.points[0], {
    acEnergyKwh: 0,
    dcEnergyKwh: 0,
    efficiencyRatio: null,
    efficiencyStatus: 'no_data',
    avgBatteryTempC: null,
  });
  t.is((await svc.get('/v1/analytics/performance/nobody/series')).body.error.code, 'vehicle_not_found');
  const old = new Date(Date.now() - 100 * 24 * HOUR_MS);
  const tooOld = await svc.get(
    `/v1/analytics/performance/fl-a/series?bucket=15m&from=${encodeURIComponent(old.toISOString())}&to=${encodeURIComponent(new Date(old.getTime() + HOUR_MS).toISOString())}`,
  );
  t.is(tooOld.status, 400, '15-minute buckets are kept 90 days');
  t.regex(tooOld.body.error.details[0].message, /90 days/);
  const bad = await svc.get(`/v1/analytics/performance/fl-a/series?bucket=5m`);
  t.is(bad.status, 400);
  t.deepEqual(
    bad.body.error.details.map((d: { path: string }) => d.path),
    ['query.bucket'],
  );
});

const window = `from=${iso(1400)}&to=${iso(1540)}`;

test('fleet: the same figures as the performance endpoint, lowest efficiency first, no-data last', async (t) => {
  const res = await svc.get(`/v1/analytics/fleet?${window}`);
  t.is(res.status, 200);
  t.deepEqual(
    res.body.items.map((i: { vehicleId: string }) => i.vehicleId),
    ['fl-b', 'fl-c', 'fl-a', 'fl-e', 'fl-d', 'fl-f', 'fl-silent'],
  );
  t.is(res.body.nextCursor, null);
  for (const item of res.body.items) {
    const single = await svc.get(`/v1/analytics/performance/${item.vehicleId}?${window}`);
    for (const key of [
      'acEnergyKwh',
      'dcEnergyKwh',
      'efficiencyRatio',
      'efficiencyStatus',
      'avgBatteryTempC',
      'readings',
    ]) {
      t.deepEqual(item[key], single.body[key], `${item.vehicleId} ${key}`);
    }
  }
  const b = res.body.items[0];
  t.like(b, {
    efficiencyRatio: 0.5,
    efficiencyStatus: 'low',
    live: { soc: 50, batteryTemp: 21, timestamp: at(1529).toISOString() },
  });
  t.is(res.body.items.at(-1).live, null, 'a vehicle that never reported has no live state');
  const desc = await svc.get(`/v1/analytics/fleet?${window}&sort=-efficiency`);
  t.deepEqual(
    desc.body.items.map((i: { vehicleId: string }) => i.vehicleId),
    ['fl-f', 'fl-d', 'fl-e', 'fl-a', 'fl-c', 'fl-b', 'fl-silent'],
  );
});

test('fleet: sort=flagged lists low (lowest first), then implausible (most implausible first), then normal', async (t) => {
  const res = await svc.get(`/v1/analytics/fleet?${window}&sort=flagged`);
  t.deepEqual(
    res.body.items.map((i: { vehicleId: string }) => i.vehicleId),
    ['fl-b', 'fl-c', 'fl-f', 'fl-d', 'fl-a', 'fl-e', 'fl-silent'],
  );
  t.deepEqual(
    res.body.items.map((i: { efficiencyStatus: string }) => i.efficiencyStatus),
    ['low', 'low', 'implausible', 'implausible', 'normal', 'normal', 'no_data'],
  );
});

test('fleet: a cursor is checked like any input (window rules, shape)', async (t) => {
  const forge = (cursor: object) => encodeURIComponent(Buffer.from(JSON.stringify(cursor)).toString('base64url'));
  const base = { sort: 'efficiency', belowThreshold: false, after: { key: 0.5, vehicleId: 'fl-b' } };
  const tooLong = await svc.get(
    `/v1/analytics/fleet?cursor=${forge({ ...base, from: '2000-01-01T00:00:00.000Z', to: '2030-01-01T00:00:00.000Z' })}`,
  );
  t.is(tooLong.status, 400);
  t.regex(tooLong.body.error.details[0].message, /31 days/);
  const empty = await svc.get(
    `/v1/analytics/fleet?cursor=${forge({ ...base, from: at(10).toISOString(), to: at(10).toISOString() })}`,
  );
  t.is(empty.status, 400);
  const badKey = await svc.get(
    `/v1/analytics/fleet?cursor=${forge({ ...base, from: at(0).toISOString(), to: at(60).toISOString(), after: { key: 'x', vehicleId: 'a' } })}`,
  );
  t.is(badKey.status, 400);
  t.is(badKey.body.error.details[0].path, 'query.cursor');
});

test('fleet: belowThreshold keeps only vehicles losing energy', async (t) => {
  const res = await svc.get(`/v1/analytics/fleet?${window}&belowThreshold=true`);
  t.deepEqual(
    res.body.items.map((i: { vehicleId: string }) => i.vehicleId),
    ['fl-b', 'fl-c'],
  );
  t.true(res.body.items.every((i: { efficiencyStatus: string }) => i.efficiencyStatus === 'low'));
});

test('fleet: cursor pages cover every vehicle once, in order, in every sort', async (t) => {
  for (const sort of ['efficiency', '-efficiency', 'flagged', 'vehicleId']) {
    const all = (await svc.get(`/v1/analytics/fleet?${window}&sort=${sort}`)).body.items.map(
      (i: { vehicleId: string }) => i.vehicleId,
    );
    const paged: string[] = [];
    let next = `/v1/analytics/fleet?${window}&sort=${sort}&limit=2`;
    for (let pages = 0; pages < 10; pages += 1) {
      const res = await svc.get(next);
      t.is(res.status, 200);
      paged.push(...res.body.items.map((i: { vehicleId: string }) => i.vehicleId));
      if (res.body.nextCursor === null) break;
      t.is(res.body.sort, sort);
      next = `/v1/analytics/fleet?limit=2&cursor=${encodeURIComponent(res.body.nextCursor)}`;
    }
    t.deepEqual(paged, all, sort);
  }
});

test('fleet: invalid input is refused with the field named', async (t) => {
  const cases: [string, string][] = [
    ['limit=0', 'query.limit'],
    ['limit=abc', 'query.limit'],
    ['sort=speed', 'query.sort'],
    ['belowThreshold=yes', 'query.belowThreshold'],
    ['cursor=garbage', 'query.cursor'],
    [`from=${iso(10)}&to=${iso(5)}`, 'query.from'],
  ];
  for (const [query, path] of cases) {
    const res = await svc.get(`/v1/analytics/fleet?${query}`);
    t.is(res.status, 400, query);
    t.true(
      res.body.error.details.some((d: { path: string }) => d.path === path),
      `${query}: ${JSON.stringify(res.body.error)}`,
    );
  }
  const first = await svc.get(`/v1/analytics/fleet?${window}&limit=1`);
  const mixed = await svc.get(`/v1/analytics/fleet?cursor=${encodeURIComponent(first.body.nextCursor)}&sort=vehicleId`);
  t.is(mixed.status, 400);
  t.is(mixed.body.error.details[0].path, 'query.sort');
});

test('fleet and series need the read scope', async (t) => {
  const ingestOnly = await svc.post('/v1/keys', { name: 'fl-ingest', scopes: ['ingest'] });
  const headers = { authorization: `Bearer ${ingestOnly.body.key}` };
  t.is((await svc.get('/v1/analytics/fleet', headers)).status, 403);
  t.is((await svc.get('/v1/analytics/performance/fl-a/series', headers)).status, 403);
  t.is((await svc.get('/v1/analytics/fleet', { authorization: `Bearer ${TEST_ADMIN_KEY}x` })).status, 401);
});
