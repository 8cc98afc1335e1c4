import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import test, { type ExecutionContext } from 'ava';
import { sql } from 'kysely';

import { ALL_AGGREGATE_VIEWS } from '../src/aggregates/aggregate-levels.js';
import { JobScheduler } from '../src/jobs/job-scheduler.js';
import { createLogger } from '../src/logger.js';
import { READING_BOUNDS } from '../src/telemetry/reading-bounds.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, QUARTER_HOUR_MS } from '../src/time.js';
import { seededRandom } from '../tools/simulator/random.js';
import { startTestService, type TestService } from './helpers/test-service.js';

/**
 * Property: whatever happened to the data, every performance, series and fleet answer
 * equals a brute-force computation over the readings that were acknowledged (first write of
 * each device and timestamp wins), at once after each 202. The generated history holds what
 * broke earlier designs: a fresh-database backfill of 8 days, late readings at any accepted
 * age (far older than a 3-day refresh window), requests mixing ages, duplicates with other
 * values, concurrent requests, values at the documented bounds (10,000 kWh, 5e-324 kWh),
 * invalid and too-old readings (refused, nothing stored), refresh patterns that leave gaps
 * below the watermark (a 3-day policy, isolated hours, one level only, long stalls),
 * compressed chunks receiving late readings, a restart, and days whose raw chunks retention
 * dropped (only the aggregates remember them; unaligned windows there are refused).
 */
const SEED = Number(process.env.PROPERTY_SEED ?? 20261128);
const VEHICLES = ['pv-0', 'pv-1', 'pv-2', 'pv-3'];
const meterOf = (vehicle: string) => `${vehicle}-m`;
/** The acceptance limit the default policies give (29-day refresh window less a day). */
const MAX_AGE_MS = 28 * DAY_MS;

interface Sent {
  device: string;
  ts: number;
  kwh: number;
  soc: number;
  temp: number;
}
type Stream = 'meter' | 'vehicle';

let svc: TestService;
let dataDir: string;
test.before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'ev-property-'));
  svc = await startTestService({ DATA_DIR: dataDir });
});
test.after.always(async () => {
  await svc?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

test('any history, any jobs, any window: every answer equals a brute-force sum over the acknowledged readings', async (t) => {
  const rnd = seededRandom(SEED);
  const pick = <T>(items: readonly T[]) => items[Math.floor(rnd() * items.length)]!;
  const now = Date.now();
  const stored: Record<Stream, Map<string, Sent>> = { meter: new Map(), vehicle: new Map() };
  const mapping = await svc.put(
    '/v1/mappings',
    VEHICLES.map((v) => ({ vehicleId: v, meterId: meterOf(v) })),
  );
  t.is(mapping.status, 200);

  // --- generators -------------------------------------------------------------------------
  const energy = () => {
    const r = rnd();
    if (r < 0.03) return READING_BOUNDS.kwhConsumedAc.max;
    if (r < 0.06) return 0;
    if (r < 0.08) return 5e-324;
    if (r < 0.1) return 1e-9;
    return Math.round(rnd() * 5000) / 1000;
  };
  /** Ages that matter: live, around the old 3-day window, compression, the acceptance limit, on hours. */
  const age = () => {
    const r = rnd();
    if (r < 0.2) return Math.floor(rnd() * 2 * HOUR_MS);
    if (r < 0.35) return 3 * DAY_MS + Math.floor((rnd() - 0.5) * 4 * HOUR_MS);
    if (r < 0.5) return 7 * DAY_MS + Math.floor((rnd() - 0.5) * 4 * HOUR_MS);
    if (r < 0.6) return MAX_AGE_MS - Math.floor(rnd() * 6 * HOUR_MS);
    if (r < 0.7) return Math.floor(rnd() * 27) * DAY_MS + Math.floor(rnd() * 24) * HOUR_MS;
    return Math.floor(rnd() * (MAX_AGE_MS - HOUR_MS));
  };
  /** The test runs for a minute or two: keep a margin from the acceptance limit. */
  const accepted = (ts: number) => Math.max(ts, now - MAX_AGE_MS + 30 * MINUTE_MS);
  const reading = (stream: Stream, vehicle: string, ts: number): Sent => ({
    device: stream === 'meter' ? meterOf(vehicle) : vehicle,
    ts,
    kwh: energy(),
    soc: rnd() < 0.1 ? pick([0, 100]) : Math.round(rnd() * 100),
    temp: rnd() < 0.1 ? pick([-50, 150]) : Math.round(rnd() * 600) / 10 - 10,
  });
  const body = (stream: Stream, rows: Sent[]) =>
    rows.map((r) =>
      stream === 'meter'
        ? {
            meterId: r.device,
            kwhConsumedAc: r.kwh,
            voltage: pick([0, 230, 1000]),
            timestamp: new Date(r.ts).toISOString(),
          }
        : {
            vehicleId: r.device,
            soc: r.soc,
            kwhDeliveredDc: r.kwh,
            batteryTemp: r.temp,
            timestamp: new Date(r.ts).toISOString(),
          },
    );

  // --- actions ----------------------------------------------------------------------------
  /** Posts one request; on 202 the oracle records what it stored (first write wins). */
  const send = async (stream: Stream, rows: Sent[]) => {
    const res = await svc.post(`/v1/ingestion/${stream}`, body(stream, rows));
    if (res.status !== 202) throw new Error(`ingest ${res.status}: ${JSON.stringify(res.body)}`);
    let duplicates = 0;
    const inRequest = new Set<string>();
    for (const row of rows) {
      const key = `${row.device}|${row.ts}`;
      if (stored[stream].has(key) || inRequest.has(key)) duplicates += 1;
      else stored[stream].set(key, row);
      inRequest.add(key);
    }
    t.is(res.body.duplicates, duplicates, `${stream} duplicates`);
  };
  const refused = async (stream: Stream, rows: Sent[], field: string) => {
    const res = await svc.post(`/v1/ingestion/${stream}`, body(stream, rows));
    t.is(res.status, 400, `refused ${field}`);
    t.true(
      res.body.error.details.some((d: { path: string }) => d.path.endsWith(field)),
      JSON.stringify(res.body),
    );
  };
  const runJobs = () => new JobScheduler(svc.dbHandle.maintenanceDb, 60_000, createLogger('silent')).runDueJobs();
  const refresh = async (view: string, from: number, to: number) => {
    await sql`CALL refresh_continuous_aggregate(${view}::regclass, ${new Date(from).toISOString()}::timestamptz,
      ${new Date(to).toISOString()}::timestamptz)`.execute(svc.dbHandle.maintenanceDb);
  };

  // --- checks -----------------------------------------------------------------------------
  const close = (actual: number, expected: number) => Math.abs(actual - expected) <= 1e-6 + 1e-12 * Math.abs(expected);
  const sums = (vehicle: string, from: number, to: number) => {
    const inWindow = (stream: Stream, device: string) =>
      [...stored[stream].values()].filter((r) => r.device === device && r.ts >= from && r.ts < to);
    const meters = inWindow('meter', meterOf(vehicle));
    const vehicles = inWindow('vehicle', vehicle);
    const total = (rows: Sent[], f: (r: Sent) => number) => rows.reduce((n, r) => n + f(r), 0);
    return {
      ac: total(meters, (r) => r.kwh),
      meterReadings: meters.length,
      dc: total(vehicles, (r) => r.kwh),
      vehicleReadings: vehicles.length,
      temp: vehicles.length > 0 ? total(vehicles, (r) => r.temp) / vehicles.length : null,
      socMin: vehicles.length > 0 ? Math.min(...vehicles.map((r) => r.soc)) : null,
      socMax: vehicles.length > 0 ? Math.max(...vehicles.map((r) => r.soc)) : null,
    };
  };
  /** Figures of a window (performance, a series point, a fleet row) against the oracle. */
  const matches = (
    c: ExecutionContext,
    figures: { acEnergyKwh: number; dcEnergyKwh: number; readings: { meter: number; vehicle: number } } & Record<
      string,
      unknown
    >,
    expected: ReturnType<typeof sums>,
    label: string,
  ) => {
    c.is(figures.readings.meter, expected.meterReadings, `${label} meter readings`);
    c.is(figures.readings.vehicle, expected.vehicleReadings, `${label} vehicle readings`);
    c.true(close(figures.acEnergyKwh, expected.ac), `${label} AC ${figures.acEnergyKwh} vs ${expected.ac}`);
    c.true(close(figures.dcEnergyKwh, expected.dc), `${label} DC ${figures.dcEnergyKwh} vs ${expected.dc}`);
    if (expected.temp === null) c.is(figures.avgBatteryTempC, null, label);
    else c.true(close(figures.avgBatteryTempC as number, expected.temp), `${label} temperature`);
  };
  const windowQuery = (from: number, to: number) =>
    `from=${encodeURIComponent(new Date(from).toISOString())}&to=${encodeURIComponent(new Date(to).toISOString())}`;
  /** Windows with edges on minutes, quarters, hours, days, milliseconds; up to 31 days. */
  const randomWindow = (lo: number, hi: number) => {
    const align = pick([1, MINUTE_MS, QUARTER_HOUR_MS, HOUR_MS, DAY_MS]);
    const from = Math.floor((lo + rnd() * (hi - lo)) / align) * align;
    const length = pick([rnd() * 2 * HOUR_MS, rnd() * 2 * DAY_MS, rnd() * 31 * DAY_MS]);
    const to = Math.min(from + Math.max(align, Math.floor(length / align) * align), from + 31 * DAY_MS, hi);
    return { from, to: to > from ? to : from + 1 };
  };
  let checks = 0;
  const checkPerformance = async (vehicle: string, from: number, to: number) => {
    const res = await svc.get(`/v1/analytics/performance/${vehicle}?${windowQuery(from, to)}`);
    const label = `performance ${vehicle} [${new Date(from).toISOString()}, ${new Date(to).toISOString()})`;
    t.is(res.status, 200, `${label}: ${JSON.stringify(res.body)}`);
    if (res.status !== 200) return;
    const expected = sums(vehicle, from, to);
    matches(t, res.body, expected, label);
    t.is(res.body.socMin, expected.socMin, label);
    t.is(res.body.socMax, expected.socMax, label);
    checks += 1;
  };
  const checkSeries = async (vehicle: string, from: number, to: number) => {
    const length = to - from;
    const bucket =
      length > 8 * DAY_MS
        ? '1d'
        : length > 2 * DAY_MS
          ? pick(['1h', '1d'] as const)
          : pick(['15m', '1h', '1d'] as const);
    const res = await svc.get(`/v1/analytics/performance/${vehicle}/series?${windowQuery(from, to)}&bucket=${bucket}`);
    t.is(res.status, 200, JSON.stringify(res.body));
    if (res.status !== 200) return;
    for (const point of res.body.points) {
      const label = `series ${bucket} ${vehicle} ${point.start}`;
      matches(t, point, sums(vehicle, Date.parse(point.start), Date.parse(point.end)), label);
    }
    checks += 1;
  };
  const checkFleet = async (from: number, to: number) => {
    const res = await svc.get(
      `/v1/analytics/fleet?${windowQuery(from, to)}&sort=${pick(['flagged', 'efficiency', 'vehicleId'])}`,
    );
    t.is(res.status, 200, JSON.stringify(res.body));
    if (res.status !== 200) return;
    t.is(res.body.items.length, VEHICLES.length);
    for (const item of res.body.items) matches(t, item, sums(item.vehicleId, from, to), `fleet ${item.vehicleId}`);
    checks += 1;
  };
  const checkSomething = async (lo = now - MAX_AGE_MS, hi = now + MINUTE_MS) => {
    const { from, to } = randomWindow(lo, hi);
    const r = rnd();
    if (r < 0.6) await checkPerformance(pick(VEHICLES), from, to);
    else if (r < 0.85) await checkSeries(pick(VEHICLES), from, to);
    else await checkFleet(from, to);
  };

  // --- 1. Days whose raw chunks retention drops: stored when young (directly: the API no
  // longer accepts them), materialized as the policies would have, then dropped. -----------
  const droppedFrom = Math.floor((now - 40 * DAY_MS) / DAY_MS) * DAY_MS;
  const droppedTo = droppedFrom + 6 * DAY_MS;
  const oldRows: Record<Stream, Sent[]> = { meter: [], vehicle: [] };
  for (let ts = droppedFrom; ts < droppedTo; ts += 10 * MINUTE_MS + Math.floor(rnd() * 5000)) {
    for (const stream of ['meter', 'vehicle'] as const) {
      const row = reading(stream, 'pv-3', ts);
      oldRows[stream].push(row);
      stored[stream].set(`${row.device}|${row.ts}`, row);
    }
  }
  const iso = (rows: Sent[]) => rows.map((r) => new Date(r.ts).toISOString());
  await sql`INSERT INTO meter_telemetry_history (meter_id, ts, kwh_consumed_ac, voltage)
    SELECT * FROM unnest(${oldRows.meter.map((r) => r.device)}::text[], ${iso(oldRows.meter)}::timestamptz[],
      ${oldRows.meter.map((r) => r.kwh)}::float8[], ${oldRows.meter.map(() => 230)}::float8[])`.execute(
    svc.dbHandle.db,
  );
  await sql`INSERT INTO vehicle_telemetry_history (vehicle_id, ts, soc, kwh_delivered_dc, battery_temp)
    SELECT * FROM unnest(${oldRows.vehicle.map((r) => r.device)}::text[], ${iso(oldRows.vehicle)}::timestamptz[],
      ${oldRows.vehicle.map((r) => r.soc)}::float8[], ${oldRows.vehicle.map((r) => r.kwh)}::float8[],
      ${oldRows.vehicle.map((r) => r.temp)}::float8[])`.execute(svc.dbHandle.db);
  for (const view of ALL_AGGREGATE_VIEWS) await refresh(view, droppedFrom, droppedTo);
  await runJobs(); // retention drops those chunks (older than 30 days), the rest materializes

  // --- 2. A fresh-database backfill: 8 days every 10 minutes for two vehicles, oldest first. ---
  for (const vehicle of ['pv-0', 'pv-1']) {
    for (const stream of ['meter', 'vehicle'] as const) {
      const rows: Sent[] = [];
      for (let ts = now - 8 * DAY_MS; ts < now; ts += 10 * MINUTE_MS) rows.push(reading(stream, vehicle, ts));
      for (let i = 0; i < rows.length; i += 500) await send(stream, rows.slice(i, i + 500));
    }
  }
  for (let i = 0; i < 15; i += 1) await checkSomething();

  // --- 3. Random events, each followed by a check of what was just acknowledged. ------------
  const events = [
    'late',
    'late',
    'late',
    'mixed',
    'duplicates',
    'concurrent',
    'invalid',
    'jobs',
    'oldPolicy',
    'isolatedHour',
    'oneLevel',
    'compress',
    'stall',
  ] as const;
  let restarted = false;
  for (let step = 0; step < 70; step += 1) {
    const event = pick(events);
    if (event === 'late' || event === 'mixed') {
      // 'late': readings of one age region; 'mixed': one request spanning every age.
      const stream = pick(['meter', 'vehicle'] as const);
      const vehicle = pick(VEHICLES);
      const base = age();
      const rows = Array.from({ length: 1 + Math.floor(rnd() * 30) }, () =>
        reading(stream, vehicle, accepted(now - (event === 'mixed' ? age() : base + Math.floor(rnd() * HOUR_MS)))),
      );
      await send(stream, rows);
      const newest = Math.max(...rows.map((r) => r.ts));
      await checkPerformance(vehicle, Math.min(...rows.map((r) => r.ts)) - HOUR_MS, newest + MINUTE_MS);
    } else if (event === 'duplicates') {
      // Stored keys sent again with other values: not stored again, counted as duplicates.
      const stream = pick(['meter', 'vehicle'] as const);
      const olds = [...stored[stream].values()].filter((r) => r.ts >= now - MAX_AGE_MS + HOUR_MS);
      const rows = Array.from({ length: 1 + Math.floor(rnd() * 20) }, () => ({ ...pick(olds), kwh: 99, temp: 99 }));
      await send(stream, rows);
    } else if (event === 'concurrent') {
      // Parallel requests with disjoint keys: the queue merges or separates them as it likes.
      const requests = VEHICLES.map((vehicle, i) => {
        const stream: Stream = i % 2 === 0 ? 'meter' : 'vehicle';
        const base = now - age();
        const rows = Array.from({ length: 20 }, (_, k) => reading(stream, vehicle, accepted(base - k * MINUTE_MS) - i));
        return { stream, rows };
      });
      await Promise.all(requests.map((r) => send(r.stream, r.rows)));
      await checkFleet(now - MAX_AGE_MS, now);
    } else if (event === 'invalid') {
      // One reading out of bounds or too old refuses the whole request; nothing is stored.
      const vehicle = pick(VEHICLES);
      const rows = [reading('meter', vehicle, accepted(now - age())), reading('meter', vehicle, accepted(now - age()))];
      const r = rnd();
      if (r < 0.33)
        await refused('meter', [...rows, { ...rows[0]!, ts: rows[0]!.ts + 1, kwh: 1e308 }], 'kwhConsumedAc');
      else if (r < 0.66)
        await refused('meter', [...rows, { ...rows[0]!, ts: rows[0]!.ts + 1, kwh: 10_000.001 }], 'kwhConsumedAc');
      else await refused('meter', [...rows, { ...rows[0]!, ts: now - MAX_AGE_MS - HOUR_MS }], 'timestamp');
      await checkPerformance(vehicle, Math.min(...rows.map((x) => x.ts)), Math.max(...rows.map((x) => x.ts)) + 1);
    } else if (event === 'jobs') {
      await runJobs();
    } else if (event === 'oldPolicy') {
      // What the 3-day policies did: materialize only the last 3 days.
      for (const view of ALL_AGGREGATE_VIEWS) await refresh(view, now - 3 * DAY_MS, now - HOUR_MS);
    } else if (event === 'isolatedHour') {
      const hour = Math.floor((now - age()) / HOUR_MS) * HOUR_MS;
      await refresh(pick(ALL_AGGREGATE_VIEWS), hour - HOUR_MS, hour + 2 * HOUR_MS);
    } else if (event === 'oneLevel') {
      // One level materialized over a random day, the other not.
      const day = Math.floor((now - age()) / DAY_MS) * DAY_MS;
      await refresh(pick(ALL_AGGREGATE_VIEWS), day, day + DAY_MS);
    } else if (event === 'compress') {
      for (const table of ['meter_telemetry_history', 'vehicle_telemetry_history']) {
        await sql`SELECT compress_chunk(c, if_not_compressed => true)
          FROM show_chunks(${table}::regclass, older_than => ${`${3 + Math.floor(rnd() * 5)} days`}::interval) c`.execute(
          svc.dbHandle.maintenanceDb,
        );
      }
    } else if (event === 'stall' && !restarted) {
      // The service stops (jobs and all) and comes back on the same data.
      restarted = true;
      await svc.stop();
      svc = await startTestService({ DATA_DIR: dataDir });
    }
    await checkSomething();
  }

  // --- 4. The dropped days: whole quarter hours and hours come from the aggregates, exact;
  // a window that would need the dropped raw rows is refused, not answered with a wrong sum. --
  for (let i = 0; i < 8; i += 1) {
    const align = pick([QUARTER_HOUR_MS, HOUR_MS, DAY_MS]);
    const from = Math.floor((droppedFrom + rnd() * 5 * DAY_MS) / align) * align;
    await checkPerformance('pv-3', from, from + align * (1 + Math.floor(rnd() * 20)));
  }
  const unaligned = droppedFrom + DAY_MS + 7 * MINUTE_MS;
  const refusal = await svc.get(`/v1/analytics/performance/pv-3?${windowQuery(unaligned, unaligned + DAY_MS)}`);
  t.is(refusal.status, 400);
  t.is(refusal.body.error.details[0].path, 'query.from');

  // --- 5. Everything materialized as the policies leave it: the same answers. --------------
  await runJobs();
  for (let i = 0; i < 25; i += 1) await checkSomething();
  t.log(`seed ${SEED}: ${checks} answers checked against ${stored.meter.size + stored.vehicle.size} readings`);
});
