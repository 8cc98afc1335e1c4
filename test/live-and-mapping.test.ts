import type Router from '@koa/router';
import test from 'ava';

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

test('live state follows the newest device timestamp, not the arrival order', async (t) => {
  const newer = minutesAgo(2);
  const older = minutesAgo(30);
  await svc.post('/v1/ingestion/vehicle', vehicleReading('live-v', newer, 1.1, 80, 31));
  await svc.post('/v1/ingestion/vehicle', vehicleReading('live-v', older, 9.9, 10, 20)); // late
  const res = await svc.get('/v1/vehicles/live-v/live');
  t.is(res.status, 200);
  t.like(res.body, {
    vehicleId: 'live-v',
    soc: 80,
    kwhDeliveredDc: 1.1,
    batteryTemp: 31,
    timestamp: newer.toISOString(),
  });
  t.true(Date.parse(res.body.receivedAt) <= Date.now());

  const newest = minutesAgo(1);
  await svc.post('/v1/ingestion/vehicle', [
    vehicleReading('live-v', newest, 0.5, 81, 32),
    vehicleReading('live-v', older, 0, 5, 5),
  ]);
  t.like((await svc.get('/v1/vehicles/live-v/live')).body, { soc: 81, timestamp: newest.toISOString() });
});

test('a duplicate reading never replaces the live row', async (t) => {
  const at = minutesAgo(3);
  await svc.post('/v1/ingestion/meter', meterReading('live-m', at, 1.5, 230));
  const dup = await svc.post('/v1/ingestion/meter', meterReading('live-m', at, 7, 240));
  t.deepEqual(dup.body, { accepted: 0, duplicates: 1 });
  const res = await svc.get('/v1/meters/live-m/live');
  t.deepEqual(
    { ...res.body, receivedAt: undefined },
    {
      meterId: 'live-m',
      kwhConsumedAc: 1.5,
      kwhConsumedAcTotal: null,
      voltage: 230,
      timestamp: at.toISOString(),
      receivedAt: undefined,
    },
  );
});

test('live state of unknown devices is 404; malformed ids are 400', async (t) => {
  const meter = await svc.get('/v1/meters/nobody/live');
  t.is(meter.status, 404);
  t.is(meter.body.error.code, 'meter_not_found');
  const vehicle = await svc.get('/v1/vehicles/nobody/live');
  t.is(vehicle.status, 404);
  t.is(vehicle.body.error.code, 'vehicle_not_found');
  const bad = await svc.get(`/v1/meters/${'x'.repeat(65)}/live`);
  t.is(bad.status, 400);
  t.deepEqual(bad.body.error.details[0].path, 'params.meterId');
});

test('a vehicle never seen and a known vehicle without a meter get distinct 404s that say how to map it', async (t) => {
  const routes = (id: string) => [
    `/v1/vehicles/${id}/meter`,
    `/v1/analytics/performance/${id}`,
    `/v1/analytics/performance/${id}/series`,
  ];
  for (const path of routes('never-seen-v')) {
    const res = await svc.get(path);
    t.is(res.status, 404, path);
    t.is(res.body.error.code, 'vehicle_not_found', path);
    t.regex(res.body.error.message, /is unknown: no reading.*PUT \/v1\/vehicles\/never-seen-v\/meter/, path);
  }
  t.is((await svc.post('/v1/ingestion/vehicle', vehicleReading('seen-unmapped-v', minutesAgo(2)))).status, 202);
  for (const path of routes('seen-unmapped-v')) {
    const res = await svc.get(path);
    t.is(res.status, 404, path);
    t.is(res.body.error.code, 'vehicle_not_mapped', path);
    t.regex(res.body.error.message, /has no meter mapped.*PUT \/v1\/vehicles\/seen-unmapped-v\/meter/, path);
  }
});

test('unknown query parameters are refused naming the parameter and the accepted ones, on every route', async (t) => {
  const misspelt = await svc.get('/v1/analytics/fleet?start=2026-01-01T00:00:00Z');
  t.is(misspelt.status, 400);
  t.is(misspelt.body.error.code, 'validation_failed');
  t.is(misspelt.body.error.details[0].path, 'query.start');
  t.regex(misspelt.body.error.details[0].message, /accepted: .*from.*to/);
  const none = await svc.get('/v1/vehicles/any-v/meter?verbose=1');
  t.is(none.status, 400);
  t.is(none.body.error.details[0].path, 'query.verbose');
  t.regex(none.body.error.details[0].message, /takes no query parameters/);
  const open = await svc.get('/healthz?x=1', {});
  t.is(open.status, 400);
});

test('snake_case fields are answered with the camelCase name to use', async (t) => {
  const res = await svc.post('/v1/ingestion/meter', {
    meter_id: 'snake-m',
    kwh_consumed_ac: 1,
    voltage: 230,
    timestamp: minutesAgo(1).toISOString(),
  });
  t.is(res.status, 400);
  const byPath = new Map(res.body.error.details.map((d: { path: string; message: string }) => [d.path, d.message]));
  t.regex(String(byPath.get('meterId')), /camelCase, send "meterId" instead of "meter_id"/);
  t.regex(String(byPath.get('kwhConsumedAc')), /send "kwhConsumedAc" instead of "kwh_consumed_ac"/);
  const mapping = await svc.put('/v1/vehicles/snake-v/meter', { meter_id: 'snake-m' });
  t.regex(mapping.body.error.details[0].message, /send "meterId" instead of "meter_id"/);
});

test('405 carries an Allow header listing the methods of the path, on every route path', async (t) => {
  const res = await fetch(`${svc.url}/v1/vehicles/allow-v/meter`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` },
  });
  t.is(res.status, 405);
  t.deepEqual(res.headers.get('allow')?.split(', ').sort(), ['GET', 'HEAD', 'PUT']);
  t.like(await res.json(), { error: { code: 'method_not_allowed' } });

  // Every path the routers declare (API routes, pages, static files), with a method it lacks.
  const routers = svc.app.middleware
    .map((mw) => (mw as { router?: Router }).router)
    .filter((router): router is Router => router !== undefined);
  const paths = [...new Set(routers.flatMap((router) => router.stack.map((layer) => String(layer.path))))];
  let tried = 0;
  for (const path of paths) {
    const url = path.replace(/:(\w+)/g, (_, name: string) => (name === 'id' ? '1' : `allow-${name.toLowerCase()}`));
    const methods = new Set(
      routers.flatMap((router) => router.match(url, 'GET').path.flatMap((layer) => layer.methods)),
    );
    const missing = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].find((method) => !methods.has(method));
    if (!missing) continue;
    tried += 1;
    const answer = await fetch(svc.url + url, {
      method: missing,
      headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` },
    });
    t.is(answer.status, 405, `${missing} ${url}`);
    t.deepEqual(answer.headers.get('allow')?.split(', ').sort(), [...methods].sort(), `Allow of ${missing} ${url}`);
    t.like(await answer.json(), { error: { code: 'method_not_allowed' } }, `${missing} ${url}`);
  }
  t.true(tried > 20, `${tried} of ${paths.length} paths tried`);
  t.log(`${tried} of ${paths.length} paths tried`);
});

test('mapping: set, read, re-point; unknown vehicle 404; invalid body 400', async (t) => {
  const unmapped = await svc.get('/v1/vehicles/map-v/meter');
  t.is(unmapped.status, 404);
  t.is(unmapped.body.error.code, 'vehicle_not_found');
  // A first assignment holds since the meter was free (here: since the beginning).
  const set = await svc.put('/v1/vehicles/map-v/meter', { meterId: 'map-m1' });
  t.is(set.status, 200);
  t.deepEqual(set.body, { vehicleId: 'map-v', meterId: 'map-m1', from: null });
  t.deepEqual((await svc.get('/v1/vehicles/map-v/meter')).body, { vehicleId: 'map-v', meterId: 'map-m1', from: null });
  // A move happens now: the first assignment ends there.
  const before = Date.now();
  const moved = await svc.put('/v1/vehicles/map-v/meter', { meterId: 'map-m2' });
  t.true(Date.parse(moved.body.from) >= before && Date.parse(moved.body.from) <= Date.now());
  t.like((await svc.get('/v1/vehicles/map-v/meter')).body, { vehicleId: 'map-v', meterId: 'map-m2' });
  const history = (await svc.get('/v1/vehicles/map-v/meter/history')).body.assignments;
  t.like(history, [
    { meterId: 'map-m1', from: null, to: moved.body.from },
    { meterId: 'map-m2', from: moved.body.from, to: null },
  ]);

  const invalid = await svc.put('/v1/vehicles/map-v/meter', { meterId: 'bad id' });
  t.is(invalid.status, 400);
  t.is(invalid.body.error.details[0].path, 'meterId');
  const missing = await svc.put('/v1/vehicles/map-v/meter', {});
  t.is(missing.status, 400);
  t.deepEqual((await svc.get('/v1/vehicles/map-v/meter')).body.meterId, 'map-m2');
});

test('health: /healthz, /health and /readyz answer without a key, unknown routes get the error shape', async (t) => {
  t.deepEqual((await svc.get('/healthz', {})).body, { status: 'ok' });
  t.deepEqual((await svc.get('/health', {})).body, { status: 'ok' });
  const ready = await svc.get('/readyz');
  t.is(ready.status, 200);
  t.is(ready.body.status, 'ready');
  const unknown = await svc.get('/v1/nothing-here');
  t.is(unknown.status, 404);
  t.is(unknown.body.error.code, 'not_found');
  t.regex(unknown.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  const wrongMethod = await fetch(`${svc.url}/healthz`, { method: 'POST' });
  t.is(wrongMethod.status, 405);
  t.like(await wrongMethod.json(), { error: { code: 'method_not_allowed' } });
  const unknownMethod = await fetch(`${svc.url}/healthz`, { method: 'PROPFIND' });
  t.is(unknownMethod.status, 501);
  t.like(await unknownMethod.json(), { error: { code: 'not_implemented' } });
});

test('a well-formed client request id is echoed back, a malformed one replaced', async (t) => {
  const mine = await fetch(`${svc.url}/healthz`, { headers: { 'X-Request-Id': 'trace-42' } });
  t.is(mine.headers.get('x-request-id'), 'trace-42');
  const bad = await fetch(`${svc.url}/healthz`, { headers: { 'X-Request-Id': 'no spaces allowed' } });
  t.not(bad.headers.get('x-request-id'), 'no spaces allowed');
});
