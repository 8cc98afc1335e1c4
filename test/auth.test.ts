import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import test from 'ava';

import { ADMIN_KEY_FILE, resolveAdminKey } from '../src/auth/admin-key.js';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/logger.js';
import {
  meterReading,
  minutesAgo,
  startTestService,
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

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

async function createKey(
  body: Record<string, unknown>,
): Promise<{ id: string; key: string; deviceKind: string | null }> {
  const res = await svc.post('/v1/keys', body);
  if (res.status !== 201) throw new Error(`key creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

const protectedRoutes: [string, string][] = [
  ['POST', '/v1/ingestion/meter'],
  ['POST', '/v1/ingestion/vehicle'],
  ['GET', '/v1/meters/m1/live'],
  ['GET', '/v1/vehicles/v1/live'],
  ['GET', '/v1/vehicles/v1/meter'],
  ['PUT', '/v1/vehicles/v1/meter'],
  ['GET', '/v1/analytics/performance/v1'],
  ['GET', '/v1/keys'],
  ['POST', '/v1/keys'],
  ['DELETE', '/v1/keys/00000000-0000-0000-0000-000000000000'],
  ['GET', '/v1/unknown'],
];

test('every /v1 route needs a key: missing or unknown gives 401 in the standard shape', async (t) => {
  for (const [method, path] of protectedRoutes) {
    const variants: Record<string, string>[] = [
      {},
      bearer('evt_not-a-real-key'),
      { 'x-api-key': 'nope' },
      { authorization: 'Basic abc' },
    ];
    for (const headers of variants) {
      const res = await fetch(svc.url + path, {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        body: method === 'GET' ? undefined : '{}',
      });
      const body = (await res.json()) as { error: { code: string; message: string } };
      t.is(res.status, 401, `${method} ${path} ${JSON.stringify(headers)}`);
      t.is(body.error.code, 'unauthorized');
      t.is(res.headers.get('www-authenticate'), 'Bearer');
    }
  }
  t.is((await fetch(`${svc.url}/healthz`)).status, 200);
  t.is((await fetch(`${svc.url}/readyz`)).status, 200);
  // The router ignores case; authentication must too.
  t.is((await fetch(`${svc.url}/V1/KEYS`)).status, 401);
  // The reference is open for reading only.
  t.is((await fetch(`${svc.url}/v1/openapi.json`)).status, 200);
  t.is(
    (
      await fetch(`${svc.url}/v1/openapi.json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      })
    ).status,
    401,
  );
});

test('an Authorization header without the Bearer scheme is told so, not "a key is required"', async (t) => {
  const created = await createKey({ name: 'no-scheme', scopes: ['read'] });
  const bare = await svc.get('/v1/keys', { authorization: created.key });
  t.is(bare.status, 401);
  t.is(bare.body.error.code, 'unauthorized');
  t.regex(bare.body.error.message, /no scheme.*Bearer <key>/);
  const basic = await svc.get('/v1/keys', { authorization: `Basic ${created.key}` });
  t.regex(basic.body.error.message, /scheme "Basic" is not accepted/);
  const none = await svc.get('/v1/keys', {});
  t.regex(none.body.error.message, /API key is required/);
});

test('keys: created once with the plaintext, listed without secrets, usable through both headers', async (t) => {
  const created = await svc.post('/v1/keys', { name: 'gateway', scopes: ['ingest', 'read', 'read'] });
  t.is(created.status, 201);
  t.like(created.body, { name: 'gateway', scopes: ['ingest', 'read'], deviceId: null, deviceKind: null });
  t.regex(created.body.key, /^evt_[A-Za-z0-9_-]{43}$/);

  const listed = await svc.get('/v1/keys');
  const entry = listed.body.keys.find((k: { id: string }) => k.id === created.body.id);
  t.deepEqual(Object.keys(entry).sort(), ['createdAt', 'deviceId', 'deviceKind', 'id', 'name', 'scopes']);
  t.false(JSON.stringify(listed.body).includes(created.body.key));

  const viaBearer = await svc.get('/v1/vehicles/none/live', bearer(created.body.key));
  t.is(viaBearer.status, 404); // authenticated, authorized, just unknown
  const viaHeader = await svc.get('/v1/vehicles/none/live', { 'x-api-key': created.body.key });
  t.is(viaHeader.status, 404);
});

test('key creation validates its input', async (t) => {
  const cases = [
    {},
    { name: '', scopes: ['read'] },
    { name: 'x', scopes: [] },
    { name: 'x', scopes: ['root'] },
    { name: 'x', scopes: ['read'], deviceId: 'bad id', deviceKind: 'vehicle' },
    { name: 'x', scopes: ['ingest'], deviceId: 'ev-1' },
    { name: 'x', scopes: ['ingest'], deviceKind: 'meter' },
    { name: 'x', scopes: ['ingest'], deviceId: 'ev-1', deviceKind: 'charger' },
  ];
  for (const body of cases) {
    const res = await svc.post('/v1/keys', body);
    t.is(res.status, 400, JSON.stringify(body));
    t.is(res.body.error.code, 'validation_failed');
  }
});

test('scopes: each route checks its own, 403 otherwise', async (t) => {
  const reader = await createKey({ name: 'analyst', scopes: ['read'] });
  const writer = await createKey({ name: 'device-fleet', scopes: ['ingest'] });
  const reading = meterReading('scope-m', minutesAgo(2));

  const readerIngest = await svc.post('/v1/ingestion/meter', reading, bearer(reader.key));
  t.is(readerIngest.status, 403);
  t.is(readerIngest.body.error.code, 'forbidden');
  t.is((await svc.post('/v1/ingestion/meter', reading, bearer(writer.key))).status, 202);
  t.is((await svc.get('/v1/meters/scope-m/live', bearer(reader.key))).status, 200);
  t.is((await svc.get('/v1/meters/scope-m/live', bearer(writer.key))).status, 403);
  t.is((await svc.get('/v1/analytics/performance/x', bearer(writer.key))).status, 403);
  t.is((await svc.put('/v1/vehicles/scope-v/meter', { meterId: 'scope-m' }, bearer(reader.key))).status, 403);
  t.is((await svc.get('/v1/keys', bearer(reader.key))).status, 403);
  t.is((await svc.post('/v1/keys', { name: 'escalate', scopes: ['admin'] }, bearer(writer.key))).status, 403);
  t.is((await svc.get('/v1/vehicles/scope-v/meter', bearer(reader.key))).status, 404);
});

test('a device-bound key ingests only its own device; any other id refuses the whole request', async (t) => {
  const device = await createKey({
    name: 'ev-7 modem',
    scopes: ['ingest'],
    deviceId: 'bound-ev-7',
    deviceKind: 'vehicle',
  });
  const own = await svc.post('/v1/ingestion/vehicle', vehicleReading('bound-ev-7', minutesAgo(3)), bearer(device.key));
  t.is(own.status, 202);
  const mixed = await svc.post(
    '/v1/ingestion/vehicle',
    [vehicleReading('bound-ev-7', minutesAgo(2)), vehicleReading('bound-ev-8', minutesAgo(2))],
    bearer(device.key),
  );
  t.is(mixed.status, 403);
  t.is(mixed.body.error.code, 'device_forbidden');
  t.deepEqual(
    mixed.body.error.details.map((d: { index: number; path: string }) => [d.index, d.path]),
    [[1, 'vehicleId']],
  );
  t.is((await svc.get('/v1/vehicles/bound-ev-8/live')).status, 404);
  t.is((await svc.get('/v1/vehicles/bound-ev-7/live')).status, 200);
});

test('a device-bound key is bound to the kind of its device too: a vehicle key cannot post meter readings under its id', async (t) => {
  const device = await createKey({
    name: 'ev-9 modem',
    scopes: ['ingest'],
    deviceId: 'kind-ev-9',
    deviceKind: 'vehicle',
  });
  t.is(device.deviceKind, 'vehicle');
  const asMeter = await svc.post('/v1/ingestion/meter', meterReading('kind-ev-9', minutesAgo(2)), bearer(device.key));
  t.is(asMeter.status, 403);
  t.is(asMeter.body.error.code, 'device_forbidden');
  t.regex(asMeter.body.error.message, /vehicle kind-ev-9.*meter readings/);
  t.is((await svc.get('/v1/meters/kind-ev-9/live')).status, 404);
  const meterKey = await createKey({ name: 'm-9', scopes: ['ingest'], deviceId: 'kind-m-9', deviceKind: 'meter' });
  t.is(
    (await svc.post('/v1/ingestion/meter', meterReading('kind-m-9', minutesAgo(2)), bearer(meterKey.key))).status,
    202,
  );
  const asVehicle = await svc.post(
    '/v1/ingestion/vehicle',
    vehicleReading('kind-m-9', minutesAgo(2)),
    bearer(meterKey.key),
  );
  t.is(asVehicle.status, 403);
});

test('a revoked key stops working within 5 seconds', async (t) => {
  const key = await createKey({ name: 'to revoke', scopes: ['read'] });
  t.is((await svc.get('/v1/keys', bearer(key.key))).status, 403); // cached as valid
  const revoked = await svc.delete(`/v1/keys/${key.id}`);
  t.is(revoked.status, 204);
  const deadline = Date.now() + 5000;
  let status = 0;
  while (Date.now() < deadline) {
    status = (await svc.get('/v1/meters/x/live', bearer(key.key))).status;
    if (status === 401) break;
    await new Promise((done) => setTimeout(done, 100));
  }
  t.is(status, 401);
  t.is((await svc.delete(`/v1/keys/${key.id}`)).status, 404);
  t.is((await svc.delete('/v1/keys/not-a-uuid')).status, 400);
});

test('rate limits per key: a token bucket, 429 with Retry-After', async (t) => {
  const limited = await startTestService({ RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '3' });
  t.teardown(() => limited.stop());
  const created = await limited.post('/v1/keys', { name: 'chatty', scopes: ['read'] });
  const key = created.body.key as string;
  const statuses = [];
  for (let i = 0; i < 5; i += 1) statuses.push((await limited.get('/v1/meters/x/live', bearer(key))).status);
  t.deepEqual(statuses, [404, 404, 404, 429, 429]);
  const refused = await limited.get('/v1/meters/x/live', bearer(key));
  t.is(refused.body.error.code, 'rate_limited');
  t.is(refused.headers.get('retry-after'), '1');
  // Another key has its own bucket.
  const other = await limited.post('/v1/keys', { name: 'quiet', scopes: ['read'] });
  t.is((await limited.get('/v1/meters/x/live', bearer(other.body.key))).status, 404);
});

test('production refuses to start without an admin key of at least 32 characters', (t) => {
  const missing = t.throws(() => loadConfig({ NODE_ENV: 'production' }), { instanceOf: ConfigError });
  t.regex(missing.message, /ADMIN_API_KEY/);
  const short = t.throws(() => loadConfig({ NODE_ENV: 'production', ADMIN_API_KEY: 'short' }), {
    instanceOf: ConfigError,
  });
  t.regex(short.message, /ADMIN_API_KEY: must be at least 32 characters/);
  t.notThrows(() => loadConfig({ NODE_ENV: 'production', ADMIN_API_KEY: 'k'.repeat(32) }));
});

test('without ADMIN_API_KEY a key is generated once, kept owner-only in DATA_DIR, and reused', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ev-admin-key-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const config = loadConfig({ DATA_DIR: dir });
  const first = await resolveAdminKey(config, createLogger('silent'));
  const file = join(dir, ADMIN_KEY_FILE);
  t.is((await stat(file)).mode & 0o777, 0o600);
  t.is((await readFile(file, 'utf8')).trim(), first);
  t.is(await resolveAdminKey(config, createLogger('silent')), first);
});
