import test from 'ava';
import { sql } from 'kysely';

import { JobScheduler } from '../src/jobs/job-scheduler.js';
import { createLogger } from '../src/logger.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, QUARTER_HOUR_MS } from '../src/time.js';
import { seededRandom } from '../tools/simulator/random.js';
import { meterReading, startTestService, vehicleReading, type TestService } from './helpers/test-service.js';

/**
 * Property: whatever the assignment history (moves at random instants, back-dated
 * corrections, deletions, gaps, refused overlaps), every performance, series and fleet
 * answer attributes each meter reading to the vehicle assigned at its timestamp: the
 * figures equal a brute-force sum over the raw readings and the stored assignments, and the
 * response names the meters and spans that contributed. A refused change (409) changes
 * nothing; the database refuses an overlap written by SQL directly.
 */
const SEED = Number(process.env.PROPERTY_SEED ?? 20261128);
const VEHICLES = ['as-v0', 'as-v1', 'as-v2', 'as-v3'];
const METERS = ['as-m0', 'as-m1', 'as-m2', 'as-m3', 'as-m4'];

interface Stored {
  id: number;
  vehicleId: string;
  meterId: string;
  from: string | null;
  to: string | null;
}

let svc: TestService;
test.before(async () => {
  svc = await startTestService();
});
test.after.always(async () => {
  await svc?.stop();
});

test('random assignment histories: every answer attributes each reading to the vehicle assigned at its timestamp', async (t) => {
  const rnd = seededRandom(SEED);
  const pick = <T>(items: readonly T[]) => items[Math.floor(rnd() * items.length)]!;
  const now = Date.now();
  const start = Math.floor((now - 4 * DAY_MS) / HOUR_MS) * HOUR_MS;
  const instant = () => {
    const r = rnd();
    const at = start + Math.floor(rnd() * (now - start));
    if (r < 0.3) return Math.floor(at / HOUR_MS) * HOUR_MS; // on an hour
    if (r < 0.5) return Math.floor(at / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;
    return at; // inside an hour: read like a window edge
  };

  // Readings: every meter and vehicle, every 7-13 minutes over four days.
  const meterRows: { meterId: string; ts: number; kwh: number }[] = [];
  for (const meterId of METERS) {
    const rows = [];
    for (let ts = start + Math.floor(rnd() * 5 * MINUTE_MS); ts < now; ts += (7 + Math.floor(rnd() * 7)) * MINUTE_MS) {
      const kwh = Math.round(rnd() * 3000) / 1000;
      meterRows.push({ meterId, ts, kwh });
      rows.push(meterReading(meterId, new Date(ts), kwh));
    }
    for (let i = 0; i < rows.length; i += 2000)
      t.is((await svc.post('/v1/ingestion/meter', rows.slice(i, i + 2000))).status, 202);
  }
  for (const vehicleId of VEHICLES) {
    const rows = [];
    for (let ts = start; ts < now; ts += 11 * MINUTE_MS) rows.push(vehicleReading(vehicleId, new Date(ts), 0.5));
    t.is((await svc.post('/v1/ingestion/vehicle', rows)).status, 202);
  }

  const assignments = async (): Promise<Stored[]> =>
    (await Promise.all(VEHICLES.map((v) => svc.get(`/v1/vehicles/${v}/meter/history`)))).flatMap(
      (res) => res.body.assignments as Stored[],
    );
  const bound = (value: string | null, open: number) => (value === null ? open : Date.parse(value));

  // --- random changes: moves, corrections, deletions; a 409 must change nothing -----------
  let applied = 0;
  let refused = 0;
  for (let step = 0; step < 60; step += 1) {
    const before = await assignments();
    const r = rnd();
    let res;
    if (r < 0.55 || before.length === 0) {
      const from = rnd() < 0.15 ? undefined : new Date(instant()).toISOString();
      res = await svc.put(`/v1/vehicles/${pick(VEHICLES)}/meter`, { meterId: pick(METERS), ...(from ? { from } : {}) });
    } else if (r < 0.85) {
      const a = pick(before);
      const from = instant();
      const to = rnd() < 0.3 ? null : from + Math.floor(rnd() * 2 * DAY_MS) + 1;
      res = await svc.patch(`/v1/assignments/${a.id}`, {
        from: rnd() < 0.1 ? null : new Date(from).toISOString(),
        to: to === null ? null : new Date(to).toISOString(),
      });
    } else {
      res = await svc.delete(`/v1/assignments/${pick(before).id}`);
    }
    if (res.status === 409 || res.status === 400) {
      refused += 1;
      t.deepEqual(await assignments(), before, `a refused change (${res.status}) changed nothing`);
      if (res.status === 409) t.true(res.body.error.details.length > 0);
    } else {
      applied += 1;
      t.true([200, 204].includes(res.status), JSON.stringify(res.body));
    }
    if (step % 20 === 19)
      await new JobScheduler(svc.dbHandle.maintenanceDb, 60_000, createLogger('silent')).runDueJobs();
  }
  t.true(applied > 10 && refused > 0, `applied ${applied}, refused ${refused}`);

  // --- the invariant in the database itself -------------------------------------------
  const stored = await assignments();
  for (const [i, a] of stored.entries()) {
    for (const b of stored.slice(i + 1)) {
      if (a.vehicleId !== b.vehicleId && a.meterId !== b.meterId) continue;
      const overlap =
        bound(a.from, -Infinity) < bound(b.to, Infinity) && bound(b.from, -Infinity) < bound(a.to, Infinity);
      t.false(overlap, `${JSON.stringify(a)} overlaps ${JSON.stringify(b)}`);
    }
  }
  const overlapping = sql`INSERT INTO vehicle_meter_assignment (vehicle_id, meter_id, valid_from)
    VALUES ('as-sql', ${stored.find((a) => a.to === null)?.meterId ?? 'as-m0'}, now() - interval '1 day')`;
  if (stored.some((a) => a.to === null))
    await t.throwsAsync(overlapping.execute(svc.dbHandle.db), { message: /one_vehicle_per_meter/ });

  // --- oracle: each meter reading belongs to the vehicle whose assignment holds at its ts ----
  const holder = (meterId: string, ts: number) =>
    stored.find((a) => a.meterId === meterId && bound(a.from, -Infinity) <= ts && ts < bound(a.to, Infinity));
  const expected = (vehicleId: string, from: number, to: number) => {
    const rows = meterRows.filter((m) => m.ts >= from && m.ts < to && holder(m.meterId, m.ts)?.vehicleId === vehicleId);
    const spans = stored
      .filter((a) => a.vehicleId === vehicleId && bound(a.from, -Infinity) < to && bound(a.to, Infinity) > from)
      .map((a) => ({
        meterId: a.meterId,
        from: new Date(Math.max(from, bound(a.from, -Infinity))).toISOString(),
        to: new Date(Math.min(to, bound(a.to, Infinity))).toISOString(),
      }))
      .sort((x, y) => x.from.localeCompare(y.from));
    return { readings: rows.length, kwh: rows.reduce((n, m) => n + m.kwh, 0), spans };
  };
  const query = (from: number, to: number) =>
    `from=${encodeURIComponent(new Date(from).toISOString())}&to=${encodeURIComponent(new Date(to).toISOString())}`;
  await new JobScheduler(svc.dbHandle.maintenanceDb, 60_000, createLogger('silent')).runDueJobs();
  let checked = 0;
  for (let i = 0; i < 40; i += 1) {
    const from = instant();
    const to = Math.min(from + 1 + Math.floor(rnd() * 2 * DAY_MS), now);
    if (to <= from) continue;
    const vehicleId = pick(VEHICLES);
    const want = expected(vehicleId, from, to);
    const label = `${vehicleId} [${new Date(from).toISOString()}, ${new Date(to).toISOString()})`;
    const performance = await svc.get(`/v1/analytics/performance/${vehicleId}?${query(from, to)}`);
    if (stored.every((a) => a.vehicleId !== vehicleId)) {
      t.is(performance.status, 404, label);
      continue;
    }
    t.is(performance.status, 200, `${label}: ${JSON.stringify(performance.body)}`);
    t.is(performance.body.readings.meter, want.readings, label);
    t.true(Math.abs(performance.body.acEnergyKwh - want.kwh) < 1e-6, `${label} AC`);
    t.deepEqual(performance.body.meters, want.spans, label);
    t.is(performance.body.meterId, want.spans.at(-1)?.meterId ?? null, label);

    const series = await svc.get(`/v1/analytics/performance/${vehicleId}/series?${query(from, to)}&bucket=1h`);
    for (const point of series.body.points) {
      const bucket = expected(vehicleId, Date.parse(point.start), Date.parse(point.end));
      t.is(point.readings.meter, bucket.readings, `${label} series ${point.start}`);
    }
    const fleet = await svc.get(`/v1/analytics/fleet?${query(from, to)}&sort=vehicleId`);
    for (const item of fleet.body.items) {
      const other = expected(item.vehicleId, from, to);
      t.is(item.readings.meter, other.readings, `${label} fleet ${item.vehicleId}`);
      t.deepEqual(item.meters, other.spans, `${label} fleet ${item.vehicleId}`);
    }
    const inFleet = new Set(fleet.body.items.map((item: { vehicleId: string }) => item.vehicleId));
    for (const v of VEHICLES) t.is(inFleet.has(v), expected(v, from, to).spans.length > 0, `${label} fleet has ${v}`);
    checked += 1;
  }
  t.log(`seed ${SEED}: ${applied} changes applied, ${refused} refused, ${checked} windows checked`);
});
