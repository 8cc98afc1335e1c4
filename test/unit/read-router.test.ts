import test from 'ava';

import type { Db } from '../../src/db/database.js';
import { createLogger } from '../../src/logger.js';
import { ReadRouter, replicaName, type ReplicaProbe } from '../../src/replicas/read-router.js';

/** Databases the router only hands around: the probe and the work below tell them apart. */
const fakeDb = (name: string) => ({ name }) as unknown as Db;
const nameOf = (db: Db) => (db as unknown as { name: string }).name;

/** A probe where each replica has replayed `replayed[name]` fences' worth; the fence is always 10. */
function probeWith(replayed: Record<string, number | 'down'>, asked: string[] = []): ReplicaProbe {
  return {
    fence: () => Promise.resolve({ lsn: '0/A', at: new Date('2026-11-28T08:00:00Z') }),
    position: (db) => {
      asked.push(nameOf(db));
      const state = replayed[nameOf(db)];
      if (state === 'down') return Promise.reject(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
      return Promise.resolve({ inRecovery: true, reached: (state ?? 0) >= 10, replayedAt: null });
    },
  };
}

const router = (probe: ReplicaProbe, maxLagMs = 30, names = ['r1', 'r2']) =>
  new ReadRouter(
    fakeDb('primary'),
    names.map((name) => ({ name, db: fakeDb(name) })),
    { maxLagMs, logger: createLogger('silent'), probe },
  );

const where = (db: Db) => Promise.resolve(nameOf(db));

test('a replica is named by host, port and database, never its credentials', (t) => {
  t.is(replicaName('postgres://u:secret@replica-1:6432/telemetry'), 'replica-1:6432/telemetry');
  t.is(replicaName('postgresql://u:secret@replica-2/telemetry'), 'replica-2:5432/telemetry');
});

test('replicas that replayed the fence take turns; the answer says which and as of the fence', async (t) => {
  const reads = router(probeWith({ r1: 10, r2: 12 }));
  const first = await reads.read(where);
  const second = await reads.read(where);
  t.deepEqual([first.value, second.value], ['r1', 'r2']);
  t.like(first.source, { kind: 'replica', name: 'r1', asOf: new Date('2026-11-28T08:00:00Z') });
});

test('a lagging replica is skipped for the next one; a replica down too; none left: the primary', async (t) => {
  t.is((await router(probeWith({ r1: 3, r2: 10 })).read(where)).value, 'r2');
  t.is((await router(probeWith({ r1: 'down', r2: 10 })).read(where)).value, 'r2');
  const none = await router(probeWith({ r1: 3, r2: 'down' })).read(where);
  t.is(none.value, 'primary');
  t.is(none.source.kind, 'primary');
});

test('the wait is bounded once for all replicas, and a replica that missed it is not waited for again', async (t) => {
  const asked: string[] = [];
  // Bound 400 ms: one bound for both replicas ends before two bounds (800 ms) could, with room
  // for a loaded machine.
  const reads = router(probeWith({ r1: 0, r2: 0 }, asked), 400);
  const started = Date.now();
  t.is((await reads.read(where)).value, 'primary');
  t.true(Date.now() - started < 2 * 400, 'one bound for both replicas');
  asked.length = 0;
  t.is((await reads.read(where)).value, 'primary');
  t.deepEqual(asked, [], 'both in their cool-down: not asked');
});

test('a recovery conflict or a lost connection is retried once on the primary; any other error is the answer', async (t) => {
  const reads = router(probeWith({ r1: 10, r2: 10 }));
  const conflict = Object.assign(new Error('canceling statement due to conflict with recovery'), { code: '40001' });
  const calls: string[] = [];
  const result = await reads.read((db) => {
    calls.push(nameOf(db));
    return nameOf(db) === 'primary' ? Promise.resolve('ok') : Promise.reject(conflict);
  });
  t.is(result.value, 'ok');
  t.deepEqual(calls, ['r1', 'primary'], 'once on the primary, not on the other replica');
  const lost = Object.assign(new Error('gone'), { code: 'CONNECTION_CLOSED' });
  t.is((await reads.read((db) => (nameOf(db) === 'primary' ? where(db) : Promise.reject(lost)))).value, 'primary');
  const notFound = new Error('vehicle_not_mapped');
  await t.throwsAsync(
    reads.read(() => Promise.reject(notFound)),
    { is: notFound },
  );
});

test('without replicas every read is on the primary, as of when it began', async (t) => {
  const reads = router(probeWith({}), 30, []);
  const before = Date.now();
  const { value, source } = await reads.read(where);
  t.is(value, 'primary');
  t.true(source.asOf.getTime() >= before);
});
