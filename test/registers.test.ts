import test from 'ava';

import { writeBatch } from '../src/telemetry/batch-writer.js';
import { HOUR_MS, MINUTE_MS } from '../src/time.js';
import { startTestService, vehicleReading, type TestService } from './helpers/test-service.js';

let svc: TestService;
test.before(async () => {
  svc = await startTestService();
});
test.after.always(async () => {
  await svc?.stop();
});

const iso = (ms: number) => new Date(ms).toISOString();
const base = Math.floor((Date.now() - 10 * HOUR_MS) / HOUR_MS) * HOUR_MS;
const at = (minute: number) => base + minute * MINUTE_MS;
const register = (meterId: string, minute: number, total: number) => ({
  meterId,
  kwhConsumedAcTotal: total,
  voltage: 230,
  timestamp: iso(at(minute)),
});

/** A meter's register events, by minute of the test's base hour. */
async function eventsByMinute(meterId: string): Promise<Record<number, string>> {
  const res = await svc.get(`/v1/meters/${meterId}/register-events?limit=1000`);
  return Object.fromEntries(
    (res.body.events as { timestamp: string; event: string }[]).map((e) => [
      (Date.parse(e.timestamp) - base) / MINUTE_MS,
      e.event,
    ]),
  );
}

async function acEnergy(vehicleId: string, fromMinute: number, toMinute: number): Promise<number> {
  const res = await svc.get(
    `/v1/analytics/performance/${vehicleId}?from=${iso(at(fromMinute))}&to=${iso(at(toMinute))}`,
  );
  if (res.status !== 200) throw new Error(JSON.stringify(res.body));
  return res.body.acEnergyKwh as number;
}

async function mapped(vehicleId: string, meterId: string) {
  await svc.put(`/v1/vehicles/${vehicleId}/meter`, { meterId, from: iso(base - HOUR_MS) });
  const res = await svc.post('/v1/ingestion/vehicle', [vehicleReading(vehicleId, new Date(at(0)), 0)]);
  if (res.status !== 202) throw new Error(JSON.stringify(res.body));
}

test('a register series counts the differences, in timestamp order whatever the arrival order', async (t) => {
  await mapped('rg-v1', 'rg-m1');
  // Sent out of order: 10 at minute 0, 13.5 at 2, then the late 11 at minute 1.
  t.is((await svc.post('/v1/ingestion/meter', [register('rg-m1', 0, 10), register('rg-m1', 2, 13.5)])).status, 202);
  t.is(await acEnergy('rg-v1', 0, 3), 3.5);
  t.is((await svc.post('/v1/ingestion/meter', register('rg-m1', 1, 11))).status, 202);
  // The late reading splits the interval: 1 kWh at minute 1, 2.5 at minute 2; the total holds.
  t.is(await acEnergy('rg-v1', 0, 3), 3.5);
  t.is(await acEnergy('rg-v1', 1, 2), 1);
  t.is(await acEnergy('rg-v1', 2, 3), 2.5);
  // A duplicate with another value changes nothing (the first one is kept).
  const dup = await svc.post('/v1/ingestion/meter', register('rg-m1', 1, 12));
  t.like(dup.body, { accepted: 0, duplicates: 1 });
  t.is(await acEnergy('rg-v1', 1, 2), 1);
  // An earlier reading makes minute 0 an ordinary interval: the baseline moves back.
  await svc.post('/v1/ingestion/meter', register('rg-m1', -1, 9.25));
  t.is(await acEnergy('rg-v1', -1, 3), 3.5 + 0.75);
  t.deepEqual(await eventsByMinute('rg-m1'), { [-1]: 'first' });
  const live = await svc.get('/v1/meters/rg-m1/live');
  t.like(live.body, { kwhConsumedAcTotal: 13.5, kwhConsumedAc: 2.5, timestamp: iso(at(2)) });
});

test('a decrease is a reset that counts from zero, a jump above the bound counts 0; both are events', async (t) => {
  await mapped('rg-v2', 'rg-m2');
  await svc.post('/v1/ingestion/meter', [
    register('rg-m2', 0, 500),
    register('rg-m2', 1, 501),
    register('rg-m2', 2, 0.5), // reset: 0.5 kWh since the reboot
    register('rg-m2', 3, 1.5),
    register('rg-m2', 4, 50_000), // jump: 49,998.5 kWh in a minute is not a meter
    register('rg-m2', 5, 50_001),
  ]);
  t.is(await acEnergy('rg-v2', 0, 6), 1 + 0.5 + 1 + 0 + 1);
  const events = await svc.get('/v1/meters/rg-m2/register-events');
  t.is(events.status, 200);
  t.deepEqual(
    events.body.events.map((e: { event: string; kwhCounted: number; kwhRegister: number }) => [
      e.event,
      e.kwhCounted,
      e.kwhRegister,
    ]),
    [
      ['first', 0, 500],
      ['reset', 0.5, 0.5],
      ['jump', 0, 50_000],
    ],
  );
  t.false(events.body.truncated);
  const limited = await svc.get(`/v1/meters/rg-m2/register-events?limit=1&from=${iso(at(1))}`);
  t.like(limited.body, { truncated: true, events: [{ event: 'reset' }] });
});

test('vehicles report a DC register the same way', async (t) => {
  await svc.put('/v1/vehicles/rg-v3/meter', { meterId: 'rg-m3', from: iso(base - HOUR_MS) });
  const dc = (minute: number, total: number) => ({
    vehicleId: 'rg-v3',
    soc: 50,
    kwhDeliveredDcTotal: total,
    batteryTemp: 30,
    timestamp: iso(at(minute)),
  });
  const first = await svc.post('/v1/ingestion/vehicle', [dc(0, 100), dc(2, 102)]);
  t.is(first.status, 202, JSON.stringify(first.body));
  await svc.post('/v1/ingestion/vehicle', dc(1, 100.5));
  const res = await svc.get(`/v1/analytics/performance/rg-v3?from=${iso(at(0))}&to=${iso(at(3))}`);
  t.like(res.body, { dcEnergyKwh: 2, readings: { vehicle: 3 } });
  t.like((await svc.get('/v1/vehicles/rg-v3/live')).body, { kwhDeliveredDcTotal: 102, kwhDeliveredDc: 1.5 });
  t.like((await svc.get('/v1/vehicles/rg-v3/register-events')).body, {
    events: [{ event: 'first', kwhRegister: 100 }],
  });
});

test('a reading carries exactly one energy form: both or neither is a 400 naming the field, nothing stored', async (t) => {
  const both = await svc.post('/v1/ingestion/meter', { ...register('rg-bad', 0, 1), kwhConsumedAc: 1 });
  t.is(both.status, 400);
  t.is(both.body.error.details[0].path, 'kwhConsumedAc');
  t.regex(both.body.error.details[0].message, /exactly one of kwhConsumedAc .* or kwhConsumedAcTotal/);
  const neither = await svc.post('/v1/ingestion/meter', { meterId: 'rg-bad', voltage: 230, timestamp: iso(at(0)) });
  t.is(neither.status, 400);
  const tooBig = await svc.post('/v1/ingestion/meter', register('rg-bad', 0, 2e9));
  t.is(tooBig.status, 400);
  t.is(tooBig.body.error.details[0].path, 'kwhConsumedAcTotal');
  t.is((await svc.get('/v1/meters/rg-bad/live')).status, 404);
});

test('inside a caller transaction (a stream consumer committing with its checkpoint) the chain is the same', async (t) => {
  await mapped('rg-v4', 'rg-m4');
  const reading = (minute: number, total: number) => ({
    meterId: 'rg-m4',
    kwhConsumedAc: null,
    kwhConsumedAcTotal: total,
    voltage: 230,
    timestamp: new Date(at(minute)),
  });
  // Two hours apart: two runs, both in the caller's transaction.
  await svc.dbHandle.db.transaction().execute(async (trx) => {
    await writeBatch(trx, { meter: [reading(0, 7), reading(1, 8), reading(150, 10)], vehicle: [] });
  });
  await svc.dbHandle.db.transaction().execute(async (trx) => {
    await writeBatch(trx, { meter: [reading(2, 8.5)], vehicle: [] });
  });
  t.is(await acEnergy('rg-v4', 0, 3), 1.5);
  t.is(await acEnergy('rg-v4', 3, 151), 1.5);
});
