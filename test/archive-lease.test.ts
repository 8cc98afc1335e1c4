import test from 'ava';
import { sql } from 'kysely';

import { ArchiveJob } from '../src/archive/archive-job.js';
import type { S3ObjectStore } from '../src/archive/object-store.js';
import type { Db } from '../src/db/database.js';
import { createLogger } from '../src/logger.js';
import { DAY_MS } from '../src/time.js';
import { startArchiveFixture, type ArchiveFixture } from './helpers/archive-fixture.js';
import { waitFor } from './helpers/streams.js';

/*
 * The archive job's claim on a chunk is a short lease kept alive by a heartbeat: a live run
 * keeps its chunk however long it works on it; a dead one's lease lapses (its kill: see
 * test/archive-cli.test.ts).
 */
let fixture: ArchiveFixture;
let db: Db;
let store: S3ObjectStore;
const logger = createLogger('silent');

test.before(async () => {
  fixture = await startArchiveFixture();
  ({ db, store } = fixture);
});

test.after.always(async () => {
  await fixture?.stop();
});

const LEASE_MS = 1_000;

const claimOf = async (from: Date) =>
  (
    await sql<{ claimed_by: string | null; claimed_until: Date | null; lapsed: boolean }>`
      SELECT claimed_by, claimed_until, claimed_until < now() AS lapsed FROM archive_manifest
       WHERE hypertable = 'meter_telemetry_history' AND range_start = ${from}`.execute(db)
  ).rows[0];

test.serial('a live run keeps its claim past its lease period; the chunk is archived once', async (t) => {
  const from = new Date(Math.floor((Date.now() - 40 * DAY_MS) / DAY_MS) * DAY_MS);
  // One chunk only (a day of one meter): the two runs compete for it.
  await sql`INSERT INTO meter_telemetry_history (meter_id, ts, kwh_consumed_ac, voltage)
    SELECT 'lease-m1', ts, 0.1, 230 FROM generate_series(${from}::timestamptz,
      ${from}::timestamptz + interval '1 day' - interval '5 minutes', interval '5 minutes') ts`.execute(db);
  const other = new ArchiveJob(db, store, logger, { prefix: 'archive', owner: 'other', leaseMs: LEASE_MS });
  const slowRuns: string[] = [];
  // The slow run stops before its drop for several lease periods, while the other one tries.
  const slow = new ArchiveJob(db, store, logger, {
    prefix: 'archive',
    owner: 'slow',
    leaseMs: LEASE_MS,
    beforeDrop: async () => {
      const first = await claimOf(from);
      t.is(first?.claimed_by, 'slow');
      await waitFor(
        'three lease periods',
        async () => (await claimOf(from))!.claimed_until! > new Date(first!.claimed_until!.getTime() + 3 * LEASE_MS),
      );
      const claim = await claimOf(from);
      t.like(claim, { claimed_by: 'slow', lapsed: false }, 'renewed by the heartbeat');
      slowRuns.push(JSON.stringify(await other.run()));
    },
  });
  t.like(await slow.run(), { archived: 1, failed: 0, busy: 0 });
  t.like(JSON.parse(slowRuns[0]!), { archived: 0, busy: 1, failed: 0 }, 'the other run finds the chunk busy');
  t.like(await claimOf(from), { claimed_by: null });
  t.is((await store.list('archive/')).length, 1);
  const left = await sql<{
    n: number;
  }>`SELECT count(*)::int AS n FROM meter_telemetry_history WHERE meter_id = 'lease-m1'`.execute(db);
  t.is(left.rows[0]!.n, 0);
});

test.serial('a run that lost its claim while uploading stops there and changes nothing', async (t) => {
  const from = new Date(Math.floor((Date.now() - 45 * DAY_MS) / DAY_MS) * DAY_MS);
  await sql`INSERT INTO meter_telemetry_history (meter_id, ts, kwh_consumed_ac, voltage)
    SELECT 'lost-m1', ts, 0.1, 230 FROM generate_series(${from}::timestamptz,
      ${from}::timestamptz + interval '1 day' - interval '5 minutes', interval '5 minutes') ts`.execute(db);
  const before = await store.list('archive/');
  let aborted: unknown;
  // An upload that hangs until aborted, while another instance takes the chunk over.
  const hanging = {
    put: async (_key: string, _file: string, _sums: unknown, signal?: AbortSignal) => {
      await sql`UPDATE archive_manifest SET claimed_by = 'taker', claimed_until = now() + interval '1 hour'
        WHERE hypertable = 'meter_telemetry_history' AND range_start = ${from}`.execute(db);
      await new Promise<void>((_, reject) =>
        signal?.addEventListener('abort', () => {
          aborted = signal.reason;
          reject(new Error('upload aborted', { cause: signal.reason }));
        }),
      );
    },
    get: store.get.bind(store),
    head: store.head.bind(store),
    list: store.list.bind(store),
  };
  const job = new ArchiveJob(db, hanging, logger, { prefix: 'archive', owner: 'loser', leaseMs: LEASE_MS });
  t.like(await job.run(), { archived: 0, failed: 1 });
  t.regex(String(aborted), /lost to another instance/);
  t.like(await claimOf(from), { claimed_by: 'taker' });
  const row = await db
    .selectFrom('archive_manifest')
    .select(['status', 'failures'])
    .where('range_start', '=', from)
    .executeTakeFirstOrThrow();
  t.deepEqual(row, { status: 'pending', failures: 0 }, 'the taker’s row is untouched');
  t.deepEqual(await store.list('archive/'), before);
});
