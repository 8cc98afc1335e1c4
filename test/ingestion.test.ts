import test from 'ava';
import { sql } from 'kysely';

import {
  meterReading,
  minutesAgo,
  startTestService,
  TEST_ADMIN_KEY,
  vehicleReading,
  type TestService,
} from './helpers/test-service.js';

let svc: TestService;
test.before(async () => {
  svc = await startTestService();
});
test.after.always(async () => {
  await svc?.stop();
});

async function storedMeterRows(meterId: string) {
  const result = await sql<{ ts: Date; kwh_consumed_ac: number }>`
    SELECT ts, kwh_consumed_ac FROM meter_telemetry_history WHERE meter_id = ${meterId} ORDER BY ts`.execute(
    svc.dbHandle.db,
  );
  return result.rows;
}

test('a single reading is accepted and stored with its values', async (t) => {
  const at = minutesAgo(3);
  const res = await svc.post('/v1/ingestion/meter', meterReading('ing-single', at, 2.25, 229.5));
  t.is(res.status, 202);
  t.deepEqual(res.body, { accepted: 1, duplicates: 0 });
  const rows = await storedMeterRows('ing-single');
  t.deepEqual(rows, [{ ts: at, kwh_consumed_ac: 2.25 }]);
});

test('a batch is accepted; duplicates inside it and against stored rows are counted, first write wins', async (t) => {
  const a = minutesAgo(10);
  const b = minutesAgo(9);
  const first = await svc.post('/v1/ingestion/meter', [meterReading('ing-dup', a, 1)]);
  t.deepEqual(first.body, { accepted: 1, duplicates: 0 });
  const res = await svc.post('/v1/ingestion/meter', [
    meterReading('ing-dup', a, 99), // already stored
    meterReading('ing-dup', b, 2),
    meterReading('ing-dup', b, 77), // same device and ts earlier in this request
  ]);
  t.is(res.status, 202);
  t.deepEqual(res.body, { accepted: 1, duplicates: 2 });
  t.deepEqual(
    (await storedMeterRows('ing-dup')).map((r) => r.kwh_consumed_ac),
    [1, 2],
  );
});

test('the same timestamp written with another zone offset is the same instant, hence a duplicate', async (t) => {
  const at = new Date(Math.floor(minutesAgo(20).getTime() / 60_000) * 60_000);
  const utc = at.toISOString();
  const plusTwo = new Date(at.getTime() + 2 * 3600_000).toISOString().replace('Z', '+02:00');
  const res = await svc.post('/v1/ingestion/vehicle', [
    { ...vehicleReading('ing-zone', at), timestamp: utc },
    { ...vehicleReading('ing-zone', at), timestamp: plusTwo },
  ]);
  t.deepEqual(res.body, { accepted: 1, duplicates: 1 });
});

test('concurrent requests are merged and each gets its own exact counts', async (t) => {
  const base = minutesAgo(200);
  const requests = Array.from({ length: 40 }, (_, i) =>
    svc.post(
      '/v1/ingestion/vehicle',
      Array.from({ length: 25 }, (_, j) => vehicleReading(`ing-conc-${i % 10}`, new Date(base.getTime() + j * 60_000))),
    ),
  );
  const responses = await Promise.all(requests);
  t.true(responses.every((r) => r.status === 202));
  // 10 devices x 25 minutes are distinct; every device was sent 4 times.
  const accepted = responses.reduce((n, r) => n + r.body.accepted, 0);
  const duplicates = responses.reduce((n, r) => n + r.body.duplicates, 0);
  t.is(accepted, 250);
  t.is(duplicates, 750);
  const count = await sql<{ n: number }>`
    SELECT count(*) AS n FROM vehicle_telemetry_history WHERE vehicle_id LIKE 'ing-conc-%'`.execute(svc.dbHandle.db);
  t.is(count.rows[0]?.n, 250);
});

test('one invalid reading refuses the whole request, names it, and writes nothing', async (t) => {
  const res = await svc.post('/v1/ingestion/vehicle', [
    vehicleReading('ing-bad', minutesAgo(5)),
    { ...vehicleReading('ing-bad', minutesAgo(4)), soc: 101 },
    { ...vehicleReading('ing-bad', minutesAgo(3)), batteryTemp: -51, kwhDeliveredDc: -0.1 },
  ]);
  t.is(res.status, 400);
  t.is(res.body.error.code, 'validation_failed');
  t.deepEqual(
    res.body.error.details.map((d: { index: number; path: string }) => [d.index, d.path]),
    [
      [1, 'soc'],
      [2, 'kwhDeliveredDc'],
      [2, 'batteryTemp'],
    ],
  );
  const live = await svc.get('/v1/vehicles/ing-bad/live');
  t.is(live.status, 404);
});

const invalidMeterReadings: [string, Record<string, unknown>, string][] = [
  ['id with a space', { meterId: 'a b' }, 'meterId'],
  ['id too long', { meterId: 'x'.repeat(65) }, 'meterId'],
  ['empty id', { meterId: '' }, 'meterId'],
  ['energy as a string', { kwhConsumedAc: '1.5' }, 'kwhConsumedAc'],
  ['negative energy', { kwhConsumedAc: -1 }, 'kwhConsumedAc'],
  ['negative voltage', { voltage: -230 }, 'voltage'],
  ['timestamp without a zone', { timestamp: '2026-11-27T10:00:00' }, 'timestamp'],
  ['timestamp not a date', { timestamp: 'yesterday' }, 'timestamp'],
  ['timestamp 10 minutes ahead', { timestamp: new Date(Date.now() + 10 * 60_000).toISOString() }, 'timestamp'],
  ['timestamp older than retention', { timestamp: minutesAgo(31 * 24 * 60).toISOString() }, 'timestamp'],
  ['missing field', { voltage: undefined }, 'voltage'],
];

for (const [name, patch, field] of invalidMeterReadings) {
  test(`meter reading rejected: ${name}`, async (t) => {
    const reading = { ...meterReading('ing-valid', minutesAgo(1)), ...patch };
    const res = await svc.post('/v1/ingestion/meter', reading);
    t.is(res.status, 400);
    t.is(res.body.error.code, 'validation_failed');
    t.is(res.body.error.details[0].path, field);
    t.is(res.body.error.details[0].index, 0);
    t.is(typeof res.body.error.details[0].message, 'string');
  });
}

test('unknown extra fields are ignored; a reading 4 minutes ahead is accepted', async (t) => {
  const reading = {
    ...meterReading('ing-extra', new Date(Date.now() + 4 * 60_000)),
    firmware: '1.2',
    nested: { a: 1 },
  };
  const res = await svc.post('/v1/ingestion/meter', reading);
  t.is(res.status, 202);
  t.is(res.body.accepted, 1);
});

test('a "__proto__" key is valid JSON: refused as a field no route takes, naming it', async (t) => {
  const body = `[{"meterId":"ing-proto","kwhConsumedAc":1,"voltage":230,"timestamp":"${minutesAgo(1).toISOString()}","__proto__":{"x":1}}]`;
  const res = await svc.post('/v1/ingestion/meter', body);
  t.is(res.status, 400);
  t.is(res.body.error.code, 'validation_failed');
  t.deepEqual(res.body.error.details, [{ index: 0, path: '__proto__', message: 'is not an accepted field name' }]);
  const nested = await svc.put('/v1/vehicles/proto-v/meter', '{"meterId":"m","x":{"__proto__":1}}');
  t.is(nested.status, 400);
  t.deepEqual(nested.body.error.details, [{ path: 'x.__proto__', message: 'is not an accepted field name' }]);
  t.is(({} as { x?: unknown }).x, undefined);
});

test('body errors: malformed JSON 400, wrong content type 415, empty batch 400, over 5,000 readings 400', async (t) => {
  const malformed = await svc.post('/v1/ingestion/meter', '{"meterId": "x",');
  t.is(malformed.status, 400);
  t.is(malformed.body.error.code, 'malformed_json');

  const wrongType = await fetch(`${svc.url}/v1/ingestion/meter`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', authorization: `Bearer ${TEST_ADMIN_KEY}` },
    body: JSON.stringify(meterReading('ing-type', minutesAgo(1))),
  });
  t.is(wrongType.status, 415);
  t.is(((await wrongType.json()) as { error: { code: string } }).error.code, 'unsupported_media_type');

  const empty = await svc.post('/v1/ingestion/meter', []);
  t.is(empty.status, 400);

  const scalar = await svc.post('/v1/ingestion/meter', '42');
  t.is(scalar.status, 400);

  const tooMany = Array.from({ length: 5001 }, (_, i) => meterReading('ing-many', new Date(Date.now() - i * 1000)));
  const res = await svc.post('/v1/ingestion/meter', tooMany);
  t.is(res.status, 400);
  t.is(res.body.error.code, 'validation_failed');
  t.is((await storedMeterRows('ing-many')).length, 0);
});

test('a body over the byte limit gets 413 and writes nothing', async (t) => {
  const padded = { ...meterReading('ing-huge', minutesAgo(1)), padding: 'x'.repeat(5 * 1024 * 1024) };
  const res = await svc.post('/v1/ingestion/meter', padded);
  t.is(res.status, 413);
  t.is(res.body.error.code, 'payload_too_large');
  t.is((await storedMeterRows('ing-huge')).length, 0);
});

test('a full batch of 5,000 readings is stored whole', async (t) => {
  const start = minutesAgo(5000);
  const batch = Array.from({ length: 5000 }, (_, i) =>
    meterReading('ing-5000', new Date(start.getTime() + i * 60_000), 0.5),
  );
  const res = await svc.post('/v1/ingestion/meter', batch);
  t.is(res.status, 202);
  t.deepEqual(res.body, { accepted: 5000, duplicates: 0 });
  t.is((await storedMeterRows('ing-5000')).length, 5000);
});
