import { createDb, type DbHandle } from '../../src/db/create-db.js';
import { migrate } from '../../src/db/migrate.js';
import { waitForDatabase } from '../../src/db/wait-for-database.js';
import { startEmbeddedDb, type EmbeddedDb } from '../../src/embedded/embedded-db.js';
import { createLogger } from '../../src/logger.js';

const silent = createLogger('silent');

export interface DirectDb {
  handle: DbHandle;
  /** Set when openDirect started an embedded database for this client (stopped by close). */
  embedded: EmbeddedDb | undefined;
  close(): Promise<void>;
}

// Bulk loads run for minutes: no statement time limit for a direct client.
const HOUR_MS = 3_600_000;

/** The embedded database on `dataDir`, migrated, with the caller (a test or the bench) as its only client. */
export async function openDirect(dataDir: string): Promise<DirectDb> {
  const embedded = await startEmbeddedDb({ dataDir, host: '127.0.0.1', port: 0 });
  await migrate({ databaseUrl: embedded.url });
  const direct = await connectDirect(embedded.url);
  return {
    ...direct,
    embedded,
    close: async () => {
      await direct.close();
      await embedded.stop();
    },
  };
}

/**
 * A direct client of an already migrated database: one connection (the bench measures one
 * statement at a time; the embedded database takes one session anyway). `prepare` as the
 * service on that database does (DATABASE_PREPARE, default on a server): the bench's "database
 * part" of the analytics is then measured the way the service runs it.
 */
export async function connectDirect(url: string, prepare = false): Promise<DirectDb> {
  const handle = createDb({
    url,
    max: 1,
    prepare,
    logger: silent,
    statementTimeoutMs: HOUR_MS,
    lockTimeoutMs: HOUR_MS,
  });
  await waitForDatabase(handle.db, 30_000);
  return { handle, embedded: undefined, close: () => handle.close() };
}
