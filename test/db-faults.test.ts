import test from 'ava';
import { sql } from 'kysely';
import postgres from 'postgres';

import { createDb, QUERY_TIMEOUT_GRACE_MS, type DbHandle } from '../src/db/create-db.js';
import { isDatabaseUnavailable } from '../src/db/pg-errors.js';
import { createLogger } from '../src/logger.js';
import {
  plainPostgresAvailable,
  plainPostgresSkipReason,
  startPlainCluster,
  type PlainCluster,
} from './helpers/plain-postgres.js';

/**
 * The connection layer against a real server whose backends hang (SIGSTOP) and come back
 * (SIGCONT): what a database that freezes for a while does to a pool. Debian's plain
 * PostgreSQL, so this runs in CI; nothing here needs TimescaleDB.
 */
const STATEMENT_TIMEOUT_MS = 1_000;
const APPLICATION = 'ev-telemetry';
let cluster: PlainCluster;
let handle: DbHandle;

const countRows = async (url: string, table: string) => {
  // A separate client: what any other session (another instance) sees.
  const other = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    const rows = await other.unsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM ${table}`);
    return rows[0]!.n;
  } finally {
    await other.end();
  }
};

/** Two pool connections opened, so both get frozen. */
async function warmPool(db: DbHandle['db']) {
  await Promise.all([sql`SELECT pg_sleep(0.05)`.execute(db), sql`SELECT pg_sleep(0.05)`.execute(db)]);
}

if (plainPostgresAvailable) {
  test.before(async () => {
    cluster = await startPlainCluster();
    handle = createDb({
      url: cluster.primary.url,
      max: 2,
      statementTimeoutMs: STATEMENT_TIMEOUT_MS,
      lockTimeoutMs: 500,
      logger: createLogger('silent'),
    });
  });
  test.after.always(async () => {
    await cluster?.primary.signalBackends('SIGCONT').catch(() => undefined);
    await handle?.close();
    cluster?.destroy();
  });
}

const serverTest = plainPostgresAvailable ? test.serial : test.skip;

for (const accessMode of ['read write', 'read only'] as const) {
  serverTest(
    `a ${accessMode} transaction whose BEGIN timed out on a hung server leaks into no later statement${plainPostgresSkipReason}`,
    async (t) => {
      const table = `leak_${accessMode.replace(' ', '_')}`;
      await sql`CREATE TABLE ${sql.table(table)} (id int PRIMARY KEY)`.execute(handle.db);
      await warmPool(handle.db);
      const frozen = await cluster.primary.signalBackends('SIGSTOP', APPLICATION);
      t.is(frozen.length, 2, 'both pool connections are frozen');
      const startedAt = Date.now();
      const error = await t.throwsAsync(
        handle.db
          .transaction()
          .setAccessMode(accessMode)
          .execute((trx) => sql`SELECT 1`.execute(trx)),
      );
      t.true(isDatabaseUnavailable(error), `a 503-class error: ${String(error)}`);
      t.true(
        Date.now() - startedAt < STATEMENT_TIMEOUT_MS + QUERY_TIMEOUT_GRACE_MS + 5_000,
        'given up in bounded time',
      );
      // The server comes back and runs the BEGIN it had been sent.
      await cluster.primary.signalBackends('SIGCONT', APPLICATION);
      // Every write acknowledged afterwards is committed, whichever pool connection runs it.
      for (let id = 1; id <= 20; id += 1) {
        await sql`INSERT INTO ${sql.table(table)} VALUES (${id})`.execute(handle.db);
      }
      t.is(await countRows(cluster.primary.url, table), 20, 'every acknowledged insert is visible to other sessions');
      // And no session of the pool is left inside a transaction.
      const open = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE application_name = ${APPLICATION} AND state LIKE 'idle in transaction%'`.execute(handle.db);
      t.is(open.rows[0]!.n, 0);
    },
  );
}

serverTest(
  `a statement that timed out inside a transaction leaves no transaction open after the server resumes${plainPostgresSkipReason}`,
  async (t) => {
    await sql`CREATE TABLE leak_mid (id int PRIMARY KEY)`.execute(handle.db);
    await warmPool(handle.db);
    // Frozen after BEGIN: the transaction's statement hangs, then COMMIT is never reached.
    const attempt = handle.db.transaction().execute(async (trx) => {
      await sql`SELECT 1`.execute(trx);
      await cluster.primary.signalBackends('SIGSTOP', APPLICATION);
      await sql`INSERT INTO leak_mid VALUES (0)`.execute(trx);
    });
    const error = await t.throwsAsync(attempt);
    t.true(isDatabaseUnavailable(error), String(error));
    await cluster.primary.signalBackends('SIGCONT', APPLICATION);
    for (let id = 1; id <= 10; id += 1) await sql`INSERT INTO leak_mid VALUES (${id})`.execute(handle.db);
    // Row 0 was rolled back (its transaction never committed); 1..10 are all there.
    t.is(await countRows(cluster.primary.url, 'leak_mid'), 10);
  },
);

serverTest(
  `sessions terminated by the server are replaced: the next statements succeed${plainPostgresSkipReason}`,
  async (t) => {
    await warmPool(handle.db);
    t.is(await cluster.primary.terminate(APPLICATION), 2);
    // The first statement on a terminated session may fail (57P01 / connection closed: a 503);
    // the pool then reconnects, with nothing of the old sessions.
    const outcomes: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      try {
        await sql`SELECT 1`.execute(handle.db);
        outcomes.push('ok');
      } catch (error) {
        t.true(isDatabaseUnavailable(error), `only 503-class failures: ${String(error)}`);
        outcomes.push('unavailable');
      }
    }
    t.deepEqual(outcomes.slice(-3), ['ok', 'ok', 'ok'], outcomes.join(','));
  },
);

for (const ownSockets of [false, true]) {
  serverTest(
    `a replaced pool${ownSockets ? ' (own sockets, as embedded)' : ''}: its open transaction fails and commits nothing, the new pool serves at once${plainPostgresSkipReason}`,
    async (t) => {
      const application = `ev-replaced-${ownSockets}`;
      const url = new URL(cluster.primary.url);
      url.searchParams.set('application_name', application);
      const own = createDb({
        url: url.toString(),
        max: 2,
        statementTimeoutMs: STATEMENT_TIMEOUT_MS,
        lockTimeoutMs: 500,
        ownSockets,
        logger: createLogger('silent'),
      });
      t.teardown(() => own.close());
      const table = `replaced_pool_${ownSockets}`;
      await sql`CREATE TABLE ${sql.table(table)} (id int PRIMARY KEY)`.execute(own.db);
      await warmPool(own.db);
      // A transaction on the old pool, mid-way when the pool is replaced (as after an embedded
      // database restart): the server rolls it back when its socket closes.
      const attempt = own.db.transaction().execute(async (trx) => {
        await sql`INSERT INTO ${sql.table(table)} VALUES (0)`.execute(trx);
        own.replacePool('test');
        await new Promise((done) => setTimeout(done, 200));
        await sql`INSERT INTO ${sql.table(table)} VALUES (1)`.execute(trx);
      });
      const error = await t.throwsAsync(attempt);
      t.true(isDatabaseUnavailable(error), `a 503-class error: ${String(error)}`);
      for (let id = 2; id <= 11; id += 1) await sql`INSERT INTO ${sql.table(table)} VALUES (${id})`.execute(own.db);
      t.is(await countRows(cluster.primary.url, table), 10, 'rows 0 and 1 were never committed');
      const sessions = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ${application}`.execute(handle.db);
      const n = sessions.rows[0]!.n;
      t.true(n >= 1 && n <= 2, `the new pool's sessions only, the old one's are gone: ${n}`);
    },
  );
}
