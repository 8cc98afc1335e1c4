import test from 'ava';
import { sql } from 'kysely';

import { writeBatch } from '../src/telemetry/batch-writer.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../src/time.js';
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

test('a reading answered as a duplicate changes nothing, whatever form either reading has (issue 23)', async (t) => {
  await mapped('rg-v5', 'rg-m5');
  const interval = (minute: number, kwh: number) => ({
    meterId: 'rg-m5',
    kwhConsumedAc: kwh,
    voltage: 230,
    timestamp: iso(at(minute)),
  });
  t.is((await svc.post('/v1/ingestion/meter', interval(1, 0.5))).status, 202);
  t.is((await svc.post('/v1/ingestion/meter', [register('rg-m5', 2, 9000), register('rg-m5', 3, 9000.5)])).status, 202);
  const stored = async () =>
    (
      await sql<{ ts: Date; kwh: number; register: number | null; event: string | null }>`
        SELECT ts, kwh_consumed_ac AS kwh, kwh_register AS register, register_event AS event
        FROM meter_telemetry_history WHERE meter_id = 'rg-m5' ORDER BY ts`.execute(svc.dbHandle.db)
    ).rows;
  const before = {
    energy: await acEnergy('rg-v5', 0, 4),
    events: await eventsByMinute('rg-m5'),
    live: (await svc.get('/v1/meters/rg-m5/live')).body,
    rows: await stored(),
  };
  t.is(before.energy, 1);
  t.deepEqual(before.events, { 2: 'first' });
  // A register reading at the interval reading's instant, and the other way round.
  for (const duplicate of [register('rg-m5', 1, 0), interval(2, 7), interval(3, 7)]) {
    t.like((await svc.post('/v1/ingestion/meter', duplicate)).body, { accepted: 0, duplicates: 1 });
    t.is(await acEnergy('rg-v5', 0, 4), before.energy);
    t.deepEqual(await eventsByMinute('rg-m5'), before.events);
    t.deepEqual((await svc.get('/v1/meters/rg-m5/live')).body, before.live);
    t.deepEqual(await stored(), before.rows);
  }
  // Mixed into a batch with a new reading after the others: only the new one changes anything.
  const res = await svc.post('/v1/ingestion/meter', [register('rg-m5', 1, 0), register('rg-m5', 4, 9001)]);
  t.like(res.body, { accepted: 1, duplicates: 1 });
  t.is(await acEnergy('rg-v5', 0, 5), 1.5);
  t.deepEqual(await eventsByMinute('rg-m5'), before.events);
});

test('a late register reading past a predecessor dropped by raw retention takes its share from the next one (issue 23)', async (t) => {
  const day = (n: number) => Math.floor(Date.now() / HOUR_MS) * HOUR_MS - n * DAY_MS;
  const reading = (meterId: string, ts: number, total: number) => ({
    meterId,
    kwhConsumedAc: null,
    kwhConsumedAcTotal: total,
    voltage: 230,
    timestamp: new Date(ts),
  });
  for (const [vehicleId, meterId] of [
    ['rg-v6', 'rg-m6'],
    ['rg-v7', 'rg-m7'],
  ] as const) {
    await svc.put(`/v1/vehicles/${vehicleId}/meter`, { meterId, from: iso(day(45)) });
  }
  // Older than the API accepts: written as they were when they arrived on time.
  await writeBatch(svc.dbHandle.db, {
    meter: [reading('rg-m6', day(41), 100), reading('rg-m6', day(21), 200)],
    vehicle: [],
  });
  await writeBatch(svc.dbHandle.db, { meter: [reading('rg-m7', day(41), 100)], vehicle: [] }); // none kept after it
  await sql`SELECT drop_chunks('meter_telemetry_history', older_than => ${new Date(day(30))}::timestamptz)`.execute(
    svc.dbHandle.maintenanceDb,
  );
  const kept = await sql<{ n: number }>`SELECT count(*)::int AS n FROM meter_telemetry_history
    WHERE meter_id IN ('rg-m6', 'rg-m7')`.execute(svc.dbHandle.db);
  t.is(kept.rows[0]!.n, 1, 'the readings of day 41 are dropped');
  const energy = async (vehicleId: string, from: number, to: number) => {
    const res = await svc.get(`/v1/analytics/performance/${vehicleId}?from=${iso(from)}&to=${iso(to)}`);
    t.is(res.status, 200, JSON.stringify(res.body));
    return res.body.acEnergyKwh as number;
  };
  t.is(await energy('rg-v6', day(22), day(20)), 100);

  for (const meterId of ['rg-m6', 'rg-m7']) {
    const late = await svc.post('/v1/ingestion/meter', { ...register(meterId, 0, 150), timestamp: iso(day(27)) });
    t.like(late.body, { accepted: 1, duplicates: 0 });
  }
  // Exactly as an interval twin: 50 kWh at day 27, the other 50 at day 21.
  t.is(await energy('rg-v6', day(28), day(26)), 50);
  t.is(await energy('rg-v6', day(22), day(20)), 50);
  t.deepEqual(await eventsByMinute('rg-m6'), {});
  // With nothing kept at all, the live row (the newest reading ever stored) is the predecessor.
  t.is(await energy('rg-v7', day(28), day(26)), 50);
  t.deepEqual(await eventsByMinute('rg-m7'), {});
});

test('a live reading sent while a sparse late register backlog is written is answered before the backlog (issue 23)', async (t) => {
  // 500 register readings in 50 separate hours (every other hour, 3 to 101 hours old): 50 transactions.
  const newestHour = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 3 * HOUR_MS;
  const backlog = Array.from({ length: 500 }, (_, i) => {
    const hour = Math.floor(i / 10);
    return {
      meterId: 'rg-backlog',
      kwhConsumedAcTotal: 1000 + i,
      voltage: 230,
      timestamp: iso(newestHour - 2 * (49 - hour) * HOUR_MS + (i % 10) * MINUTE_MS),
    };
  });
  const answered: string[] = [];
  const backlogDone = svc.post('/v1/ingestion/meter', backlog).then((res) => {
    answered.push('backlog');
    return res;
  });
  const stored = async () =>
    (
      await sql<{ n: number }>`SELECT count(*)::int AS n FROM meter_telemetry_history
        WHERE meter_id = 'rg-backlog'`.execute(svc.dbHandle.db)
    ).rows[0]!.n;
  while ((await stored()) === 0) await new Promise((done) => setTimeout(done, 5)); // its first slices commit
  const live = await svc.post('/v1/ingestion/meter', {
    ...register('rg-live', 0, 5),
    timestamp: iso(Date.now() - MINUTE_MS),
  });
  t.like(live.body, { accepted: 1 });
  answered.push('live');
  const storedAtLive = await stored();
  t.true(storedAtLive < backlog.length, `${storedAtLive} of the backlog stored when the live reading was answered`);
  t.like((await backlogDone).body, { accepted: 500, duplicates: 0 });
  t.deepEqual(answered, ['live', 'backlog']);
  t.is(await stored(), 500);
});

test('a register is stored as sent or refused: digits beyond what is kept are a 400 naming the field (issue 23)', async (t) => {
  const body = (total: string, meterId = 'rg-digits') =>
    `[{"meterId":"${meterId}","voltage":230,"timestamp":"${iso(at(0))}","kwhConsumedAcTotal":${total}}]`;
  const refused = await svc.post('/v1/ingestion/meter', body('999999999.000000001'));
  t.is(refused.status, 400);
  t.is(refused.body.error.code, 'validation_failed');
  t.like(refused.body.error.details[0], { index: 0, path: 'kwhConsumedAcTotal' });
  t.regex(refused.body.error.details[0].message, /would be stored as 999999999 /);
  const vehicle = await svc.post(
    '/v1/ingestion/vehicle',
    `{"vehicleId":"rg-digits","soc":50,"batteryTemp":30,"timestamp":"${iso(at(0))}","kwhDeliveredDcTotal":1.00000000000000001}`,
  );
  t.like(vehicle.body.error.details[0], { index: 0, path: 'kwhDeliveredDcTotal' });
  t.is((await svc.get('/v1/meters/rg-digits/live')).status, 404, 'nothing stored');
  // Kept: the value as sent, digit for digit.
  for (const [meterId, total] of [
    ['rg-digits-a', '999999999.999999'],
    ['rg-digits-b', '0.30000000000000004'],
    ['rg-digits-c', '123456.789012345'],
  ] as const) {
    t.is((await svc.post('/v1/ingestion/meter', body(total, meterId))).status, 202);
    const stored = await sql<{ register: string }>`SELECT kwh_register::text AS register FROM meter_telemetry_history
      WHERE meter_id = ${meterId}`.execute(svc.dbHandle.db);
    t.is(stored.rows[0]!.register, total);
  }
});
