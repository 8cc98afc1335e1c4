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
