import type { KinesisClient } from '@aws-sdk/client-kinesis';

import type { Config } from '../config/config.js';
import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { StreamMetrics } from '../metrics/metrics.js';
import { createKinesisClient } from './kinesis-client.js';
import { defaultConsumerId, KinesisConsumer, type ConsumerHooks } from './kinesis-consumer.js';

export interface StreamConsumerDeps {
  config: Pick<Config, 'kinesis' | 'ingest'>;
  db: Db;
  metrics: StreamMetrics;
  logger: Logger;
  /** The acceptance window (oldest accepted reading, relative to now), as for HTTP ingest. */
  maxAgeMs: () => number;
  /** Default: a client from the configuration. */
  kinesis?: KinesisClient;
  hooks?: ConsumerHooks;
}

/**
 * A consumer of the configured streams with the HTTP ingest rules: the same reading limits
 * per record as per request, and batches no larger than the ingest queue's.
 */
export function createStreamConsumer(deps: StreamConsumerDeps): KinesisConsumer {
  const { kinesis: settings, ingest } = deps.config;
  return new KinesisConsumer(
    deps.db,
    deps.kinesis ?? createKinesisClient(settings),
    {
      streams: settings.streams,
      consumerId: settings.consumerId ?? defaultConsumerId(),
      leaseDurationMs: settings.leaseDurationMs,
      pollIntervalMs: settings.pollIntervalMs,
      maxRecords: settings.maxRecords,
      initialPosition: settings.initialPosition,
      rules: { maxAgeMs: deps.maxAgeMs, maxFutureMs: ingest.maxFutureMs, maxReadings: ingest.maxReadingsPerRequest },
      maxReadingsPerCommit: ingest.flushReadings,
      ...(deps.hooks ? { hooks: deps.hooks } : {}),
      ownsClient: deps.kinesis === undefined,
    },
    deps.metrics,
    deps.logger.child({ component: 'stream-consumer' }),
  );
}
