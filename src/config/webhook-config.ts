import { z } from 'zod';

import {
  DAY_MS,
  WEBHOOK_MAX_AGE_MS,
  WEBHOOK_POLL_INTERVAL_MS,
  WEBHOOK_RETENTION_DAYS,
  WEBHOOK_RETRY_BASE_MS,
  WEBHOOK_RETRY_MAX_MS,
  WEBHOOK_TIMEOUT_MS,
} from '../time.js';
import { flag, optional } from './env-fields.js';

/** Webhook delivery settings (src/webhooks, docs/webhooks.md), parsed with the rest by config.ts. */
export interface WebhookConfig {
  /** Plain http and loopback / private targets (tests, a receiver on the same network); never link-local. */
  allowInsecureTargets: boolean;
  /** Longest one delivery attempt may take, connection to the end of the (bounded) response. */
  timeoutMs: number;
  /** How long a delivery is retried before it is marked failed. */
  maxAgeMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  pollIntervalMs: number;
  /** Deliveries claimed (and sent concurrently) per round of the worker. */
  batchSize: number;
  /** Done deliveries, and events without deliveries, older than this are deleted (outbox-retention.job.ts). */
  retentionMs: number;
}

const ms = (fallback: number, min = 1) => optional(z.coerce.number().int().min(min).default(fallback));

/** The WEBHOOK_* variables: spread into config.ts's environment schema. */
export const webhookEnvShape = {
  WEBHOOK_ALLOW_INSECURE_TARGETS: flag('false'),
  WEBHOOK_TIMEOUT_MS: ms(WEBHOOK_TIMEOUT_MS),
  WEBHOOK_MAX_AGE_MS: ms(WEBHOOK_MAX_AGE_MS),
  WEBHOOK_RETRY_BASE_MS: ms(WEBHOOK_RETRY_BASE_MS),
  WEBHOOK_RETRY_MAX_MS: ms(WEBHOOK_RETRY_MAX_MS),
  WEBHOOK_POLL_INTERVAL_MS: ms(WEBHOOK_POLL_INTERVAL_MS),
  WEBHOOK_BATCH_SIZE: optional(z.coerce.number().int().min(1).max(100).default(10)),
  WEBHOOK_RETENTION_DAYS: optional(z.coerce.number().int().min(1).max(3650).default(WEBHOOK_RETENTION_DAYS)),
};

type WebhookEnv = { [K in keyof typeof webhookEnvShape]: z.output<(typeof webhookEnvShape)[K]> };

export function webhookConfigFrom(e: WebhookEnv): WebhookConfig {
  return {
    allowInsecureTargets: e.WEBHOOK_ALLOW_INSECURE_TARGETS,
    timeoutMs: e.WEBHOOK_TIMEOUT_MS,
    maxAgeMs: e.WEBHOOK_MAX_AGE_MS,
    retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
    retryMaxMs: Math.max(e.WEBHOOK_RETRY_MAX_MS, e.WEBHOOK_RETRY_BASE_MS),
    pollIntervalMs: e.WEBHOOK_POLL_INTERVAL_MS,
    batchSize: e.WEBHOOK_BATCH_SIZE,
    retentionMs: e.WEBHOOK_RETENTION_DAYS * DAY_MS,
  };
}
