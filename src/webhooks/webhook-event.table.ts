import type { ColumnType, Generated } from 'kysely';

/** The event types a webhook can subscribe to. */
export const WEBHOOK_EVENT_TYPES = ['alert.firing', 'alert.resolved'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The outbox (migration 1764201600023): one row per event, written with its cause. */
export interface WebhookEventTable {
  /** `msg_` + random: the Standard Webhooks `webhook-id`, the same on every attempt. */
  id: string;
  /** Or 'webhook.test' (webhook.table.ts), written only by the /test route. */
  type: WebhookEventType | 'webhook.test';
  /** Deliveries of one key (an alert) go out in creation order. */
  ordering_key: string;
  payload: ColumnType<Record<string, unknown>, string, string>;
  created_at: Generated<Date>;
}
