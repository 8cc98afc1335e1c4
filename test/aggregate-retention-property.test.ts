import test from 'ava';
import { sql } from 'kysely';

import { ALL_AGGREGATE_VIEWS, AGGREGATE_VIEWS, BUCKET_MS } from '../src/aggregates/aggregate-levels.js';
import { JobScheduler } from '../src/jobs/job-scheduler.js';
import { createLogger } from '../src/logger.js';
import { writeBatch } from '../src/telemetry/batch-writer.js';
import type { MeterReading, VehicleReading } from '../src/telemetry/reading.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, QUARTER_HOUR_MS } from '../src/time.js';
import { seededRandom } from '../tools/simulator/random.js';
import { startTestService, type TestService } from './helpers/test-service.js';

/**
 * Property (issue 23 item 2): every aggregate level keeps its own history (raw 30 days, quarter
 * hours 90 days, hours 2 years: migrations/*policies*.sql, *quarter_hour_aggregates.sql), and a
 * window reaching past what a level keeps is answered exactly from what remains, or refused.
 *
 * Generated: histories at random instants around each retention edge (raw 26-34 days, quarter
 * hours 84-97 days, hours 724-738 days) and recent ones, written as they arrived when young
 * (directly: the API no longer accepts them), materialized as the policies would have (random
 * sub-ranges, random order of views), then TimescaleDB's retention policies run: raw chunks older
 * than 30 days go, and each aggregate's own chunks past its retention. Then random windows
 * (milliseconds, minutes, quarter hours, hours, days; inside, across and outside the dropped
 * ranges) on performance, series and fleet.
 *
 * The oracle, per window: either `200` whose `window` is the one asked for and whose figures
 * equal the brute-force sum over every reading sent in it, or `400 validation_failed` on
 * `query.from` saying what was dropped. Never a 200 with a silent zero or an undercount. Which of
 * the two is also checked, by brute force over what is left in the database (the chunks each
 * level still has, read in the test): a window is answerable exactly when each of its parts
 * before the oldest raw chunk lies in a whole hour of the window kept by the hourly aggregate or
 * in a whole quarter hour kept by the quarter-hour one (a 15-minute series: quarter hours only).
 */
const SEED = Number(process.env.PROPERTY_SEED ?? 20261204);
const PAIRS = 2;
/** Age ranges (days) of the generated histories: recent, and around each retention edge. */
const CLUSTERS = [
  { name: 'recent', fromDays: 2, toDays: 0.05 },
  { name: 'raw edge', fromDays: 34, toDays: 26 },
  { name: 'quarter edge', fromDays: 97, toDays: 84 },
  { name: 'hourly edge', fromDays: 738, toDays: 724 },
] as const;

let svc: TestService;
test.before(async () => {
  svc = await startTestService();
});
test.after.always(async () => {
  await svc?.stop();
});

type Stream = 'meter' | 'vehicle';
interface Sent {
  stream: Stream;
  device: string;
  ts: number;
  wh: number;
}

test('windows past each aggregate level retention: exact from what remains, or refused with why; never a silent zero', async (t) => {
  const rnd = seededRandom(SEED);
  const pick = <T>(items: readonly T[]) => items[Math.floor(rnd() * items.length)]!;
  const now = Date.now();
  const db = svc.dbHandle.maintenanceDb;
  const runJobs = () => new JobScheduler(db, 60_000, createLogger('silent')).runDueJobs();
  const vehicles = Array.from({ length: PAIRS }, (_, k) => `ar-v${k}`);
  const meterOf = (vehicle: string) => `${vehicle}-m`;
  t.is(
    (
      await svc.put(
        '/v1/mappings',
        vehicles.map((v) => ({ vehicleId: v, meterId: meterOf(v) })),
      )
    ).status,
    200,
  );

  // --- generation: sparse and dense stretches in every cluster, per device ---------------------
  const sent: Sent[] = [];
  for (const vehicle of vehicles) {
    for (const [stream, device] of [
      ['meter', meterOf(vehicle)],
      ['vehicle', vehicle],
    ] as const) {
      for (const cluster of CLUSTERS) {
        const end = now - cluster.toDays * DAY_MS;
        for (let ts = now - cluster.fromDays * DAY_MS + Math.floor(rnd() * HOUR_MS); ts < end;) {
          sent.push({ stream, device, ts, wh: Math.floor(rnd() * 5_000) });
          const gap = rnd();
          ts +=
            gap < 0.03
              ? Math.floor(rnd() * 3 * DAY_MS)
              : gap < 0.5
                ? 1 + Math.floor(rnd() * 20 * MINUTE_MS)
                : 1 + Math.floor(rnd() * 4 * HOUR_MS);
        }
      }
    }
  }

  // --- 1. written when young, as they arrived; materialized as the policies would have -----------
  const asReading = (a: Sent): MeterReading | VehicleReading =>
    a.stream === 'meter'
      ? {
          meterId: a.device,
          kwhConsumedAc: a.wh / 1000,
          kwhConsumedAcTotal: null,
          voltage: 230,
          timestamp: new Date(a.ts),
        }
      : {
          vehicleId: a.device,
          soc: 50,
          kwhDeliveredDc: a.wh / 1000,
          kwhDeliveredDcTotal: null,
          batteryTemp: 30,
          timestamp: new Date(a.ts),
        };
  const ordered = [...sent].sort((a, b) => a.ts - b.ts);
  for (let i = 0; i < ordered.length;) {
    const slice = ordered.slice(i, (i += 1 + Math.floor(rnd() * 400)));
    await writeBatch(svc.dbHandle.db, {
      meter: slice.filter((a) => a.stream === 'meter').map(asReading) as MeterReading[],
      vehicle: slice.filter((a) => a.stream === 'vehicle').map(asReading) as VehicleReading[],
    });
  }
  // Every cluster refreshed over random sub-ranges that cover it, views in random order.
  const refreshes: { view: string; from: number; to: number }[] = [];
  for (const cluster of CLUSTERS) {
    const from = Math.floor((now - cluster.fromDays * DAY_MS) / DAY_MS) * DAY_MS;
    const to = Math.min(Math.ceil((now - cluster.toDays * DAY_MS) / HOUR_MS) * HOUR_MS, now - HOUR_MS);
    for (const view of ALL_AGGREGATE_VIEWS) {
      for (let cursor = from; cursor < to;) {
        const next = Math.min(to, cursor + (1 + Math.floor(rnd() * 8)) * DAY_MS);
        refreshes.push({ view, from: cursor, to: next });
        cursor = next;
      }
    }
  }
  for (let i = refreshes.length - 1; i > 0; i -= 1) {
    const j = Math.floor(rnd() * (i + 1));
    [refreshes[i], refreshes[j]] = [refreshes[j]!, refreshes[i]!];
  }
  for (const { view, from, to } of refreshes) {
    await sql`CALL refresh_continuous_aggregate(${view}::regclass, ${new Date(from).toISOString()}::timestamptz,
      ${new Date(to).toISOString()}::timestamptz)`.execute(db);
  }

  // --- 2. the policies: raw retention (30 days), quarter hours (90 days), hours (2 years) ---------
  await runJobs();
  /** Start of the oldest chunk of each relation, read from TimescaleDB's public chunk listing. */
  const oldestChunks = async () => {
    const rows = await sql<{ relation: string; start: Date; end: Date }>`
      SELECT v.relation, min(c.range_start) AS start, min(c.range_end) AS end
        FROM (SELECT hypertable_name::text AS relation, hypertable_name AS h FROM timescaledb_information.hypertables
              UNION ALL
              SELECT view_name::text, materialization_hypertable_name FROM timescaledb_information.continuous_aggregates) v
        JOIN timescaledb_information.chunks c ON c.hypertable_name = v.h
       GROUP BY v.relation`.execute(db);
    return new Map(rows.rows.map((r) => [r.relation, { start: r.start.getTime(), end: r.end.getTime() }]));
  };
  const chunks = await oldestChunks();
  const oldest = (relation: string) => chunks.get(relation)?.start ?? Infinity;
  for (const [relation, keptDays] of [
    ['meter_telemetry_history', 30],
    ['vehicle_telemetry_history', 30],
    [AGGREGATE_VIEWS.quarter.meter, 90],
    [AGGREGATE_VIEWS.quarter.vehicle, 90],
    [AGGREGATE_VIEWS.hourly.meter, 731],
    [AGGREGATE_VIEWS.hourly.vehicle, 731],
  ] as const) {
    const chunk = chunks.get(relation);
    t.truthy(chunk, `${relation} has chunks`);
    t.true(chunk!.end > now - keptDays * DAY_MS, `${relation}: its retention dropped its old chunks`);
    t.true(chunk!.start <= now - (keptDays - 1) * DAY_MS, `${relation}: it keeps its history up to its retention`);
    t.log(`${relation}: oldest chunk [${new Date(chunk!.start).toISOString()}, ${new Date(chunk!.end).toISOString()})`);
  }

  // --- 3. the oracle ------------------------------------------------------------------------------
  const sum = (stream: Stream, device: string, from: number, to: number) => {
    const inside = sent.filter((a) => a.stream === stream && a.device === device && a.ts >= from && a.ts < to);
    return { kwh: inside.reduce((n, a) => n + a.wh, 0) / 1000, readings: inside.length };
  };
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 + 1e-12 * Math.abs(b);
  /**
   * Whether [from, to) can be answered exactly from what the database holds: before the oldest
   * raw chunk (and before the raw retention), every instant must lie in a whole bucket of the
   * window at or after the oldest chunk of a level the request may read.
   */
  const answerable = (from: number, to: number, levels: readonly ('hourly' | 'quarter')[]) =>
    (['meter', 'vehicle'] as const).every((stream) => {
      const rawFrom = Math.min(oldest(`${stream}_telemetry_history`), Date.now() - 30 * DAY_MS);
      const covered = levels
        .map((level) => {
          const bucket = BUCKET_MS[level];
          const keptFrom = Math.max(from, oldest(AGGREGATE_VIEWS[level][stream]));
          return { from: Math.ceil(keptFrom / bucket) * bucket, to: Math.floor(to / bucket) * bucket };
        })
        .filter((span) => span.from < span.to)
        .sort((a, b) => a.from - b.from);
      let cursor = from;
      for (const span of covered) if (span.from <= cursor) cursor = Math.max(cursor, span.to);
      return cursor >= Math.min(to, rawFrom);
    });
  const iso = (ms: number) => new Date(ms).toISOString();
  const windowQuery = (from: number, to: number) =>
    `from=${encodeURIComponent(iso(from))}&to=${encodeURIComponent(iso(to))}`;
  const tally = { answered: 0, refused: 0, answeredPastQuarter: 0, refusedWithReadings: 0 };

  /** The response is the exact answer for the window asked, or the refusal that says why. */
  const check = async (
    path: string,
    from: number,
    to: number,
    levels: readonly ('hourly' | 'quarter')[],
    figures: (body: any) => { vehicle: string; from: number; to: number; body: any }[], // eslint-disable-line @typescript-eslint/no-explicit-any
  ) => {
    const res = await svc.get(`${path}${path.includes('?') ? '&' : '?'}${windowQuery(from, to)}`);
    const label = `${path} [${iso(from)}, ${iso(to)})`;
    const expectAnswer = answerable(from, to, levels);
    if (res.status === 400) {
      t.false(expectAnswer, `${label}: refused though what it needs is kept: ${JSON.stringify(res.body)}`);
      t.is(res.body.error.code, 'validation_failed', label);
      t.is(res.body.error.details[0].path, 'query.from', label);
      // It says why, and what remains: the instants from which each level keeps its buckets.
      const message: string = res.body.error.details[0].message;
      const remains = (['meter', 'vehicle'] as const).some(
        (stream) =>
          message.includes(`whole hours from ${iso(oldest(AGGREGATE_VIEWS.hourly[stream]))}`) &&
          message.includes(`whole quarter hours from ${iso(oldest(AGGREGATE_VIEWS.quarter[stream]))}`),
      );
      t.true(
        (/retention dropped the raw readings/.test(message) && remains) ||
          /quarter-hour detail is kept 90 days/.test(message),
        `${label}: ${message}`,
      );
      tally.refused += 1;
      const readings = vehicles.some(
        (v) => sum('meter', meterOf(v), from, to).readings + sum('vehicle', v, from, to).readings > 0,
      );
      if (readings) tally.refusedWithReadings += 1;
      return;
    }
    t.is(res.status, 200, `${label}: ${JSON.stringify(res.body)}`);
    if (res.status !== 200) return;
    t.true(expectAnswer, `${label}: answered though part of it is gone from every level`);
    t.deepEqual(res.body.window, { from: iso(from), to: iso(to) }, `${label}: says what it covers`);
    t.is(res.body.requestedWindow, undefined, label);
    for (const part of figures(res.body)) {
      const ac = sum('meter', meterOf(part.vehicle), part.from, part.to);
      const dc = sum('vehicle', part.vehicle, part.from, part.to);
      const at = `${label} ${part.vehicle} [${iso(part.from)}, ${iso(part.to)})`;
      t.true(close(part.body.acEnergyKwh, ac.kwh), `${at} AC ${part.body.acEnergyKwh} vs ${ac.kwh}`);
      t.true(close(part.body.dcEnergyKwh, dc.kwh), `${at} DC ${part.body.dcEnergyKwh} vs ${dc.kwh}`);
      t.deepEqual(part.body.readings, { meter: ac.readings, vehicle: dc.readings }, at);
    }
    tally.answered += 1;
    if (from < now - 90 * DAY_MS) tally.answeredPastQuarter += 1;
  };

  // --- 4. random windows around every cluster ---------------------------------------------------
  const WINDOWS = Number(process.env.PROPERTY_WINDOWS ?? 120);
  for (let w = 0; w < WINDOWS; w += 1) {
    const cluster = pick(CLUSTERS);
    const align = pick([1, MINUTE_MS, QUARTER_HOUR_MS, HOUR_MS, HOUR_MS, DAY_MS]);
    const lo = now - (cluster.fromDays + 4) * DAY_MS;
    const hi = now - Math.max(0, cluster.toDays - 4) * DAY_MS;
    const from = Math.floor((lo + rnd() * (hi - lo)) / align) * align;
    const length = pick([rnd() * 3 * HOUR_MS, rnd() * 2 * DAY_MS, rnd() * 31 * DAY_MS]);
    // Edges: both on the grid, or one of them off it (a quarter or hour window with a ragged end).
    const to = Math.min(from + Math.max(align, Math.floor(length / align) * align), from + 31 * DAY_MS);
    const ragged = rnd() < 0.2 ? Math.floor(rnd() * QUARTER_HOUR_MS) : 0;
    const vehicle = pick(vehicles);
    const r = rnd();
    if (r < 0.6) {
      await check(`/v1/analytics/performance/${vehicle}`, from, to - ragged, ['hourly', 'quarter'], (body) => [
        { vehicle, from, to: to - ragged, body },
      ]);
    } else if (r < 0.85) {
      const span = to - ragged - from;
      const bucket = span > 8 * DAY_MS ? '1d' : span > 2 * DAY_MS ? pick(['1h', '1d']) : pick(['15m', '1h', '1d']);
      // A 15-minute series reads quarter hours only, and none older than their retention.
      const levels = bucket === '15m' ? (['quarter'] as const) : (['hourly', 'quarter'] as const);
      const tooOld = bucket === '15m' && from < Date.now() - 90 * DAY_MS;
      await check(
        `/v1/analytics/performance/${vehicle}/series?bucket=${bucket}`,
        from,
        to - ragged,
        tooOld ? [] : levels,
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        (body) => body.points.map((p: any) => ({ vehicle, from: Date.parse(p.start), to: Date.parse(p.end), body: p })),
      );
    } else {
      await check(`/v1/analytics/fleet?sort=vehicleId`, from, to - ragged, ['hourly', 'quarter'], (body) => {
        t.deepEqual(
          // eslint-disable-next-line @typescript-eslint/no-explicit-any
          body.items.map((item: any) => item.vehicleId),
          vehicles,
        );
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        return body.items.map((item: any) => ({ vehicle: item.vehicleId, from, to: to - ragged, body: item }));
      });
    }
  }
  // The generation reached both outcomes where it matters.
  t.true(tally.answeredPastQuarter > 0, 'windows older than the quarter hours answered from the hours');
  t.true(tally.refusedWithReadings > 0, 'windows over dropped readings refused');
  t.true(tally.answered > WINDOWS / 4, `${tally.answered} answered`);
  t.log(
    `seed ${SEED}: ${sent.length} readings, ${refreshes.length} refreshes, ${WINDOWS} windows: ${JSON.stringify(tally)}`,
  );
});
