import type { ColumnType, Generated } from 'kysely';

/** A test event (POST /v1/webhooks/{id}/test): addressed to one webhook, never fanned out. */
export const TEST_EVENT_TYPE = 'webhook.test';

/** Subscriptions (migration 1764201600025). */
export interface WebhookTable {
  id: string;
  url: string;
  /** `whsec_<base64>` as given or generated: the HMAC key, so kept as is (it cannot be hashed). */
  secret: string;
  events: string[];
  created_at: Generated<Date>;
  deleted_at: Date | null;
}

export const DELIVERY_STATUSES = ['pending', 'delivering', 'succeeded', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One row per webhook x event; written by the fan-out trigger or the /test route. */
export interface WebhookDeliveryTable {
  id: Generated<number>;
  webhook_id: string;
  event_id: string;
  ordering_key: string;
  status: ColumnType<DeliveryStatus, DeliveryStatus | undefined, DeliveryStatus>;
  /** Incremented by each claim: the claim's fencing token. */
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: ColumnType<Date, Date | undefined, Date>;
  lease_until: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  /** Where the bounded retry period starts (creation, or the latest manual redeliver). */
  retry_from: ColumnType<Date, Date | undefined, Date>;
  created_at: Generated<Date>;
  delivered_at: Date | null;
}
