import { resolve } from 'node:path';

import { AlertEvaluator } from '../alerts/alert-evaluator.js';
import { createApp } from '../app.js';
import { ArchiveJob } from '../archive/archive-job.js';
import { listFailingChunks } from '../archive/archive.repository.js';
import { S3ObjectStore } from '../archive/object-store.js';
import { resolveAdminKey } from '../auth/admin-key.js';
import { ApiKeyService } from '../auth/api-key.service.js';
import { RateLimiter } from '../auth/rate-limiter.js';
import type { Config } from '../config/config.js';
import type { DbHandle } from '../db/create-db.js';
import { listMigrationNames } from '../db/migrate.js';
import type { EmbeddedDb } from '../embedded/embedded-db.js';
import { JobScheduler } from '../jobs/job-scheduler.js';
import type { Logger } from '../logger.js';
import { createMetrics } from '../metrics/metrics.js';
import { attachOcpp, type OcppEndpoint } from '../ocpp/ocpp-endpoint.js';
import { AcceptanceWindow } from '../policies/acceptance-window.js';
import { ReadRouter, type ReplicaProbe } from '../replicas/read-router.js';
import type { KinesisConsumer } from '../streams/kinesis-consumer.js';
import { createStreamConsumer } from '../streams/stream-consumer.js';
import { IngestionService } from '../telemetry/ingestion.service.js';
import { countEventsByType, countOpenDeliveries } from '../webhooks/delivery.repository.js';
import { OutboxRetentionJob } from '../webhooks/outbox-retention.job.js';
import { WebhookDeliveryJob } from '../webhooks/webhook-delivery.job.js';
import { openDatabase } from './database.js';
import { listen } from './http-listener.js';
import { archiveMetrics, ingestMetrics, replicaReadMetrics, webhookMetrics } from './metric-hooks.js';

export interface RunningService {
  /** Base URL of the HTTP API. */
  url: string;
  /** URL of the database in use (the embedded one's loopback address when embedded). */
  databaseUrl: string;
  dbHandle: DbHandle;
  /** Analytics and live reads: the read replicas (ANALYTICS_DATABASE_URL) with the primary behind them. */
  reads: ReadRouter;
  /** The HTTP application (tests walk its routes). */
  app: ReturnType<typeof createApp>;
  ingestion: IngestionService;
  embedded: EmbeddedDb | undefined;
  jobs: JobScheduler | undefined;
  /** Archives raw chunks older than the hot period (runs from `jobs`). */
  archive: ArchiveJob;
  /** The oldest accepted reading, following the policies in the database. */
  acceptance: AcceptanceWindow;
  /** Delivers the webhook outbox (runs on its own scheduler; tests run it themselves). */
  webhooks: WebhookDeliveryJob;
  /** The Kinesis consumer, when KINESIS_STREAMS is set (and KINESIS_CONSUME_IN_SERVICE not false). */
  streamConsumer: KinesisConsumer | undefined;
  /** Judges the alert rules (runs from `jobs`; tests call it with their own clock). */
  alerts: AlertEvaluator;
  /** Graceful stop: no new requests, answer in-flight ones, flush the queue, close the database. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Keep the embedded database in memory (tests); otherwise it lives in config DATA_DIR. */
  inMemory?: boolean;
  /**
   * Start the job scheduler (default: yes): the service's own jobs (archive) always, TimescaleDB's
   * policies only when embedded. A TimescaleDB server runs its policies in its own background
   * workers: running them here too would only repeat the work (each instance would, N times
   * over). Tests turn it off and run jobs themselves.
   */
  runJobs?: boolean;
  /** How the read router sees replication (tests: embedded stand-ins are never in recovery). */
  replicaProbe?: ReplicaProbe;
}

const SHUTDOWN_GRACE_MS = 20_000;

/**
 * The API process (`npm start`): the database (runtime/database.ts), then its parts wired
 * together: the read router, the acceptance window, the ingest queue, the archive and the job
 * scheduler, the stream consumer when it runs in this process, and the HTTP app on the one
 * listener (runtime/http-listener.ts). What runs where: docs/architecture.md.
 */
export async function startService(
  config: Config,
  logger: Logger,
  options: StartOptions = {},
): Promise<RunningService> {
  const metrics = createMetrics();
  const database = await openDatabase(config, logger, {
    embedded: {
      dataDir: options.inMemory ? undefined : resolve(config.database.dataDir),
      port: config.database.embeddedPort,
    },
    pool: {
      max: config.database.poolMax,
      statementTimeoutMs: config.database.statementTimeoutMs,
      prepare: config.database.prepare,
    },
    checkCatalog: true,
    replicaUrls: config.replicas.urls,
    onQueryError: () => metrics.databaseErrors.inc(),
  });
  const { url: databaseUrl, primary: dbHandle, embedded, replicas: replicaHandles } = database;
  const reads = new ReadRouter(
    dbHandle.db,
    replicaHandles.map(({ name, handle }) => ({ name, db: handle.db })),
    {
      maxLagMs: config.replicas.maxLagMs,
      logger,
      ...(options.replicaProbe ? { probe: options.replicaProbe } : {}),
      observer: replicaReadMetrics(metrics),
    },
  );
  if (replicaHandles.length > 0) {
    logger.info('analytics and live reads go to read replicas', { replicas: replicaHandles.map((r) => r.name) });
  }
  for (const name of config.ignored) logger.warn(`${name} is no longer used and is ignored`, { setting: name });
  const acceptance = new AcceptanceWindow(dbHandle.db, logger);
  await acceptance.start();
  const ingestion = new IngestionService(dbHandle.db, config.ingest, logger, ingestMetrics(metrics));
  metrics.setQueueDepthSource(() => ingestion.queueDepth);
  const store = config.archive ? new S3ObjectStore(config.archive) : undefined;
  const archive = new ArchiveJob(dbHandle.maintenanceDb, store, logger.child({ job: 'archive' }), {
    prefix: config.archive?.prefix ?? 'archive',
    onOutcome: archiveMetrics(metrics),
  });
  metrics.setArchiveFailingSource(async () => (await listFailingChunks(dbHandle.db)).length);
  // The archive job runs on a server too (TimescaleDB's scheduler cannot upload): every instance
  // runs it, and each chunk is claimed with a lease in its manifest row, so no two instances
  // archive the same chunk. A lease rather than an advisory lock: a session lock must be held on
  // one connection for the whole run, which the embedded database (one connection for all) cannot
  // spare and a pool does not guarantee; a lease also survives a crash (it expires).
  // TimescaleDB's own policies run here only when embedded (a server runs them itself).
  // Every instance evaluates the alert rules: each rule is locked while its alerts move (alert-evaluator.ts).
  const alerts = new AlertEvaluator(dbHandle.db, logger.child({ job: 'alerts' }), {
    intervalMs: config.alerts.evaluationIntervalMs,
  });
  const jobs =
    (options.runJobs ?? true)
      ? new JobScheduler(dbHandle.maintenanceDb, config.jobs.pollIntervalMs, logger, {
          policies: embedded !== undefined,
          serviceJobs: [
            archive,
            alerts,
            new OutboxRetentionJob(dbHandle.db, config.webhooks, logger.child({ job: 'webhook-retention' })),
          ],
        })
      : undefined;
  jobs?.start();
  // Webhook delivery on its own scheduler and interval: a slow receiver never delays the archive
  // (nor the reverse), and deliveries go out within WEBHOOK_POLL_INTERVAL_MS, not the job poll.
  const webhooks = new WebhookDeliveryJob(
    dbHandle.db,
    config.webhooks,
    logger.child({ job: 'webhooks' }),
    webhookMetrics(metrics),
  );
  metrics.webhooks.setOutboxSources({
    depth: () => countOpenDeliveries(dbHandle.db),
    events: () => countEventsByType(dbHandle.db),
  });
  const webhookJobs =
    (options.runJobs ?? true)
      ? new JobScheduler(dbHandle.db, config.webhooks.pollIntervalMs, logger, {
          policies: false,
          serviceJobs: [webhooks],
        })
      : undefined;
  webhookJobs?.start();
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
  let stopRequested = false;
  const app = createApp({
    db: dbHandle.db,
    reads,
    stopping: () => stopRequested,
    ingestion,
    keys: new ApiKeyService(dbHandle.db, adminKey),
    rateLimiter: new RateLimiter(config.auth.rateLimitPerSecond, config.auth.rateLimitBurst),
    metrics,
    logger,
    limits: { ...config.ingest, maxAgeMs: () => acceptance.maxAgeMs },
    expectedMigrations: await listMigrationNames(),
    archiveStoreConfigured: store !== undefined,
    webhooks: { allowInsecureTargets: config.webhooks.allowInsecureTargets },
  });
  // Koa's callback returns a promise; node:http ignores it (errors are handled inside).
  const handler = app.callback();
  // Charging stations (OCPP-J) upgrade to WebSockets on the API's port (docs/ocpp.md).
  let ocpp: OcppEndpoint | undefined;
  const listener = await listen((req, res) => void handler(req, res), {
    port: config.port,
    host: config.host,
    timeouts: config.http,
    beforeListen: (server) => {
      ocpp = attachOcpp(server, {
        db: dbHandle.db,
        ingestion,
        limits: { ...config.ingest, maxAgeMs: () => acceptance.maxAgeMs },
        logger,
        metrics: metrics.ocpp,
        acceptUnknownIdTokens: config.ocpp.acceptUnknownIdTokens,
        connectionLeaseMs: config.ocpp.connectionLeaseMs,
      });
    },
  });
  const url = listener.url;
  streamConsumer?.start();

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // 0. Behind a load balancer: /readyz answers 503 while the listener still serves, so the
      // balancer takes this instance out of rotation before connections are refused.
      stopRequested = true;
      if (config.shutdownDrainMs > 0) {
        logger.info('stopping: not ready, draining', { drainMs: config.shutdownDrainMs });
        await new Promise((done) => setTimeout(done, config.shutdownDrainMs));
      }
      // 1. Stop accepting; let in-flight requests finish (their readings are in the queue).
      // OCPP sockets answer their calls in flight, then close: node's server.close waits for
      // upgraded sockets, and closeAllConnections never reaches them.
      await ocpp?.close();
      await listener.close(SHUTDOWN_GRACE_MS);
      // 2. Write whatever is still queued, and the stream batches being committed (their
      //    leases are released), then stop the jobs and the database.
      await Promise.all([ingestion.drain(), streamConsumer?.stop()]);
      webhooks.stop();
      await Promise.all([jobs?.stop(), webhookJobs?.stop()]);
      store?.destroy();
      acceptance.stop();
      await database.close();
      logger.info('stopped');
    })());

  return {
    url,
    databaseUrl,
    dbHandle,
    reads,
    app,
    ingestion,
    embedded,
    jobs,
    archive,
    acceptance,
    webhooks,
    streamConsumer,
    alerts,
    stop,
  };
}
