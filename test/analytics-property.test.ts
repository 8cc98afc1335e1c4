import test from 'ava';

import { JobScheduler } from '../src/db/job-scheduler.js';
import { createLogger } from '../src/logger.js';
import { seededRandom } from '../src/simulator/random.js';
import { meterReading, startTestService, vehicleReading, type TestService } from './helpers/test-service.js';

/**
 * Property: for random readings (duplicates, out of order, late, some after the hours were
 * materialized) and random windows, the endpoint's figures equal a brute-force computation
 * over what was sent, where the first write of each (device, timestamp) wins.
 */
const HOUR = 3_600_000;
const SEED = Number(process.env.PROPERTY_SEED ?? 20261127);

interface Sent {
  device: string;
  ts: number;
  kwh: number;
  soc: number;
  temp: number;
}

let svc: TestService;
test.before(async () => {
  svc = await startTestService();
});
test.after.always(async () => {
  await svc?.stop();
});

test('random readings and random windows: endpoint figures equal a brute-force sum', async (t) => {
  const rnd = seededRandom(SEED);
  const pick = <T>(items: T[]) => items[Math.floor(rnd() * items.length)]!;
  const start = Math.floor((Date.now() - 60 * HOUR) / HOUR) * HOUR;
  const span = 58 * HOUR;
  const vehicles = ['pv-0', 'pv-1', 'pv-2'];
  for (const v of vehicles) await svc.put(`/v1/vehicles/${v}/meter`, { meterId: `${v}-m` });

  const randomTs = () => {
    const r = rnd();
    if (r < 0.1) return start + Math.floor(rnd() * 58) * HOUR; // exactly on an hour
    if (r < 0.5) return start + Math.floor(rnd() * (span / 60_000)) * 60_000; // on a minute
    return start + Math.floor(rnd() * span); // any millisecond
  };
  const make = (): { meter: Sent; vehicle: Sent } => {
    const v = pick(vehicles);
    const ts = randomTs();
    const kwh = Math.round(rnd() * 5000) / 1000;
    return {
      meter: { device: `${v}-m`, ts, kwh, soc: 0, temp: 0 },
      vehicle: {
        device: v,
        ts: randomTs(),
        kwh: Math.round(kwh * (0.8 + rnd() * 0.15) * 1000) / 1000,
        soc: Math.round(rnd() * 100),
        temp: Math.round(rnd() * 600) / 10 - 10,
      },
    };
  };
  const generated = Array.from({ length: 3000 }, make);
  // Duplicates with other values: same device and timestamp, sent later.
  const dups = Array.from({ length: 300 }, () => {
    const original = pick(generated);
    return {
      meter: { ...original.meter, kwh: original.meter.kwh + 100 },
      vehicle: { ...original.vehicle, kwh: original.vehicle.kwh + 100, temp: 99 },
    };
  });

  const firstWrites = { meter: new Map<string, Sent>(), vehicle: new Map<string, Sent>() };
  const send = async (items: { meter: Sent; vehicle: Sent }[]) => {
    // Random batch sizes, out of order, sent one request at a time so "first" is defined.
    for (let i = 0; i < items.length;) {
      const size = 1 + Math.floor(rnd() * 400);
      const chunk = items.slice(i, i + size);
      i += size;
      const meter = await svc.post(
        '/v1/ingestion/meter',
        chunk.map((c) => meterReading(c.meter.device, new Date(c.meter.ts), c.meter.kwh)),
      );
      const vehicle = await svc.post(
        '/v1/ingestion/vehicle',
        chunk.map((c) =>
          vehicleReading(c.vehicle.device, new Date(c.vehicle.ts), c.vehicle.kwh, c.vehicle.soc, c.vehicle.temp),
        ),
      );
      if (meter.status !== 202 || vehicle.status !== 202)
        throw new Error(`ingest failed: ${meter.status} ${vehicle.status}`);
      let expectedDuplicates = 0;
      for (const c of chunk) {
        for (const stream of ['meter', 'vehicle'] as const) {
          const key = `${c[stream].device}|${c[stream].ts}`;
          if (firstWrites[stream].has(key)) expectedDuplicates += 1;
          else firstWrites[stream].set(key, c[stream]);
        }
      }
      t.is(meter.body.duplicates + vehicle.body.duplicates, expectedDuplicates);
    }
  };

  const shuffled = [...generated].sort(() => rnd() - 0.5);
  await send(shuffled.slice(0, 2000));
  // Materialize what the policies cover; everything sent after this is late for those hours.
  await new JobScheduler(svc.dbHandle.db, 60_000, createLogger('silent')).runDueJobs();
  await send([...shuffled.slice(2000), ...dups].sort(() => rnd() - 0.5));

  const meterRows = [...firstWrites.meter.values()];
  const vehicleRows = [...firstWrites.vehicle.values()];
  for (let i = 0; i < 60; i += 1) {
    const vehicle = pick(vehicles);
    const from = rnd() < 0.2 ? start + Math.floor(rnd() * 58) * HOUR : randomTs();
    const length = rnd() < 0.3 ? Math.floor(rnd() * 2 * HOUR) + 1 : Math.floor(rnd() * 40 * HOUR) + 1;
    const to = Math.min(from + length, start + 60 * HOUR);
    if (to <= from) continue;
    const inWindow = (r: Sent) => r.ts >= from && r.ts < to;
    const meters = meterRows.filter((r) => r.device === `${vehicle}-m` && inWindow(r));
    const readings = vehicleRows.filter((r) => r.device === vehicle && inWindow(r));
    const sum = (rows: Sent[], f: (r: Sent) => number) => rows.reduce((n, r) => n + f(r), 0);

    const res = await svc.get(
      `/v1/analytics/performance/${vehicle}?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`,
    );
    t.is(res.status, 200);
    const label = `${vehicle} [${new Date(from).toISOString()}, ${new Date(to).toISOString()})`;
    t.is(res.body.readings.meter, meters.length, label);
    t.is(res.body.readings.vehicle, readings.length, label);
    t.true(Math.abs(res.body.acEnergyKwh - sum(meters, (r) => r.kwh)) < 1e-6, label);
    t.true(Math.abs(res.body.dcEnergyKwh - sum(readings, (r) => r.kwh)) < 1e-6, label);
    if (readings.length === 0) {
      t.is(res.body.avgBatteryTempC, null, label);
      t.is(res.body.socMin, null, label);
    } else {
      t.true(Math.abs(res.body.avgBatteryTempC - sum(readings, (r) => r.temp) / readings.length) < 1e-6, label);
      t.is(res.body.socMin, Math.min(...readings.map((r) => r.soc)), label);
      t.is(res.body.socMax, Math.max(...readings.map((r) => r.soc)), label);
    }
  }
});
