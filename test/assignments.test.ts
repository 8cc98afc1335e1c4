import test from 'ava';

import { HOUR_MS, MINUTE_MS } from '../src/time.js';
import { meterReading, startTestService, vehicleReading, type TestService } from './helpers/test-service.js';

let svc: TestService;
test.before(async () => {
  svc = await startTestService();
});
test.after.always(async () => {
  await svc?.stop();
});

const iso = (ms: number) => new Date(ms).toISOString();

test('a meter serves one vehicle at a time: the second vehicle gets 409 naming the first, nothing changes', async (t) => {
  t.is((await svc.put('/v1/vehicles/as-1/meter', { meterId: 'as-shared' })).status, 200);
  const clash = await svc.put('/v1/vehicles/as-2/meter', { meterId: 'as-shared' });
  t.is(clash.status, 409);
  t.is(clash.body.error.code, 'assignment_conflict');
  t.like(clash.body.error.details[0], {
    path: 'meterId',
    conflict: { vehicleId: 'as-1', meterId: 'as-shared', to: null },
  });
  t.is((await svc.get('/v1/vehicles/as-2/meter')).status, 404);
  // After as-1 moves away, the meter is free from that instant on.
  const moved = await svc.put('/v1/vehicles/as-1/meter', { meterId: 'as-other' });
  t.is(moved.status, 200);
  const taken = await svc.put('/v1/vehicles/as-2/meter', { meterId: 'as-shared' });
  t.is(taken.status, 200);
  t.is(taken.body.from, moved.body.from, 'a first assignment starts when the meter became free');
});

test('moves split the analytics at the instant of the move, inside an hour too', async (t) => {
  const base = Math.floor((Date.now() - 6 * HOUR_MS) / HOUR_MS) * HOUR_MS;
  await svc.put('/v1/vehicles/as-mv/meter', { meterId: 'as-mv-a', from: iso(base) });
  // Both meters report every minute for three hours; the vehicle moves 20 minutes into the second hour.
  for (const meterId of ['as-mv-a', 'as-mv-b']) {
    const readings = Array.from({ length: 180 }, (_, i) => meterReading(meterId, new Date(base + i * MINUTE_MS), 1));
    await svc.post('/v1/ingestion/meter', readings);
  }
  await svc.post('/v1/ingestion/vehicle', [vehicleReading('as-mv', new Date(base + MINUTE_MS), 0.9)]);
  const move = base + 80 * MINUTE_MS;
  t.is((await svc.put('/v1/vehicles/as-mv/meter', { meterId: 'as-mv-b', from: iso(move) })).status, 200);
  const res = await svc.get(`/v1/analytics/performance/as-mv?from=${iso(base)}&to=${iso(base + 3 * HOUR_MS)}`);
  t.is(res.status, 200);
  // 80 readings from A, then 100 from B: one meter at a time, never both.
  t.like(res.body, { acEnergyKwh: 180, readings: { meter: 180 }, meterId: 'as-mv-b' });
  t.deepEqual(res.body.meters, [
    { meterId: 'as-mv-a', from: iso(base), to: iso(move) },
    { meterId: 'as-mv-b', from: iso(move), to: iso(base + 3 * HOUR_MS) },
  ]);
  // A move to before a later assignment is a correction, not a move: 409, nothing changed.
  const backwards = await svc.put('/v1/vehicles/as-mv/meter', { meterId: 'as-mv-c', from: iso(base + 10 * MINUTE_MS) });
  t.is(backwards.status, 409);
  t.like(backwards.body.error.details[0], { path: 'from', conflict: { meterId: 'as-mv-b' } });
  t.is((await svc.get('/v1/vehicles/as-mv/meter/history')).body.assignments.length, 2);
});

test('corrections and deletions are audited with the key that made them', async (t) => {
  const key = await svc.post('/v1/keys', { name: 'ops', scopes: ['admin', 'read'] });
  const auth = { authorization: `Bearer ${key.body.key}`, 'content-type': 'application/json' };
  const set = await svc.put('/v1/vehicles/as-au/meter', { meterId: 'as-au-m' }, auth);
  t.is(set.status, 200);
  const [assignment] = (await svc.get('/v1/vehicles/as-au/meter/history')).body.assignments;
  const corrected = await svc.patch(
    `/v1/assignments/${assignment.id}`,
    { from: '2026-01-01T00:00:00Z', to: null },
    auth,
  );
  t.like(corrected.body, { id: assignment.id, from: '2026-01-01T00:00:00.000Z', to: null });
  t.is((await svc.delete(`/v1/assignments/${assignment.id}`, auth)).status, 204);
  t.is((await svc.delete(`/v1/assignments/${assignment.id}`, auth)).status, 404);
  const audit = await svc.get('/v1/assignments/audit?vehicleId=as-au');
  t.deepEqual(
    audit.body.changes.map((c: { action: string; actor: string }) => [c.action, c.actor]),
    [
      ['delete', key.body.id],
      ['correct', key.body.id],
      ['assign', key.body.id],
    ],
  );
  t.like(audit.body.changes[1], {
    before: { from: null, to: null },
    after: { from: '2026-01-01T00:00:00.000Z', to: null },
  });
});

test('bulk: vehicles may swap meters in one request; two vehicles taking one meter is a 409 by index', async (t) => {
  await svc.put('/v1/mappings', [
    { vehicleId: 'as-s1', meterId: 'as-sa' },
    { vehicleId: 'as-s2', meterId: 'as-sb' },
  ]);
  const swap = await svc.put('/v1/mappings', [
    { vehicleId: 'as-s1', meterId: 'as-sb' },
    { vehicleId: 'as-s2', meterId: 'as-sa' },
  ]);
  t.deepEqual(swap.body, { mappings: 2, created: 0, updated: 2, unchanged: 0 });
  const both = await svc.put('/v1/mappings', [
    { vehicleId: 'as-s3', meterId: 'as-sc' },
    { vehicleId: 'as-s4', meterId: 'as-sc' },
  ]);
  t.is(both.status, 409);
  t.like(both.body.error.details[0], { index: 1, path: 'meterId' });
  t.is((await svc.get('/v1/vehicles/as-s3/meter')).status, 404, 'nothing of the request was applied');
});

/** The mapping walkthrough of docs/api.md, in its order; `ids` stand in for ev-42, ev-43, meter-17, meter-18. */
async function mappingWalkthrough(t: { is(a: unknown, b: unknown, m?: string): void }, ids: string[]) {
  const [ev42, ev43, m17, m18] = ids as [string, string, string, string];
  t.is((await svc.put(`/v1/vehicles/${ev42}/meter`, { meterId: m17 })).status, 200);
  const moved = await svc.put(`/v1/vehicles/${ev42}/meter`, { meterId: m18, from: '2026-11-27T12:00:00Z' });
  t.is(moved.status, 200);
  // docs/api.md patches the first assignment of ev-42, by the id its history gives.
  const first = (await svc.get(`/v1/vehicles/${ev42}/meter/history`)).body.assignments[0];
  const patched = await svc.patch(`/v1/assignments/${first.id}`, { from: null, to: '2026-11-27T11:30:00Z' });
  t.is(patched.status, 200);
  return { ev42, ev43, m17, m18 };
}

test('the bulk example of docs/api.md after its single calls: 200 in either order, as the single calls would do', async (t) => {
  for (const reversed of [false, true]) {
    const names = reversed ? ['ev-52', 'ev-53', 'meter-27', 'meter-28'] : ['ev-42', 'ev-43', 'meter-17', 'meter-18'];
    const { ev42, ev43, m17, m18 } = await mappingWalkthrough(t, names);
    const before = Date.now();
    const entries = [
      { vehicleId: ev42, meterId: m17 },
      { vehicleId: ev43, meterId: m18 },
    ];
    const bulk = await svc.put('/v1/mappings', reversed ? entries.reverse() : entries);
    t.is(bulk.status, 200, JSON.stringify(bulk.body));
    t.deepEqual(bulk.body, { mappings: 2, created: 1, updated: 1, unchanged: 0 });
    const history = async (vehicle: string) =>
      ((await svc.get(`/v1/vehicles/${vehicle}/meter/history`)).body.assignments as Record<string, unknown>[]).map(
        ({ meterId, from, to }) => ({ meterId, from, to }),
      );
    const ev42History = await history(ev42);
    const now = ev42History[1]!.to as string;
    t.true(Date.parse(now) >= before, 'ev-42 left meter-18 now');
    t.deepEqual(ev42History, [
      { meterId: m17, from: null, to: '2026-11-27T11:30:00.000Z' },
      { meterId: m18, from: '2026-11-27T12:00:00.000Z', to: now },
      { meterId: m17, from: now, to: null },
    ]);
    // ev-43's first assignment holds since meter-18 was free: since ev-42 left it.
    t.deepEqual(await history(ev43), [{ meterId: m18, from: now, to: null }]);
  }
});
