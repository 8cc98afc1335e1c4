import { z } from 'zod';

import { LOG_LEVELS, type LogLevel } from '../logger.js';
import { MINUTE_MS } from '../time.js';
import { alertConfigFrom, alertEnvShape, type AlertConfig } from './alert-config.js';
import { flag, optional } from './env-fields.js';
import type { KinesisConfig } from './kinesis-config.js';
import { webhookConfigFrom, webhookEnvShape, type WebhookConfig } from './webhook-config.js';

export type { KinesisConfig } from './kinesis-config.js';

/** Environment variables, parsed once at start-up (empty strings count as unset: env-fields.ts). */

const positiveInt = (fallback: number) => optional(z.coerce.number().int().positive().default(fallback));

const envSchema = z
  .object({
    NODE_ENV: optional(z.enum(['development', 'production', 'test']).default('development')),
    HOST: optional(z.string().default('0.0.0.0')),
    PORT: optional(z.coerce.number().int().min(0).max(65535).default(3000)),
    LOG_LEVEL: optional(z.enum(LOG_LEVELS).default('info')),
    LOG_PRETTY: optional(
      z
        .enum(['true', 'false'], { message: 'must be true or false' })
        .transform((value) => value === 'true')
        .optional(),
    ),
    DATABASE_URL: optional(
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
        .optional(),
    ),
    DATABASE_POOL_MAX: positiveInt(10),
    // Read replicas for analytics and live reads: one URL or a comma-separated list.
    ANALYTICS_DATABASE_URL: optional(
      z
        .string()
        .transform((value) =>
          value
            .split(',')
            .map((url) => url.trim())
            .filter((url) => url !== ''),
        )
        .pipe(z.array(z.string().regex(/^postgres(ql)?:\/\//, 'must be postgres:// or postgresql:// URLs')))
        .default([]),
    ),
    ANALYTICS_MAX_REPLICA_LAG_MS: optional(z.coerce.number().int().min(0).default(3_000)),
    DATA_DIR: optional(z.string().default('./data')),
    EMBEDDED_DB_PORT: optional(z.coerce.number().int().min(0).max(65535).default(0)),
    INGEST_MAX_READINGS_PER_REQUEST: positiveInt(5000),
    INGEST_MAX_BODY_BYTES: positiveInt(4 * 1024 * 1024),
    INGEST_FLUSH_READINGS: positiveInt(10_000),
    INGEST_FLUSH_INTERVAL_MS: optional(z.coerce.number().int().min(0).max(1000).default(4)),
    INGEST_MAX_QUEUED_READINGS: positiveInt(100_000),
    // Gone: the oldest accepted reading now follows the policies in the database.
    RAW_RETENTION_DAYS: optional(z.string().optional()),
    DATABASE_STATEMENT_TIMEOUT_MS: positiveInt(10_000),
    DATABASE_LOCK_TIMEOUT_MS: positiveInt(5_000),
    DATABASE_PREPARE: flag('true'),
    HTTP_KEEP_ALIVE_TIMEOUT_MS: positiveInt(65_000),
    HTTP_HEADERS_TIMEOUT_MS: positiveInt(66_000),
    HTTP_REQUEST_TIMEOUT_MS: positiveInt(120_000),
    ADMIN_API_KEY: optional(z.string().min(32, 'must be at least 32 characters').optional()),
    RATE_LIMIT_PER_SECOND: optional(z.coerce.number().min(0).default(50)),
    RATE_LIMIT_BURST: positiveInt(100),
    JOB_POLL_INTERVAL_MS: positiveInt(10_000),
    SHUTDOWN_DRAIN_MS: optional(z.coerce.number().int().min(0).max(120_000).default(0)),
    // Archive of the raw history (docs/archive.md). Which tables are archived is the database's
    // setting (archive_settings, by migration); these say where the objects go.
    ARCHIVE_BUCKET: optional(z.string().min(3).optional()),
    ARCHIVE_PREFIX: optional(z.string().default('archive')),
    AWS_ENDPOINT_URL_S3: optional(z.url().optional()),
    AWS_ACCESS_KEY_ID: optional(z.string().optional()),
    AWS_SECRET_ACCESS_KEY: optional(z.string().optional()),
    KINESIS_STREAMS: optional(
      z
        .string()
        .regex(
          /^[\w.-]+:(meter|vehicle)(,[\w.-]+:(meter|vehicle))*$/,
          'must be a comma-separated list of <stream name>:<meter|vehicle>',
        )
        .optional(),
    ),
    KINESIS_CONSUME_IN_SERVICE: flag('true'),
    KINESIS_CONSUMER_ID: optional(z.string().max(200).optional()),
    KINESIS_LEASE_DURATION_MS: optional(z.coerce.number().int().min(1000).default(20_000)),
    KINESIS_POLL_INTERVAL_MS: optional(z.coerce.number().int().min(200).default(1000)),
    KINESIS_MAX_RECORDS: optional(z.coerce.number().int().min(1).max(10_000).default(1000)),
    KINESIS_INITIAL_POSITION: optional(z.enum(['TRIM_HORIZON', 'LATEST']).default('TRIM_HORIZON')),
    // The AWS SDK's own variables: region, and an endpoint for emulators or VPC endpoints.
    AWS_REGION: optional(z.string().optional()),
    AWS_DEFAULT_REGION: optional(z.string().optional()),
    AWS_ENDPOINT_URL_KINESIS: optional(z.url().optional()),
    AWS_ENDPOINT_URL: optional(z.url().optional()),
    // docs/ocpp.md: unknown id tokens are Invalid unless this is on.
    OCPP_ACCEPT_UNKNOWN_ID_TOKENS: flag('false'),
    OCPP_CONNECTION_LEASE_MS: optional(z.coerce.number().int().min(300).default(60_000)),
    ...alertEnvShape,
    ...webhookEnvShape,
  })
  .refine((env) => env.ANALYTICS_DATABASE_URL.length === 0 || env.DATABASE_URL !== undefined, {
    path: ['ANALYTICS_DATABASE_URL'],
    message: 'needs DATABASE_URL (replicas of the embedded database do not exist)',
  })
  // A stream carries one kind of reading.
  .refine(
    (env) => {
      const names = (env.KINESIS_STREAMS ?? '').split(',').map((entry) => entry.split(':')[0]);
      return new Set(names).size === names.length;
    },
    { path: ['KINESIS_STREAMS'], message: 'names a stream twice' },
  )
  .refine((env) => env.NODE_ENV !== 'production' || env.ADMIN_API_KEY !== undefined, {
    path: ['ADMIN_API_KEY'],
    message: 'is required in production (at least 32 characters)',
  })
  // A load balancer must close idle connections before the service does, or it sends
  // requests on sockets being closed (sporadic 502s): keep-alive above the balancer's idle
  // timeout (60 s on the common ones), headers timeout above keep-alive (Node's rule).
  .refine((env) => env.HTTP_HEADERS_TIMEOUT_MS > env.HTTP_KEEP_ALIVE_TIMEOUT_MS, {
    path: ['HTTP_HEADERS_TIMEOUT_MS'],
    message: 'must be greater than HTTP_KEEP_ALIVE_TIMEOUT_MS',
  })
  .refine((env) => env.HTTP_REQUEST_TIMEOUT_MS >= env.HTTP_HEADERS_TIMEOUT_MS, {
    path: ['HTTP_REQUEST_TIMEOUT_MS'],
    message: 'must be at least HTTP_HEADERS_TIMEOUT_MS',
  });

export interface Config {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  logLevel: LogLevel;
  /** Human-readable logs; unset: pretty in development when stdout is a terminal. */
  logPretty?: boolean | undefined;
  database: {
    /** Unset: start the embedded TimescaleDB in a child process. */
    url: string | undefined;
    poolMax: number;
    dataDir: string;
    embeddedPort: number;
    /** Longest a statement may run (server side) before it is cancelled; 503 to the client. */
    statementTimeoutMs: number;
    /** Longest a statement may wait for a lock. */
    lockTimeoutMs: number;
    /**
     * Named prepared statements on a server (one round trip and a cached plan per statement;
     * off behind a pooler in transaction mode). Never on the embedded database.
     */
    prepare: boolean;
  };
  /** Read replicas for analytics and live reads (src/replicas/read-router.ts); empty: all on the primary. */
  replicas: {
    urls: string[];
    /** Longest a read waits for a replica to replay what the primary had committed; further behind: primary. */
    maxLagMs: number;
  };
  /** How long /readyz answers 503 before the listener closes on stop, so a load balancer drains first. */
  shutdownDrainMs: number;
  http: { keepAliveTimeoutMs: number; headersTimeoutMs: number; requestTimeoutMs: number };
  /** Settings that are no longer read, for a warning at start-up. */
  ignored: string[];
  ingest: {
    maxReadingsPerRequest: number;
    maxBodyBytes: number;
    flushReadings: number;
    flushIntervalMs: number;
    maxQueuedReadings: number;
    /** Clock skew tolerated for device timestamps in the future. */
    maxFutureMs: number;
  };
  jobs: { pollIntervalMs: number };
  /** Where archived chunks go; undefined: no object store (archive mode then archives nothing). */
  archive:
    | {
        bucket: string;
        prefix: string;
        region: string;
        /** S3-compatible endpoint (MinIO, ...); unset: AWS. */
        endpoint: string | undefined;
        /** Unset: the AWS SDK's default credential chain. */
        credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
      }
    | undefined;
  /** Stream ingestion (src/streams); no streams: off. */
  kinesis: KinesisConfig;
  /** Charging stations (src/ocpp): whether an id token no admin mapped is Accepted (else Invalid). */
  ocpp: { acceptUnknownIdTokens: boolean; connectionLeaseMs: number };
  alerts: AlertConfig;
  webhooks: WebhookConfig;
  auth: {
    /** Unset outside production: a key is generated and kept in DATA_DIR. */
    adminApiKey: string | undefined;
    /** Per key; 0 disables rate limiting. */
    rateLimitPerSecond: number;
    rateLimitBurst: number;
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid environment configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    logPretty: e.LOG_PRETTY,
    database: {
      url: e.DATABASE_URL,
      poolMax: e.DATABASE_POOL_MAX,
      dataDir: e.DATA_DIR,
      embeddedPort: e.EMBEDDED_DB_PORT,
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
      lockTimeoutMs: e.DATABASE_LOCK_TIMEOUT_MS,
      prepare: e.DATABASE_PREPARE,
    },
    replicas: { urls: e.ANALYTICS_DATABASE_URL, maxLagMs: e.ANALYTICS_MAX_REPLICA_LAG_MS },
    shutdownDrainMs: e.SHUTDOWN_DRAIN_MS,
    http: {
      keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
    },
    ignored: e.RAW_RETENTION_DAYS === undefined ? [] : ['RAW_RETENTION_DAYS'],
    ingest: {
      maxReadingsPerRequest: e.INGEST_MAX_READINGS_PER_REQUEST,
      maxBodyBytes: e.INGEST_MAX_BODY_BYTES,
      flushReadings: e.INGEST_FLUSH_READINGS,
      flushIntervalMs: e.INGEST_FLUSH_INTERVAL_MS,
      maxQueuedReadings: e.INGEST_MAX_QUEUED_READINGS,
      maxFutureMs: 5 * MINUTE_MS,
    },
    jobs: { pollIntervalMs: e.JOB_POLL_INTERVAL_MS },
    archive:
      e.ARCHIVE_BUCKET === undefined
        ? undefined
        : {
            bucket: e.ARCHIVE_BUCKET,
            prefix: e.ARCHIVE_PREFIX,
            region: e.AWS_REGION ?? e.AWS_DEFAULT_REGION ?? 'us-east-1',
            endpoint: e.AWS_ENDPOINT_URL_S3 ?? e.AWS_ENDPOINT_URL,
            credentials:
              e.AWS_ACCESS_KEY_ID !== undefined && e.AWS_SECRET_ACCESS_KEY !== undefined
                ? { accessKeyId: e.AWS_ACCESS_KEY_ID, secretAccessKey: e.AWS_SECRET_ACCESS_KEY }
                : undefined,
          },
    kinesis: {
      streams: (e.KINESIS_STREAMS ?? '')
        .split(',')
        .filter((entry) => entry !== '')
        .map((entry) => {
          const [name, kind] = entry.split(':') as [string, 'meter' | 'vehicle'];
          return { name, kind };
        }),
      inService: e.KINESIS_CONSUME_IN_SERVICE,
      region: e.AWS_REGION ?? e.AWS_DEFAULT_REGION,
      endpoint: e.AWS_ENDPOINT_URL_KINESIS ?? e.AWS_ENDPOINT_URL,
      consumerId: e.KINESIS_CONSUMER_ID,
      leaseDurationMs: e.KINESIS_LEASE_DURATION_MS,
      pollIntervalMs: e.KINESIS_POLL_INTERVAL_MS,
      maxRecords: e.KINESIS_MAX_RECORDS,
      initialPosition: e.KINESIS_INITIAL_POSITION,
    },
    ocpp: { acceptUnknownIdTokens: e.OCPP_ACCEPT_UNKNOWN_ID_TOKENS, connectionLeaseMs: e.OCPP_CONNECTION_LEASE_MS },
    alerts: alertConfigFrom(e),
    webhooks: webhookConfigFrom(e),
    auth: {
      adminApiKey: e.ADMIN_API_KEY,
      rateLimitPerSecond: e.RATE_LIMIT_PER_SECOND,
      rateLimitBurst: e.RATE_LIMIT_BURST,
    },
  };
}
