import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';

import { createApp } from './app.js';
import { resolveAdminKey } from './auth/admin-key.js';
import { ApiKeyService } from './auth/api-key.service.js';
import { RateLimiter } from './auth/rate-limiter.js';
import type { Config } from './config/config.js';
import { createDb, type DbHandle } from './db/create-db.js';
import { JobScheduler } from './db/job-scheduler.js';
import { listMigrationNames, migrate } from './db/migrate.js';
import { waitForDatabase } from './db/wait-for-database.js';
import { startEmbeddedDb, type EmbeddedDb } from './embedded/embedded-db.js';
import type { Logger } from './logger.js';
import { createMetrics } from './metrics/metrics.js';
import { AcceptanceWindow } from './policies/acceptance-window.js';
import type { KinesisConsumer } from './streams/kinesis-consumer.js';
import { createStreamConsumer } from './streams/stream-consumer.js';
import { IngestionService } from './telemetry/ingestion.service.js';

export interface RunningService {
  /** Base URL of the HTTP API. */
  url: string;
  /** URL of the database in use (the embedded one's loopback address when embedded). */
  databaseUrl: string;
  dbHandle: DbHandle;
  /** The HTTP application (tests walk its routes). */
  app: ReturnType<typeof createApp>;
  ingestion: IngestionService;
  embedded: EmbeddedDb | undefined;
  jobs: JobScheduler | undefined;
  /** The oldest accepted reading, following the policies in the database. */
  acceptance: AcceptanceWindow;
  /** The Kinesis consumer, when KINESIS_STREAMS is set (and KINESIS_CONSUME_IN_SERVICE not false). */
  streamConsumer: KinesisConsumer | undefined;
  /** Graceful stop: no new requests, answer in-flight ones, flush the queue, close the database. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Keep the embedded database in memory (tests); otherwise it lives in config DATA_DIR. */
  inMemory?: boolean;
  /** Start the embedded job scheduler (default: only when embedded). */
  runJobs?: boolean;
}

const SHUTDOWN_GRACE_MS = 20_000;

export async function startService(
  config: Config,
  logger: Logger,
  options: StartOptions = {},
): Promise<RunningService> {
  let embedded: EmbeddedDb | undefined;
  let databaseUrl = config.database.url;
  if (!databaseUrl) {
    const dataDir = options.inMemory ? undefined : resolve(config.database.dataDir);
    embedded = await startEmbeddedDb({ dataDir, host: '127.0.0.1', port: config.database.embeddedPort }, logger);
    databaseUrl = embedded.url;
    logger.info('embedded TimescaleDB started', {
      dataDir: dataDir ?? 'memory',
      url: databaseUrl,
      pid: embedded.process.pid,
    });
    const applied = await migrate({ databaseUrl, logger });
    if (applied.length > 0) logger.info('migrations applied', { migrations: applied.map((m) => m.name) });
  }

  // The embedded database serves a single session: one connection, or transactions leak.
  const metrics = createMetrics();
  const dbHandle = createDb({
    url: databaseUrl,
    max: embedded ? 1 : config.database.poolMax,
    statementTimeoutMs: config.database.statementTimeoutMs,
    lockTimeoutMs: config.database.lockTimeoutMs,
    logger,
    onQueryError: () => metrics.databaseErrors.inc(),
  });
  await waitForDatabase(dbHandle.db, 30_000);
  for (const name of config.ignored) logger.warn(`${name} is no longer used and is ignored`, { setting: name });
  const acceptance = new AcceptanceWindow(dbHandle.db, logger);
  await acceptance.start();
  const ingestion = new IngestionService(dbHandle.db, config.ingest, logger, {
    batchWritten: (readings, seconds) => {
      metrics.batchReadings.observe(readings);
      metrics.flushSeconds.observe(seconds);
    },
    answered: (stream, accepted, duplicates) => {
      metrics.readings.inc({ stream, outcome: 'accepted' }, accepted);
      metrics.readings.inc({ stream, outcome: 'duplicate' }, duplicates);
    },
  });
  metrics.setQueueDepthSource(() => ingestion.queueDepth);
  const jobs =
    (options.runJobs ?? embedded !== undefined)
      ? new JobScheduler(dbHandle.maintenanceDb, config.jobs.pollIntervalMs, logger)
      : undefined;
  jobs?.start();
  // Stream ingestion shares the database handle: embedded, its transactions queue with the
  // API's on the one connection; on a server it takes pool connections like requests do.
  const streamConsumer =
    config.kinesis.streams.length > 0 && config.kinesis.inService
      ? createStreamConsumer({
          config,
          db: dbHandle.db,
          metrics: metrics.streams,
          logger,
          maxAgeMs: () => acceptance.maxAgeMs,
        })
      : undefined;

  const adminKey = await resolveAdminKey(config, logger);
  const app = createApp({
    db: dbHandle.db,
    ingestion,
    keys: new ApiKeyService(dbHandle.db, adminKey),
    rateLimiter: new RateLimiter(config.auth.rateLimitPerSecond, config.auth.rateLimitBurst),
    metrics,
    logger,
    limits: { ...config.ingest, maxAgeMs: () => acceptance.maxAgeMs },
    expectedMigrations: await listMigrationNames(),
  });
  // Koa's callback returns a promise; node:http ignores it (errors are handled inside).
  const handler = app.callback();
  const server: Server = createServer((req, res) => void handler(req, res));
  server.keepAliveTimeout = config.http.keepAliveTimeoutMs;
  server.headersTimeout = config.http.headersTimeoutMs;
  server.requestTimeout = config.http.requestTimeoutMs;
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolveListen());
  });
  const address = server.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${host}:${address.port}`;
  streamConsumer?.start();

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // 1. Stop accepting; let in-flight requests finish (their readings are in the queue).
      const closed = new Promise<void>((done) => server.close(() => done()));
      server.closeIdleConnections();
      const idleSweep = setInterval(() => server.closeIdleConnections(), 100);
      const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      await closed;
      clearInterval(idleSweep);
      clearTimeout(force);
      // 2. Write whatever is still queued, and the stream batches being committed (their
      //    leases are released), then stop the jobs and the database.
      await Promise.all([ingestion.drain(), streamConsumer?.stop()]);
      await jobs?.stop();
      acceptance.stop();
      await dbHandle.close();
      await embedded?.stop();
      logger.info('stopped');
    })());

  return { url, databaseUrl, dbHandle, app, ingestion, embedded, jobs, acceptance, streamConsumer, stop };
}
