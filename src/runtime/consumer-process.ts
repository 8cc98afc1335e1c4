import { ConfigError, type Config } from '../config/config.js';
import type { Logger } from '../logger.js';
import { createMetrics } from '../metrics/metrics.js';
import { AcceptanceWindow } from '../policies/acceptance-window.js';
import type { ConsumerHooks, KinesisConsumer } from '../streams/kinesis-consumer.js';
import { createStreamConsumer } from '../streams/stream-consumer.js';
import { openDatabase } from './database.js';
import { listen } from './http-listener.js';

export interface ConsumerProcess {
  consumer: KinesisConsumer;
  /** Where GET /metrics and GET /healthz (or /readyz, the image's health check) are served. */
  url: string;
  /** Graceful stop: the batches being committed finish, the leases are released. */
  stop(): Promise<void>;
}

/**
 * The stream consumer on its own (`npm run consume`), so ingest from streams and the API
 * scale apart. It needs a database server (DATABASE_URL) with the migrations applied by the
 * service or `npm run migrate`: the embedded database serves one process. It serves only
 * its metrics and a liveness check.
 */
export async function startConsumerProcess(
  config: Config,
  logger: Logger,
  options: { hooks?: ConsumerHooks } = {},
): Promise<ConsumerProcess> {
  if (!config.database.url) {
    throw new ConfigError(
      'npm run consume needs DATABASE_URL: the embedded database serves one process. ' +
        'Without a database server, run the consumer inside the service (KINESIS_STREAMS with npm start).',
    );
  }
  if (config.kinesis.streams.length === 0) throw new ConfigError('KINESIS_STREAMS names no stream to consume.');
  const metrics = createMetrics();
  const database = await openDatabase(config, logger, {
    // DATABASE_PREPARE as in the API process: behind a pooler in transaction mode it must be off here too.
    pool: {
      max: config.database.poolMax,
      statementTimeoutMs: config.database.statementTimeoutMs,
      prepare: config.database.prepare,
    },
    checkCatalog: false,
    onQueryError: () => metrics.databaseErrors.inc(),
  });
  const dbHandle = database.primary;
  const acceptance = new AcceptanceWindow(dbHandle.db, logger);
  await acceptance.start();
  const consumer = createStreamConsumer({
    config,
    db: dbHandle.db,
    metrics: metrics.streams,
    logger,
    maxAgeMs: () => acceptance.maxAgeMs,
    ...(options.hooks ? { hooks: options.hooks } : {}),
  });

  const listener = await listen(
    (req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (req.method === 'GET' && path === '/metrics') {
        metrics.registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
          () => res.writeHead(500).end(),
        );
      } else if (req.method === 'GET' && (path === '/healthz' || path === '/readyz')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: consumer.state }));
      } else {
        res.writeHead(404).end();
      }
    },
    { port: config.port, host: config.host },
  );
  consumer.start();

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await consumer.stop();
      await listener.close(0);
      acceptance.stop();
      await database.close();
      logger.info('stopped');
    })());
  return { consumer, url: listener.url, stop };
}
