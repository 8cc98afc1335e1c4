import { randomBytes } from 'node:crypto';

import { sql } from 'kysely';

import type { Db } from '../db/database.js';
import type { WebhookEventType } from './webhook-event.table.js';

export interface WebhookEventInput {
  type: WebhookEventType;
  /** What orders deliveries (the alert's id): one key's events reach a receiver in order. */
  orderingKey: string;
  /** The event's `data`, as the receiver gets it. */
  payload: Record<string, unknown>;
}

/**
 * Writes an event to the outbox. Call it with the transaction that makes the change the event
 * reports (`db` may be a Kysely transaction), so the event exists exactly when the change does.
 * Returns the event's id (its `webhook-id`).
 */
export async function enqueueWebhookEvent(db: Db, event: WebhookEventInput): Promise<string> {
  const id = `msg_${randomBytes(16).toString('base64url')}`;
  await db
    .insertInto('webhook_events')
    .values({
      id,
      type: event.type,
      ordering_key: event.orderingKey,
      // As text, cast: a bare string parameter would be stored as a JSON string, not the object.
      payload: sql<string>`${JSON.stringify(event.payload)}::text::jsonb`,
    })
    .execute();
  return id;
}
