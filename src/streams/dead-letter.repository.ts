import { sql } from 'kysely';

import type { Db } from '../db/database.js';
import type { DeadLetterDetail, DeadLetterReason } from './stream.table.js';

/** A record that could not be stored, and why. */
export interface DeadLetter {
  streamName: string;
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  arrivedAt: Date | null;
  reason: DeadLetterReason;
  details: DeadLetterDetail[];
  payload: Buffer;
}

export interface StoredDeadLetter extends DeadLetter {
  id: number;
  createdAt: Date;
}

/**
 * Stores dead letters in the caller's transaction (the one that moves the checkpoint past
 * them). A record read again after a crash is already there: skipped.
 */
export async function insertDeadLetters(db: Db, letters: readonly DeadLetter[]): Promise<void> {
  if (letters.length === 0) return;
  await db
    .insertInto('stream_dead_letter')
    .values(
      letters.map((letter) => ({
        stream_name: letter.streamName,
        shard_id: letter.shardId,
        sequence_number: letter.sequenceNumber,
        partition_key: letter.partitionKey,
        arrived_at: letter.arrivedAt,
        reason: letter.reason,
        // As text, cast by the server: a string bound to a jsonb parameter would be stored as a JSON string.
        details: sql<string>`(${JSON.stringify(letter.details)}::text)::jsonb`,
        payload: letter.payload,
      })),
    )
    .onConflict((oc) => oc.columns(['stream_name', 'shard_id', 'sequence_number']).doNothing())
    .execute();
}

/** Newest first, `before` an id (the previous page's last), optionally of one stream. */
export async function listDeadLetters(
  db: Db,
  filter: { streamName?: string | undefined; before?: number | undefined; limit: number },
): Promise<StoredDeadLetter[]> {
  const rows = await db
    .selectFrom('stream_dead_letter')
    .selectAll()
    .$if(filter.streamName !== undefined, (qb) => qb.where('stream_name', '=', filter.streamName!))
    .$if(filter.before !== undefined, (qb) => qb.where('id', '<', filter.before!))
    .orderBy('id', 'desc')
    .limit(filter.limit)
    .execute();
  return rows.map((row) => ({
    id: row.id,
    streamName: row.stream_name,
    shardId: row.shard_id,
    sequenceNumber: row.sequence_number,
    partitionKey: row.partition_key,
    arrivedAt: row.arrived_at,
    reason: row.reason,
    details: row.details,
    payload: row.payload,
    createdAt: row.created_at,
  }));
}
