import { sql } from 'kysely';

import type { Db } from '../db/database.js';

/*
 * The delivery worker's SQL: claims under a lease, and outcomes recorded under the claim. The
 * HTTP request happens between the two, outside any transaction (a slow receiver holds no lock
 * and no connection).
 */

/** A claimed delivery with what its request needs. */
export interface ClaimedDelivery {
  id: number;
  webhookId: string;
  eventId: string;
  eventType: string;
  /** The claim's token: the attempts count after this claim. */
  attempts: number;
  retryFrom: Date;
  url: string;
  secret: string;
  payload: Record<string, unknown>;
  eventCreatedAt: Date;
}

const msInterval = (ms: number) => sql<Date>`now() + ${ms}::float8 * interval '1 millisecond'`;

/**
 * Claims up to `limit` due deliveries: pending ones whose time has come, and delivering ones
 * whose lease expired (their worker died). `FOR UPDATE SKIP LOCKED`: instances claiming at the
 * same time take disjoint rows, none waits for another. A delivery is not claimed while an older
 * one of the same webhook and ordering key is still open (pending or delivering), so one key's
 * events reach a receiver in order, each after the previous one succeeded or finally failed.
 */
export async function claimDueDeliveries(db: Db, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
  const result = await sql<{
    id: number;
    webhook_id: string;
    event_id: string;
    attempts: number;
    retry_from: Date;
  }>`
    UPDATE webhook_deliveries d
    SET status = 'delivering', attempts = d.attempts + 1, lease_until = ${msInterval(leaseMs)}
    WHERE d.id IN (
      SELECT c.id FROM webhook_deliveries c
      JOIN webhooks w ON w.id = c.webhook_id AND w.deleted_at IS NULL
      WHERE c.status IN ('pending', 'delivering') AND c.next_attempt_at <= now()
        AND (c.status = 'pending' OR c.lease_until < now())
        AND NOT EXISTS (
          SELECT 1 FROM webhook_deliveries o
          WHERE o.webhook_id = c.webhook_id AND o.ordering_key = c.ordering_key AND o.id < c.id
            AND o.status IN ('pending', 'delivering'))
      ORDER BY c.next_attempt_at, c.id
      LIMIT ${limit}
      FOR UPDATE OF c SKIP LOCKED)
    RETURNING d.id, d.webhook_id, d.event_id, d.attempts, d.retry_from`.execute(db);
  if (result.rows.length === 0) return [];
  const rows = await db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhooks as w', 'w.id', 'd.webhook_id')
    .innerJoin('webhook_events as e', 'e.id', 'd.event_id')
    .select(['d.id', 'w.url', 'w.secret', 'e.type', 'e.payload', 'e.created_at'])
    .where(
      'd.id',
      'in',
      result.rows.map((r) => r.id),
    )
    .execute();
  const byId = new Map(rows.map((row) => [row.id, row]));
  return result.rows.flatMap((claim) => {
    const row = byId.get(claim.id);
    if (!row) return [];
    return [
      {
        id: claim.id,
        webhookId: claim.webhook_id,
        eventId: claim.event_id,
        eventType: row.type,
        attempts: claim.attempts,
        retryFrom: claim.retry_from,
        url: row.url,
        secret: row.secret,
        payload: row.payload,
        eventCreatedAt: row.created_at,
      },
    ];
  });
}

export type Outcome =
  | { status: 'succeeded'; statusCode: number }
  | { status: 'pending'; statusCode: number | null; error: string; delayMs: number }
  | { status: 'failed'; statusCode: number | null; error: string };

/**
 * Records an attempt's outcome, only if the claim is still this worker's (same attempts count,
 * still delivering): after a lease expired and another instance re-claimed the delivery, the
 * late worker changes nothing. Returns whether it was recorded.
 */
export async function recordOutcome(db: Db, claim: ClaimedDelivery, outcome: Outcome): Promise<boolean> {
  const base = db
    .updateTable('webhook_deliveries')
    .where('id', '=', claim.id)
    .where('attempts', '=', claim.attempts)
    .where('status', '=', 'delivering');
  const update =
    outcome.status === 'succeeded'
      ? base.set({
          status: 'succeeded',
          lease_until: null,
          last_status_code: outcome.statusCode,
          last_error: null,
          delivered_at: sql<Date>`now()`,
        })
      : base.set({
          status: outcome.status,
          lease_until: null,
          last_status_code: outcome.statusCode,
          last_error: outcome.error.slice(0, 500),
          ...(outcome.status === 'pending' ? { next_attempt_at: msInterval(outcome.delayMs) } : {}),
        });
  const result = await update.executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Deliveries not yet done (pending or being delivered): the outbox depth. */
export async function countOpenDeliveries(db: Db): Promise<number> {
  const row = await db
    .selectFrom('webhook_deliveries')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', 'in', ['pending', 'delivering'])
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Events in the outbox by type (rare: alerts change state seldom, so a count stays cheap). */
export async function countEventsByType(db: Db): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('webhook_events')
    .select(['type', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('type')
    .execute();
  return Object.fromEntries(rows.map((row) => [row.type, Number(row.n)]));
}
