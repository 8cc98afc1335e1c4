import type { WebhookConfig } from '../config/webhook-config.js';
import type { Db } from '../db/database.js';
import type { ServiceJob } from '../jobs/job-scheduler.js';
import type { Logger } from '../logger.js';
import { WEBHOOK_LEASE_MARGIN_MS } from '../time.js';
import { claimDueDeliveries, recordOutcome, type ClaimedDelivery, type Outcome } from './delivery.repository.js';
import { describe, verdict } from './retry-policy.js';
import { sendWebhook } from './webhook-sender.js';
import { signatureHeaders } from './webhook-signature.js';

/** What the worker reports, for the metrics (runtime/metric-hooks.ts). */
export interface DeliveryObserver {
  attempted(eventType: string, outcome: 'succeeded' | 'retried' | 'failed', seconds: number): void;
}

/** Rounds of claims per run: enough to drain a backlog briskly, bounded so a run ends. */
const MAX_ROUNDS = 10;

/**
 * The delivery worker (docs/webhooks.md): claims due deliveries under a lease
 * (delivery.repository.ts), POSTs each signed event outside any transaction, and records the
 * outcome under its claim. Safe on every instance at once: claims are disjoint, and a worker
 * killed mid-request leaves a lease that expires, after which any instance delivers again
 * (at least once; the stable `webhook-id` lets the receiver drop the repeat).
 */
export class WebhookDeliveryJob implements ServiceJob {
  readonly name = 'webhook-delivery';
  private stopping = false;

  constructor(
    private readonly db: Db,
    private readonly config: WebhookConfig,
    private readonly logger: Logger,
    private readonly observer?: DeliveryObserver,
  ) {}

  get intervalMs(): number {
    return this.config.pollIntervalMs;
  }

  /** No new claims after this: what is in flight finishes (within the timeout). */
  stop(): void {
    this.stopping = true;
  }

  /** Delivers what is due; returns how many attempts were made. */
  async run(): Promise<number> {
    let attempted = 0;
    for (let round = 0; round < MAX_ROUNDS && !this.stopping; round += 1) {
      const leaseMs = this.config.timeoutMs + WEBHOOK_LEASE_MARGIN_MS;
      const claims = await claimDueDeliveries(this.db, this.config.batchSize, leaseMs);
      if (claims.length === 0) break;
      await Promise.all(claims.map((claim) => this.deliver(claim)));
      attempted += claims.length;
    }
    return attempted;
  }

  private async deliver(claim: ClaimedDelivery): Promise<void> {
    // The Standard Webhooks payload shape: the type, when the event happened, and its data.
    const body = JSON.stringify({
      type: claim.eventType,
      timestamp: claim.eventCreatedAt.toISOString(),
      data: claim.payload,
    });
    const started = performance.now();
    const result = await sendWebhook(new URL(claim.url), body, signatureHeaders(claim.secret, claim.eventId, body), {
      timeoutMs: this.config.timeoutMs,
      allowInsecureTargets: this.config.allowInsecureTargets,
    });
    const seconds = (performance.now() - started) / 1000;
    const judged = verdict(result, claim.attempts, claim.retryFrom, this.config);
    const statusCode = result.kind === 'response' ? result.status : null;
    const outcome: Outcome =
      judged.outcome === 'succeeded'
        ? { status: 'succeeded', statusCode: statusCode ?? 0 }
        : judged.outcome === 'retry'
          ? { status: 'pending', statusCode, error: describe(result), delayMs: judged.delayMs }
          : { status: 'failed', statusCode, error: judged.reason };
    const context = {
      deliveryId: claim.id,
      webhookId: claim.webhookId,
      eventId: claim.eventId,
      attempt: claim.attempts,
    };
    try {
      if (!(await recordOutcome(this.db, claim, outcome))) {
        this.logger.warn('webhook delivery outcome not recorded: the claim had expired', context);
        return;
      }
    } catch (error) {
      // The lease expires and the delivery is made again: at least once.
      this.logger.warn('webhook delivery outcome could not be recorded', { ...context, err: error });
      return;
    }
    this.observer?.attempted(claim.eventType, judged.outcome === 'retry' ? 'retried' : judged.outcome, seconds);
    if (judged.outcome === 'failed') this.logger.warn('webhook delivery failed', { ...context, reason: judged.reason });
    else if (judged.outcome === 'retry') {
      this.logger.info('webhook delivery will be retried', {
        ...context,
        reason: describe(result),
        delayMs: judged.delayMs,
      });
    }
  }
}
