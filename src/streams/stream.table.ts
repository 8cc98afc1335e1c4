import type { ColumnType, Generated } from 'kysely';

/**
 * One row per shard of a consumed stream: who holds its lease until when (database clock),
 * the fencing counter and the checkpoint (the sequence number of the last record whose
 * readings are committed; a decimal string of up to 129 digits, never a JS number).
 */
export interface StreamShardLeaseTable {
  stream_name: string;
  shard_id: string;
  parent_shard_ids: ColumnType<string[], string[] | undefined, string[]>;
  owner: string | null;
  lease_expires_at: Date | null;
  lease_counter: ColumnType<number, number | undefined, number>;
  checkpoint: string | null;
  finished_at: Date | null;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export type DeadLetterReason = 'not_json' | 'invalid_readings' | 'too_old';

/** What was wrong with a dead-lettered record, as the HTTP API reports validation errors. */
export interface DeadLetterDetail {
  index?: number;
  path: string;
  message: string;
}

export interface StreamDeadLetterTable {
  id: Generated<number>;
  stream_name: string;
  shard_id: string;
  sequence_number: string;
  partition_key: string;
  arrived_at: Date | null;
  reason: DeadLetterReason;
  /** Written as JSON text cast to jsonb, read back parsed. */
  details: ColumnType<DeadLetterDetail[], string, never>;
  payload: Buffer;
  created_at: Generated<Date>;
}
