import { randomBytes, randomUUID } from 'node:crypto';

import { sql } from 'kysely';

import type { Db } from '../db/database.js';
import { TEST_EVENT_TYPE, type DeliveryStatus } from './webhook.table.js';

/* The webhook routes' SQL: subscriptions, their delivery log, test events and redelivery. */

export interface StoredWebhook {
  id: string;
  url: string;
  secret: string;
  events: string[];
  createdAt: Date;
}

export interface StoredDelivery {
  id: number;
  eventId: string;
  eventType: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

const webhookColumns = ['id', 'url', 'secret', 'events', 'created_at as createdAt'] as const;

export async function createWebhook(db: Db, input: Omit<StoredWebhook, 'id' | 'createdAt'>): Promise<StoredWebhook> {
  return db
    .insertInto('webhooks')
    .values({ id: randomUUID(), url: input.url, secret: input.secret, events: input.events })
    .returning(webhookColumns)
    .executeTakeFirstOrThrow();
}

export async function listWebhooks(db: Db): Promise<StoredWebhook[]> {
  return db
    .selectFrom('webhooks')
    .select(webhookColumns)
    .where('deleted_at', 'is', null)
    .orderBy('created_at')
    .execute();
}

export async function findWebhook(db: Db, id: string): Promise<StoredWebhook | undefined> {
  return db
    .selectFrom('webhooks')
    .select(webhookColumns)
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}

/**
 * Deletes a webhook: no new deliveries, and its open ones are cancelled (failed). One being sent
 * right now finishes its request, but its outcome is no longer recorded. False if unknown.
 */
export async function deleteWebhook(db: Db, id: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const deleted = await trx
      .updateTable('webhooks')
      .set({ deleted_at: sql<Date>`now()` })
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (deleted.numUpdatedRows === 0n) return false;
    await trx
      .updateTable('webhook_deliveries')
      .set({ status: 'failed', lease_until: null, last_error: 'the webhook was deleted' })
      .where('webhook_id', '=', id)
      .where('status', 'in', ['pending', 'delivering'])
      .execute();
    return true;
  });
}

/**
 * A 'webhook.test' event for one webhook and its delivery, in one transaction (the fan-out
 * trigger skips this type: no other webhook gets it). Its own ordering key: it waits for nothing.
 */
export async function enqueueTestDelivery(db: Db, webhookId: string): Promise<{ eventId: string; deliveryId: number }> {
  const eventId = `msg_${randomBytes(16).toString('base64url')}`;
  return db.transaction().execute(async (trx) => {
    await trx
      .insertInto('webhook_events')
      .values({
        id: eventId,
        type: TEST_EVENT_TYPE,
        ordering_key: eventId,
        payload: sql<string>`${JSON.stringify({ webhookId, message: 'A test event: the webhook is reachable and verifies.' })}::text::jsonb`,
      })
      .execute();
    const delivery = await trx
      .insertInto('webhook_deliveries')
      .values({ webhook_id: webhookId, event_id: eventId, ordering_key: eventId })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { eventId, deliveryId: delivery.id };
  });
}

function deliveries(db: Db) {
  return db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_events as e', 'e.id', 'd.event_id')
    .select([
      'd.id',
      'd.event_id as eventId',
      'e.type as eventType',
      'd.status',
      'd.attempts',
      'd.next_attempt_at as nextAttemptAt',
      'd.last_status_code as lastStatusCode',
      'd.last_error as lastError',
      'd.created_at as createdAt',
      'd.delivered_at as deliveredAt',
    ]);
}

/** A webhook's deliveries, newest first, `limit` of them older than `before` (a delivery id). */
export async function listDeliveries(
  db: Db,
  webhookId: string,
  page: { limit: number; before?: number | undefined },
): Promise<StoredDelivery[]> {
  let query = deliveries(db).where('d.webhook_id', '=', webhookId);
  if (page.before !== undefined) query = query.where('d.id', '<', page.before);
  return query.orderBy('d.id', 'desc').limit(page.limit).execute();
}

export type RedeliverResult = { delivery: StoredDelivery } | { problem: 'not_found' | 'in_flight' };

/**
 * Makes a delivery due now, with a fresh retry period: a failed or succeeded one is sent again
 * (same event id), a pending one is brought forward. One being sent right now (its lease
 * unexpired) is left alone: two requests of one delivery must never run at once.
 */
export async function redeliver(db: Db, webhookId: string, deliveryId: number): Promise<RedeliverResult> {
  const updated = await db
    .updateTable('webhook_deliveries')
    .set({
      status: 'pending',
      next_attempt_at: sql<Date>`now()`,
      retry_from: sql<Date>`now()`,
      lease_until: null,
      delivered_at: null,
    })
    .where('id', '=', deliveryId)
    .where('webhook_id', '=', webhookId)
    .where((eb) => eb.not(eb.and([eb('status', '=', 'delivering'), eb('lease_until', '>', sql<Date>`now()`)])))
    .executeTakeFirst();
  const row = await deliveries(db)
    .where('d.id', '=', deliveryId)
    .where('d.webhook_id', '=', webhookId)
    .executeTakeFirst();
  if (!row) return { problem: 'not_found' };
  return updated.numUpdatedRows > 0n ? { delivery: row } : { problem: 'in_flight' };
}
