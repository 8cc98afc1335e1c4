import test from 'ava';
import { sql } from 'kysely';

import { seededRandom, type Random } from '../tools/simulator/random.js';
import { startTestService, TEST_ADMIN_KEY, type TestService } from './helpers/test-service.js';

/**
 * Random and malformed bodies, headers and ids thrown at every route: never a 500, always
 * the standard error shape, and nothing written except by requests that got 202.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 4242);
const REQUESTS = 600;

let svc: TestService;
test.before(async () => {
  svc = await startTestService();
});
test.after.always(async () => {
  await svc?.stop();
});

const pick = <T>(rnd: Random, items: readonly T[]) => items[Math.floor(rnd() * items.length)]!;

function randomId(rnd: Random): string {
  if (rnd() < 0.6) return `fz-${Math.floor(rnd() * 20)}`;
  return pick(rnd, [
    'fz-ok-1',
    'fz.ok:2_3-4',
    '',
    ' ',
    'x'.repeat(64),
    'x'.repeat(65),
    'bad id',
    '..',
    '%2e%2e',
    'é',
    '💥',
    '<script>',
    "'; DROP TABLE meter_live; --",
    'a/b',
    '%00',
    String(Math.floor(rnd() * 1e6)),
  ]);
}

function randomScalar(rnd: Random): unknown {
  return pick(rnd, [
    null,
    true,
    0,
    -1,
    1e308,
    -0.0001,
    3.5,
    101,
    -51,
    '',
    '12',
    'NaN',
    new Date(Date.now() - 60_000).toISOString(),
    new Date(Date.now() + 3_600_000).toISOString(),
    '2026-02-30T00:00:00Z',
    '2026-11-27T10:00:00',
    'not a date',
    [],
    {},
  ]);
}

function randomReading(rnd: Random): unknown {
  const base: Record<string, unknown> = {
    meterId: randomId(rnd),
    vehicleId: randomId(rnd),
    kwhConsumedAc: rnd() < 0.85 ? Math.round(rnd() * 1000) / 1000 : randomScalar(rnd),
    kwhDeliveredDc: rnd() < 0.85 ? Math.round(rnd() * 1000) / 1000 : randomScalar(rnd),
    voltage: rnd() < 0.85 ? 230 : randomScalar(rnd),
    soc: rnd() < 0.85 ? Math.round(rnd() * 100) : randomScalar(rnd),
    batteryTemp: rnd() < 0.85 ? 25 : randomScalar(rnd),
    timestamp: rnd() < 0.85 ? new Date(Date.now() - Math.floor(rnd() * 3_600_000)).toISOString() : randomScalar(rnd),
  };
  for (const key of Object.keys(base)) if (rnd() < 0.03) delete base[key];
  if (rnd() < 0.1) base.extra = { nested: [1, { deeper: 'x' }] };
  return base;
}

function randomBody(rnd: Random): string | undefined {
  const r = rnd();
  if (r < 0.05) return undefined;
  if (r < 0.1) return '{"meterId": "x",';
  if (r < 0.13) return '['.repeat(5000) + ']'.repeat(5000);
  if (r < 0.16) return '\u0000\u0001garbage';
  if (r < 0.2) return JSON.stringify(randomScalar(rnd));
  if (r < 0.55) return JSON.stringify(randomReading(rnd));
  if (r < 0.75) return JSON.stringify(Array.from({ length: Math.floor(rnd() * 20) }, () => randomReading(rnd)));
  if (r < 0.85)
    return JSON.stringify({
      meterId: randomId(rnd),
      name: randomId(rnd),
      scopes: [pick(rnd, ['read', 'ingest', 'admin', 'root', 7])],
    });
  return JSON.stringify({ from: randomScalar(rnd), to: randomScalar(rnd) });
}

function randomRequest(rnd: Random): { method: string; path: string; headers: Record<string, string>; body?: string } {
  const id = encodeURIComponent(randomId(rnd));
  const raw = rnd() < 0.1 ? randomId(rnd) : id;
  const query =
    rnd() < 0.5
      ? `?from=${encodeURIComponent(String(randomScalar(rnd)))}&to=${encodeURIComponent(String(randomScalar(rnd)))}`
      : '';
  const [method, path] = pick(rnd, [
    ['POST', '/v1/ingestion/meter'],
    ['POST', '/v1/ingestion/vehicle'],
    ['GET', `/v1/meters/${raw}/live`],
    ['GET', `/v1/vehicles/${raw}/live`],
    ['PUT', `/v1/vehicles/${raw}/meter`],
    ['GET', `/v1/vehicles/${raw}/meter`],
    ['GET', `/v1/analytics/performance/${raw}${query}`],
    ['POST', '/v1/keys'],
    ['GET', '/v1/keys'],
    ['DELETE', `/v1/keys/${raw}`],
    ['PATCH', '/v1/ingestion/meter'],
    ['GET', `/v1/${raw}`],
    ['POST', `/healthz`],
  ] as const);
  const headers: Record<string, string> = {};
  const auth = rnd();
  if (auth < 0.75) headers.authorization = `Bearer ${TEST_ADMIN_KEY}`;
  else if (auth < 0.85) headers['x-api-key'] = randomId(rnd);
  else if (auth < 0.9) headers.authorization = `Bearer ${'k'.repeat(5000)}`;
  const type = rnd();
  if (type < 0.8) headers['content-type'] = 'application/json';
  else if (type < 0.85) headers['content-type'] = 'application/json; charset=latin1';
  else if (type < 0.9) headers['content-type'] = 'text/csv';
  if (rnd() < 0.1) headers['x-request-id'] = randomId(rnd) || 'x';
  const body = method === 'GET' || method === 'DELETE' ? undefined : randomBody(rnd);
  return { method, path, headers, body };
}

test('fuzz: never a 500, always the error shape, no partial writes', async (t) => {
  const rnd = seededRandom(SEED);
  let acceptedReadings = 0;
  const statuses = new Map<number, number>();
  for (let i = 0; i < REQUESTS; i += 1) {
    const req = randomRequest(rnd);
    let res: Response;
    try {
      res = await fetch(svc.url + req.path, { method: req.method, headers: req.headers, body: req.body });
    } catch (error) {
      // fetch itself refuses some ids as URLs: nothing reached the server.
      if (error instanceof TypeError) continue;
      throw error;
    }
    const text = await res.text();
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    const label = `${req.method} ${req.path} ${JSON.stringify(req.headers)} ${String(req.body).slice(0, 200)} -> ${res.status} ${text.slice(0, 300)}`;
    t.true(res.status < 500, label);
    if (res.status >= 400) {
      const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
      t.is(typeof body.error?.code, 'string', label);
      t.is(typeof body.error?.message, 'string', label);
    }
    if (res.status === 202) acceptedReadings += (JSON.parse(text) as { accepted: number }).accepted;
  }
  const stored = await sql<{ n: number }>`
    SELECT (SELECT count(*) FROM meter_telemetry_history) + (SELECT count(*) FROM vehicle_telemetry_history) AS n`.execute(
    svc.dbHandle.db,
  );
  t.is(stored.rows[0]!.n, acceptedReadings, 'stored rows are exactly the acknowledged readings');
  t.log(
    [...statuses.entries()]
      .sort()
      .map(([s, n]) => `${s}: ${n}`)
      .join(', '),
  );
  t.true((statuses.get(202) ?? 0) >= 5, 'the fuzzer also produced valid requests');
});

/** A time-of-day and offset that carry a date at the edge of years 0001-9999 across it (or not). */
function edgeInstant(rnd: Random): { text: string; inRange: boolean } {
  const early = rnd() < 0.5;
  const sign = rnd() < 0.5 ? '+' : '-';
  const offsetMinutes = pick(rnd, [0, 1, 30, 60, 59 + 23 * 60, Math.floor(rnd() * 24 * 60)]);
  const hh = String(Math.floor(offsetMinutes / 60)).padStart(2, '0');
  const mm = String(offsetMinutes % 60).padStart(2, '0');
  const clock = early
    ? pick(rnd, ['00:00:00', '00:00:00.001', '00:30:00', '23:59:59.999', `${pick(rnd, ['01', '11', '22'])}:15:00`])
    : pick(rnd, ['23:59:59.999', '23:59:59', '23:30:00', '00:00:00', `${pick(rnd, ['01', '11', '22'])}:45:00`]);
  const date = early ? pick(rnd, ['0000-01-01', '0001-01-01', '0001-01-02']) : pick(rnd, ['9999-12-31', '9999-12-30']);
  const zone = offsetMinutes === 0 && rnd() < 0.5 ? 'Z' : `${sign}${hh}:${mm}`;
  const text = `${date}T${clock}${zone}`;
  const ms = new Date(text).getTime();
  const inRange =
    !Number.isNaN(ms) &&
    ms >= new Date('0001-01-01T00:00:00Z').getTime() &&
    ms <= new Date('9999-12-31T23:59:59.999Z').getTime();
  return { text, inRange };
}

test('instants at the edges of years 0001-9999, with offsets: 400 where out of range, never a 500', async (t) => {
  const rnd = seededRandom(SEED + 1);
  const put = await svc.put('/v1/vehicles/edge-v/meter', { meterId: 'edge-m' });
  t.is(put.status, 200);
  const assignmentId = (await svc.get('/v1/vehicles/edge-v/meter/history')).body.assignments[0].id as number;
  const csv = (text: string) =>
    fetch(`${svc.url}/v1/mappings`, {
      method: 'PUT',
      headers: { 'content-type': 'text/csv', authorization: `Bearer ${TEST_ADMIN_KEY}` },
      body: `vehicle_id,meter_id,from\nedge-v2,edge-m2,${text}\n`,
    }).then(async (res) => ({ status: res.status, body: (await res.json()) as { error?: { code: string } } }));
  const q = (text: string) => encodeURIComponent(text);
  const routes: [string, (text: string) => Promise<{ status: number; body: { error?: { code: string } } }>][] = [
    ['PUT meter', (text) => svc.put('/v1/vehicles/edge-v3/meter', { meterId: 'edge-m3', from: text })],
    ['PATCH from', (text) => svc.patch(`/v1/assignments/${assignmentId}`, { from: text })],
    ['PATCH to', (text) => svc.patch(`/v1/assignments/${assignmentId}`, { to: text })],
    [
      'PUT mappings JSON',
      (text) => svc.put('/v1/mappings', [{ vehicleId: 'edge-v4', meterId: 'edge-m4', from: text }]),
    ],
    ['PUT mappings CSV', csv],
    ['performance from', (text) => svc.get(`/v1/analytics/performance/edge-v?from=${q(text)}`)],
    ['performance to', (text) => svc.get(`/v1/analytics/performance/edge-v?to=${q(text)}`)],
    ['series from', (text) => svc.get(`/v1/analytics/performance/edge-v/series?from=${q(text)}`)],
    ['fleet to', (text) => svc.get(`/v1/analytics/fleet?to=${q(text)}`)],
    ['meter events from', (text) => svc.get(`/v1/meters/edge-m/register-events?from=${q(text)}`)],
    ['vehicle events to', (text) => svc.get(`/v1/vehicles/edge-v/register-events?to=${q(text)}`)],
  ];
  let outOfRange = 0;
  for (let i = 0; i < 150; i += 1) {
    const { text, inRange } = edgeInstant(rnd);
    const [name, send] = pick(rnd, routes);
    const res = await send(text);
    const label = `${name} ${text} -> ${res.status} ${JSON.stringify(res.body)}`;
    t.true(res.status < 500, label);
    if (!inRange) {
      outOfRange += 1;
      t.is(res.status, 400, label);
      t.is(res.body.error?.code, 'validation_failed', label);
    }
  }
  t.true(outOfRange >= 20, 'the generator also produced instants outside the range');
  // The exact inputs of the issue.
  for (const text of ['0001-01-01T00:00:00+01:00', '9999-12-31T23:00:00-02:00']) {
    for (const [name, send] of routes) {
      const res = await send(text);
      t.is(res.status, 400, `${name} ${text} -> ${res.status} ${JSON.stringify(res.body)}`);
    }
  }
  // Nothing of the refused requests changed the assignment.
  t.deepEqual(
    (await svc.get('/v1/vehicles/edge-v/meter/history')).body.assignments.map((a: { id: number }) => a.id),
    [assignmentId],
  );
});

test('corrupt or truncated compressed bodies on every body route: 400 bad_request', async (t) => {
  const { gzipSync, deflateSync, brotliCompressSync } = await import('node:zlib');
  const document = (await svc.get('/v1/openapi.json')).body as {
    paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>>;
  };
  const bodyRoutes = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([, operation]) => operation.requestBody !== undefined)
      .map(([method, operation]) => ({
        method: method.toUpperCase(),
        path: path.replace(/\{(\w+)\}/g, (_, name: string) => (name === 'id' ? '1' : `cz-${name}`)),
        types: Object.keys(operation.requestBody!.content),
      })),
  );
  t.true(bodyRoutes.length >= 6, JSON.stringify(bodyRoutes));
  const plain = Buffer.from(JSON.stringify({ meterId: 'cz-m', vehicleId: 'cz-v', name: 'cz', scopes: ['read'] }));
  const encodings: [string, Buffer][] = [
    ['gzip', gzipSync(plain)],
    ['deflate', deflateSync(plain)],
    ['br', brotliCompressSync(plain)],
  ];
  for (const route of bodyRoutes) {
    for (const type of route.types) {
      for (const [encoding, compressed] of encodings) {
        const bodies: [string, Buffer][] = [
          ['truncated', compressed.subarray(0, Math.max(1, Math.floor(compressed.length / 2)))],
          ['corrupt', Buffer.from(compressed.map((byte, i) => (i > 2 ? byte ^ 0x5a : byte)))],
          ['garbage', Buffer.from('not compressed at all')],
        ];
        for (const [kind, body] of bodies) {
          const res = await fetch(svc.url + route.path, {
            method: route.method,
            headers: {
              'content-type': type,
              'content-encoding': encoding,
              authorization: `Bearer ${TEST_ADMIN_KEY}`,
            },
            body: new Uint8Array(body),
          });
          const text = await res.text();
          const label = `${route.method} ${route.path} ${type} ${encoding} ${kind} -> ${res.status} ${text}`;
          t.is(res.status, 400, label);
          t.is((JSON.parse(text) as { error: { code: string } }).error.code, 'bad_request', label);
        }
      }
    }
  }
});

test('a fleet cursor is validated like any client input: a vehicle id with a NUL is a 400', async (t) => {
  const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
  const to = hour.toISOString();
  const cursor = (
    after: { key: number | null; vehicleId: string },
    from = new Date(hour.getTime() - 3_600_000).toISOString(),
  ) => Buffer.from(JSON.stringify({ from, to, sort: 'vehicleId', belowThreshold: false, after })).toString('base64url');
  for (const value of [
    cursor({ key: null, vehicleId: 'a\u0000b' }),
    cursor({ key: null, vehicleId: 'x'.repeat(65) }),
    cursor({ key: null, vehicleId: 'ok' }, '0000-12-31T23:00:00.000Z'),
  ]) {
    const res = await svc.get(`/v1/analytics/fleet?cursor=${value}`);
    t.is(res.status, 400, JSON.stringify(res.body));
    t.is(res.body.error.details[0].path, 'query.cursor');
  }
  t.is((await svc.get(`/v1/analytics/fleet?cursor=${cursor({ key: null, vehicleId: 'ok' })}`)).status, 200);
});
