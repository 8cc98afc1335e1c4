import type { Config } from '../config/config.js';
import { createDb, type DbHandle } from '../db/create-db.js';
import { migrate } from '../db/migrate.js';
import { waitForDatabase } from '../db/wait-for-database.js';
import { startEmbeddedDb, type EmbeddedDb } from '../embedded/embedded-db.js';
import type { Logger } from '../logger.js';
import { replicaName } from '../replicas/read-router.js';
import { assertCatalogSupported } from '../timescaledb/timescaledb-catalog.repository.js';

/** How long a process waits at start-up for its database to answer (a server may still be starting). */
const DATABASE_READY_TIMEOUT_MS = 30_000;

export interface OpenDatabaseOptions {
  /**
   * Without DATABASE_URL: where the embedded database keeps its files (undefined: in memory) and
   * the loopback port it listens on (0: any free one); its migrations are applied on start.
   * Left out by a process that needs a server (it refuses a missing DATABASE_URL first).
   */
  embedded?: { dataDir: string | undefined; port: number };
  /** The primary's pool on a server (the embedded database always gets one connection). */
  pool: {
    max: number;
    statementTimeoutMs: number;
    /** Named prepared statements on a server (never embedded: one session behind every connection). */
    prepare?: boolean;
  };
  /** Refuse a TimescaleDB catalog this code does not know (assertCatalogSupported). */
  checkCatalog: boolean;
  /** Read replicas to open pools to (ANALYTICS_DATABASE_URL), after the primary answered. */
  replicaUrls?: string[];
  /** Called for every failed query, on the primary and the replicas (metrics). */
  onQueryError?: () => void;
}

export interface OpenDatabase {
  /** URL of the database in use (the embedded one's loopback address when embedded). */
  url: string;
  primary: DbHandle;
  replicas: { name: string; handle: DbHandle }[];
  embedded: EmbeddedDb | undefined;
  /** Closes the pools, then stops the embedded database. */
  close(): Promise<void>;
}

/**
 * The one database bring-up of every process: the server at DATABASE_URL, or the embedded
 * TimescaleDB (started, then migrated); the primary's pool, once it answers and its catalog is
 * recognised; the replicas' pools. A replica that is down at start-up is no reason not to start:
 * reads skip it until it answers.
 */
export async function openDatabase(
  config: Config,
  logger: Logger,
  options: OpenDatabaseOptions,
): Promise<OpenDatabase> {
  let embedded: EmbeddedDb | undefined;
  let url = config.database.url;
  if (!url) {
    if (!options.embedded) throw new Error('DATABASE_URL is required here');
    const { dataDir, port } = options.embedded;
    embedded = await startEmbeddedDb({ dataDir, host: '127.0.0.1', port }, logger);
    url = embedded.url;
    logger.info('embedded TimescaleDB started', {
      dataDir: dataDir ?? 'memory',
      url,
      pid: embedded.process.pid,
    });
    const applied = await migrate({ databaseUrl: url, logger });
    if (applied.length > 0) logger.info('migrations applied', { migrations: applied.map((m) => m.name) });
  }

  // The embedded database serves a single session: one connection, or transactions leak.
  const primary = createDb({
    url,
    max: embedded ? 1 : options.pool.max,
    statementTimeoutMs: options.pool.statementTimeoutMs,
    lockTimeoutMs: config.database.lockTimeoutMs,
    prepare: embedded === undefined && (options.pool.prepare ?? false),
    ownSockets: embedded !== undefined,
    logger,
    onQueryError: options.onQueryError,
  });
  try {
    // The embedded server takes one client at a time: wait until the migrator's has left.
    await waitForDatabase(primary.db, DATABASE_READY_TIMEOUT_MS);
    if (options.checkCatalog) {
      const catalog = await assertCatalogSupported(primary.db);
      if (catalog.status === 'ok') logger.info('TimescaleDB catalog recognised', { timescaledb: catalog.version });
    }
  } catch (error) {
    await primary.close();
    await embedded?.stop();
    throw error;
  }
  // postgres.js may have stranded the one connection while the database was down.
  embedded?.onRestarted(() => primary.replacePool('embedded database restarted'));
  const replicas = (options.replicaUrls ?? []).map((replicaUrl) => ({
    name: replicaName(replicaUrl),
    handle: createDb({
      url: replicaUrl,
      max: options.pool.max,
      statementTimeoutMs: options.pool.statementTimeoutMs,
      lockTimeoutMs: config.database.lockTimeoutMs,
      prepare: options.pool.prepare ?? false,
      logger: logger.child({ replica: replicaName(replicaUrl) }),
      onQueryError: options.onQueryError,
    }),
  }));

  const close = async () => {
    await primary.close();
    await Promise.all(replicas.map(({ handle }) => handle.close()));
    await embedded?.stop();
  };
  return { url, primary, replicas, embedded, close };
}
