import test from 'ava';

import { startTestService, TEST_ADMIN_KEY, type TestService } from './helpers/test-service.js';

let svc: TestService;
test.before(async () => {
  svc = await startTestService();
});
test.after.always(async () => {
  await svc?.stop();
});

const csvHeaders = { 'content-type': 'text/csv', authorization: `Bearer ${TEST_ADMIN_KEY}` };
const meterOf = async (vehicleId: string) =>
  (await svc.get(`/v1/vehicles/${vehicleId}/meter`)).body.meterId as string | undefined;

test('JSON array: creates, re-points and leaves alone, and says which', async (t) => {
  const first = await svc.put('/v1/mappings', [
    { vehicleId: 'bm-1', meterId: 'bm-m1' },
    { vehicleId: 'bm-2', meterId: 'bm-m2' },
  ]);
  t.is(first.status, 200);
  t.deepEqual(first.body, { mappings: 2, created: 2, updated: 0, unchanged: 0 });
  const second = await svc.put('/v1/mappings', [
    { vehicleId: 'bm-1', meterId: 'bm-m1' },
    { vehicleId: 'bm-2', meterId: 'bm-m9' },
    { vehicleId: 'bm-3', meterId: 'bm-m3' },
  ]);
  t.deepEqual(second.body, { mappings: 3, created: 1, updated: 1, unchanged: 1 });
  t.is(await meterOf('bm-2'), 'bm-m9');
  t.is(await meterOf('bm-3'), 'bm-m3');
});

test('CSV: header optional, blank lines and CRLF tolerated', async (t) => {
  const res = await svc.put('/v1/mappings', 'vehicle_id,meter_id\r\nbm-c1,bm-cm1\r\n\r\n"bm-c2", bm-cm2\n', csvHeaders);
  t.is(res.status, 200, JSON.stringify(res.body));
  t.deepEqual(res.body, { mappings: 2, created: 2, updated: 0, unchanged: 0 });
  t.is(await meterOf('bm-c2'), 'bm-cm2');
  const noHeader = await svc.put('/v1/mappings', 'bm-c3,bm-cm3', csvHeaders);
  t.like(noHeader.body, { mappings: 1, created: 1 });
});

test('CSV: a quoted header is a header; one naming the columns in another order is refused', async (t) => {
  const quoted = await svc.put('/v1/mappings', '"vehicle_id","meter_id"\nbm-q1,bm-qm1\n', csvHeaders);
  t.deepEqual(quoted.body, { mappings: 1, created: 1, updated: 0, unchanged: 0 });
  t.is((await svc.get('/v1/vehicles/vehicle_id/meter')).status, 404, 'the header was not taken as a mapping');
  const swapped = await svc.put('/v1/mappings', 'meter_id,vehicle_id\nbm-qm2,bm-q2\n', csvHeaders);
  t.is(swapped.status, 400);
  t.like(swapped.body.error.details[0], { line: 1, path: 'line' });
  t.is((await svc.get('/v1/vehicles/bm-q2/meter')).status, 404);
});

test('CSV: one bad line refuses the whole body; every bad line is reported by number', async (t) => {
  const body = [
    'vehicle_id,meter_id',
    'bm-x1,bm-xm1',
    'bad id,bm-xm2',
    'bm-x3',
    'bm-x4,bm-xm4,not-an-instant',
    'bm-x1,bm-xm5',
    'bm-x6,',
  ].join('\n');
  const res = await svc.put('/v1/mappings', body, csvHeaders);
  t.is(res.status, 400);
  t.is(res.body.error.code, 'validation_failed');
  t.deepEqual(
    res.body.error.details.map((d: { line: number; path: string }) => `${d.line}:${d.path}`),
    ['3:vehicle_id', '4:line', '5:from', '7:meter_id', '6:vehicle_id'],
  );
  t.regex(res.body.error.details.find((d: { line: number }) => d.line === 6).message, /already listed at line 2/);
  t.is((await svc.get('/v1/vehicles/bm-x1/meter')).status, 404, 'nothing was applied');
});

test('JSON: invalid entries and duplicates are named by index; nothing applied', async (t) => {
  const res = await svc.put('/v1/mappings', [
    { vehicleId: 'bm-j1', meterId: 'bm-jm1' },
    { vehicleId: 'bm-j2' },
    { vehicleId: 'bm-j1', meterId: 'bm-jm3' },
  ]);
  t.is(res.status, 400);
  t.deepEqual(
    res.body.error.details.map((d: { index: number; path: string }) => `${d.index}:${d.path}`),
    ['1:meterId'],
  );
  const dup = await svc.put('/v1/mappings', [
    { vehicleId: 'bm-j1', meterId: 'bm-jm1' },
    { vehicleId: 'bm-j1', meterId: 'bm-jm3' },
  ]);
  t.is(dup.status, 400);
  t.like(dup.body.error.details[0], { index: 1, path: 'vehicleId' });
  t.is((await svc.get('/v1/vehicles/bm-j1/meter')).status, 404);
});

test('empty bodies, wrong shapes and media types are refused', async (t) => {
  t.is((await svc.put('/v1/mappings', [])).status, 400);
  t.is((await svc.put('/v1/mappings', { vehicleId: 'a', meterId: 'b' })).status, 400);
  t.is((await svc.put('/v1/mappings', '\n\n', csvHeaders)).status, 400);
  const plain = await svc.put('/v1/mappings', 'a,b', {
    'content-type': 'text/plain',
    authorization: `Bearer ${TEST_ADMIN_KEY}`,
  });
  t.is(plain.status, 415);
  t.is(plain.body.error.code, 'unsupported_media_type');
});

// Alone (AVA runs serial tests before the concurrent ones): this transaction holds the
// embedded database's single session for seconds, and requests of the other tests queued
// behind it wait the whole time, which the service counts against its limits (503
// database_unavailable after DATABASE_STATEMENT_TIMEOUT_MS + 2 s) on a loaded machine.
test.serial('thousands of vehicles in one request', async (t) => {
  const lines = Array.from({ length: 10_000 }, (_, i) => `bm-fleet-${i},bm-fleet-m${i}`);
  const res = await svc.put('/v1/mappings', ['vehicle_id,meter_id', ...lines].join('\n'), csvHeaders);
  t.is(res.status, 200);
  t.deepEqual(res.body, { mappings: 10_000, created: 10_000, updated: 0, unchanged: 0 });
  t.is(await meterOf('bm-fleet-9999'), 'bm-fleet-m9999');
});

test('bulk mapping needs the admin scope', async (t) => {
  const reader = await svc.post('/v1/keys', { name: 'bm-read', scopes: ['read'] });
  const res = await svc.put('/v1/mappings', [{ vehicleId: 'bm-r', meterId: 'bm-rm' }], {
    'content-type': 'application/json',
    authorization: `Bearer ${reader.body.key}`,
  });
  t.is(res.status, 403);
});
