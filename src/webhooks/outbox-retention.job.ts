import type { WebhookConfig } from '../config/webhook-config.js';
import type { Db } from '../db/database.js';
import type { ServiceJob } from '../jobs/job-scheduler.js';
import type { Logger } from '../logger.js';
import { WEBHOOK_PRUNE_INTERVAL_MS } from '../time.js';
import { pruneOutbox } from './outbox-retention.repository.js';

/** Rows one delete takes: short statements, so the outbox's writers never wait long. */
const BATCH = 1_000;
/** Batches per run: a large backlog (the first run after an upgrade) is worked off over runs. */
const MAX_BATCHES = 20;

/**
 * Keeps the webhook outbox bounded (docs/webhooks.md, WEBHOOK_RETENTION_DAYS): deliveries that
 * are done and events nobody will be sent again, older than the retention, are deleted. Safe on
 * every instance at once: each batch is one DELETE, and two instances deleting the same rows
 * only find fewer.
 */
export class OutboxRetentionJob implements ServiceJob {
  readonly name = 'webhook-outbox-retention';
  readonly intervalMs = WEBHOOK_PRUNE_INTERVAL_MS;

  constructor(
    private readonly db: Db,
    private readonly config: Pick<WebhookConfig, 'retentionMs'>,
    private readonly logger: Logger,
  ) {}

  /** Prunes what is older than the retention as of `now`; returns what was deleted. */
  async run(now = new Date()): Promise<{ deliveries: number; events: number }> {
    const before = new Date(now.getTime() - this.config.retentionMs);
    const total = { deliveries: 0, events: 0 };
    for (let batch = 0; batch < MAX_BATCHES; batch += 1) {
      const pruned = await pruneOutbox(this.db, before, BATCH);
      total.deliveries += pruned.deliveries;
      total.events += pruned.events;
      if (pruned.deliveries < BATCH && pruned.events < BATCH) break;
    }
    if (total.deliveries + total.events > 0) this.logger.info('webhook outbox pruned', { ...total, before });
    return total;
  }
}
