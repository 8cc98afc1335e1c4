import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import test from 'ava';
import { sql } from 'kysely';

import { createDb, type DbHandle } from '../src/db/create-db.js';
import { ReadRouter, type SkipReason } from '../src/db/read-router.js';
import { replayPosition, takeFence } from '../src/db/replication.repository.js';
import { createLogger } from '../src/logger.js';
import { freePort } from '../tools/net/free-port.js';

/**
 * The read router against real streaming replication: a plain PostgreSQL primary and a hot
 * standby made with pg_basebackup (no TimescaleDB: the router's SQL is PostgreSQL's own). It
 * checks what the embedded stand-ins cannot: the fence and replay SQL on a server in recovery,
 * a reading committed on the primary is in the very next replica answer, and a real recovery
 * conflict is retried on the primary. Skipped where no PostgreSQL binaries are installed.
 */
const binDir = (() => {
  const found = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
})();
const asRoot = process.getuid?.() === 0;
const runAsPostgres = (command: string, args: string[]) =>
  asRoot
    ? execFileSync('runuser', ['-u', 'postgres', '--', join(binDir!, command), ...args], { stdio: 'pipe' })
    : execFileSync(join(binDir!, command), args, { stdio: 'pipe' });
const available = binDir !== undefined && (!asRoot || spawnSync('id', ['postgres']).status === 0);

let dir: string;
let primary: DbHandle;
let replica: DbHandle;
const silent = createLogger('silent');
const fellBack: SkipReason[] = [];
let served = 0;

async function startCluster() {
  dir = mkdtempSync(join(tmpdir(), 'ev-standby-'));
  if (asRoot) execFileSync('chown', ['postgres', dir]);
  const [primaryPort, replicaPort] = [await freePort(), await freePort()];
  const primaryDir = join(dir, 'primary');
  const replicaDir = join(dir, 'replica');
  runAsPostgres('initdb', ['-D', primaryDir, '-U', 'postgres', '-A', 'trust', '--no-sync']);
  appendFileSync(
    join(primaryDir, 'postgresql.conf'),
    `port = ${primaryPort}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '${dir}'\nfsync = off\n`,
  );
  runAsPostgres('pg_ctl', ['-D', primaryDir, '-l', join(dir, 'primary.log'), '-w', 'start']);
  runAsPostgres(
    'pg_basebackup',
    ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres'].concat([
      '-D',
      replicaDir,
      '-R',
      '-X',
      'stream',
      '--checkpoint=fast',
    ]),
  );
  // Replay waits for no query: a conflicting read is cancelled at once (the case under test).
  appendFileSync(join(replicaDir, 'postgresql.conf'), `port = ${replicaPort}\nmax_standby_streaming_delay = 0\n`);
  runAsPostgres('pg_ctl', ['-D', replicaDir, '-l', join(dir, 'replica.log'), '-w', 'start']);
  const db = (port: number) =>
    createDb({
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      max: 4,
      statementTimeoutMs: 10_000,
      lockTimeoutMs: 5_000,
      logger: silent,
    });
  primary = db(primaryPort);
  replica = db(replicaPort);
}

const router = () =>
  new ReadRouter(primary.db, [{ name: 'standby', db: replica.db }], {
    maxLagMs: 2_000,
    logger: silent,
    observer: {
      served: () => (served += 1),
      skipped: () => undefined,
      fellBack: (reason) => fellBack.push(reason),
    },
  });

if (available) {
  test.before(startCluster);
  test.after.always(async () => {
    await primary?.close();
    await replica?.close();
    for (const node of ['replica', 'primary']) {
      try {
        runAsPostgres('pg_ctl', ['-D', join(dir, node), '-m', 'immediate', 'stop']);
      } catch {
        // not running
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
}

const standbyTest = available ? test.serial : test.skip;
const suffix = available ? '' : ' [skipped: no PostgreSQL binaries (pg_config) on this machine]';

standbyTest(`the fence and the replay position on a real standby${suffix}`, async (t) => {
  const fence = await takeFence(primary.db);
  t.regex(fence.lsn, /^[0-9A-F]+\/[0-9A-F]+$/);
  const onReplica = await replayPosition(replica.db, fence.lsn);
  t.true(onReplica.inRecovery);
  const onPrimary = await replayPosition(primary.db, fence.lsn);
  t.false(onPrimary.inRecovery);
  t.true(onPrimary.reached, 'a server not in recovery counts as up to date');
});

standbyTest(`every row committed on the primary is in the very next replica answer${suffix}`, async (t) => {
  await sql`CREATE TABLE readings (id int PRIMARY KEY)`.execute(primary.db);
  const reads = router();
  const before = served;
  for (let id = 1; id <= 50; id += 1) {
    // Committed (the 202), then read at once through the router, as another instance would.
    await sql`INSERT INTO readings VALUES (${id})`.execute(primary.db);
    const { value, source } = await reads.read(async (db) => {
      const result = await sql<{ n: number }>`SELECT count(*)::int AS n FROM readings`.execute(db);
      return result.rows[0]!.n;
    });
    t.is(value, id, `read ${id} from the ${source.kind}`);
  }
  t.true(served - before >= 45, `the standby served ${served - before} of 50`);
});

standbyTest(`a read cancelled by a real recovery conflict is answered by the primary${suffix}`, async (t) => {
  const reads = router();
  fellBack.length = 0;
  let conflictStarted = false;
  const { value, source } = await reads.read(async (db) =>
    db
      .transaction()
      .setIsolationLevel('repeatable read')
      .setAccessMode('read only')
      .execute(async (trx) => {
        const count = await sql<{ n: number }>`SELECT count(*)::int AS n FROM readings`.execute(trx);
        if (db === replica.db) {
          // The primary takes an exclusive lock on the table the standby's transaction reads:
          // replaying it conflicts, and with no standby delay the read is cancelled.
          conflictStarted = true;
          setTimeout(() => {
            void primary.db.transaction().execute(async (w) => {
              await sql`LOCK TABLE readings IN ACCESS EXCLUSIVE MODE`.execute(w);
            });
          }, 200);
          await sql`SELECT pg_sleep(5)`.execute(trx);
        }
        return count.rows[0]!.n;
      }),
  );
  t.true(conflictStarted);
  t.is(source.kind, 'primary');
  t.is(value, 50);
  t.deepEqual(fellBack, ['recovery_conflict']);
});
