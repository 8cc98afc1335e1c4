import { sql } from 'kysely';

import type { Db } from '../db/database.js';

/**
 * Deletes, in one bounded batch each, deliveries that are done (succeeded or failed) and were
 * created before `before`, then events created before it that have no delivery left. An open
 * delivery (pending, being sent, or redelivered) keeps its event, whatever its age; a
 * redeliver of a pruned delivery is a 404, as for any unknown id.
 */
export async function pruneOutbox(
  db: Db,
  before: Date,
  limit: number,
): Promise<{ deliveries: number; events: number }> {
  const deliveries = await sql`
    DELETE FROM webhook_deliveries
     WHERE id IN (SELECT id FROM webhook_deliveries
                   WHERE status IN ('succeeded', 'failed') AND created_at < ${before}
                   ORDER BY id LIMIT ${limit})`.execute(db);
  const events = await sql`
    DELETE FROM webhook_events
     WHERE id IN (SELECT e.id FROM webhook_events e
                   WHERE e.created_at < ${before}
                     AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id)
                   ORDER BY e.created_at LIMIT ${limit})`.execute(db);
  return { deliveries: Number(deliveries.numAffectedRows ?? 0), events: Number(events.numAffectedRows ?? 0) };
}
