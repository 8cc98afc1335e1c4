import { sql } from 'kysely';

import type { Db } from '../db/database.js';

/** A shard of a stream: the lease table's key. */
export interface ShardKey {
  streamName: string;
  shardId: string;
}

/** A lease as one consumer holds it: the fencing counter it took the lease with. */
export interface HeldLease extends ShardKey {
  counter: number;
}

/** A shard's row as the balancer sees it. */
export interface LeaseRow extends ShardKey {
  parentShardIds: string[];
  owner: string | null;
  counter: number;
  checkpoint: string | null;
  finished: boolean;
  /** Held and not expired, by the database clock. */
  live: boolean;
}

export interface TakenLease extends HeldLease {
  checkpoint: string | null;
}

const leaseInterval = (durationMs: number) => sql<string>`make_interval(secs => ${durationMs / 1000})`;

/**
 * Adds shards not yet in the table (a new stream, or children of a split or merge); rows
 * already there keep their lease and checkpoint.
 */
export async function registerShards(
  db: Db,
  streamName: string,
  shards: readonly { shardId: string; parentShardIds: string[] }[],
): Promise<void> {
  if (shards.length === 0) return;
  await db
    .insertInto('stream_shard_lease')
    .values(shards.map((s) => ({ stream_name: streamName, shard_id: s.shardId, parent_shard_ids: s.parentShardIds })))
    .onConflict((oc) => oc.columns(['stream_name', 'shard_id']).doNothing())
    .execute();
}

/** Every shard of these streams, with whether its lease is live now (database clock). */
export async function listLeases(db: Db, streamNames: readonly string[]): Promise<LeaseRow[]> {
  if (streamNames.length === 0) return [];
  const rows = await db
    .selectFrom('stream_shard_lease')
    .select([
      'stream_name',
      'shard_id',
      'parent_shard_ids',
      'owner',
      'lease_counter',
      'checkpoint',
      sql<boolean>`finished_at IS NOT NULL`.as('finished'),
      sql<boolean>`coalesce(lease_expires_at > now(), false)`.as('live'),
    ])
    .where('stream_name', 'in', streamNames)
    .orderBy('stream_name')
    .orderBy('shard_id')
    .execute();
  return rows.map((row) => ({
    streamName: row.stream_name,
    shardId: row.shard_id,
    parentShardIds: row.parent_shard_ids,
    owner: row.owner,
    counter: row.lease_counter,
    checkpoint: row.checkpoint,
    finished: row.finished,
    live: row.live,
  }));
}

/**
 * Takes a lease if nobody changed it since `observedCounter` was read: a free or expired
 * lease, or (`steal`) a live one of another consumer, for balancing. The counter goes up, so
 * the previous holder can no longer commit. Returns the new counter and the checkpoint to
 * resume from, or undefined when another consumer got there first.
 *
 * On a real server two consumers may run this on the same row at once: the second UPDATE
 * waits for the first to commit, then re-checks its WHERE against the new row version,
 * finds the counter changed and updates nothing.
 */
export async function takeLease(
  db: Db,
  key: ShardKey,
  owner: string,
  observedCounter: number,
  durationMs: number,
  steal: boolean,
): Promise<TakenLease | undefined> {
  const row = await db
    .updateTable('stream_shard_lease')
    .set({
      owner,
      lease_expires_at: sql<Date>`now() + ${leaseInterval(durationMs)}`,
      lease_counter: sql<number>`lease_counter + 1`,
      updated_at: sql<Date>`now()`,
    })
    .where('stream_name', '=', key.streamName)
    .where('shard_id', '=', key.shardId)
    .where('lease_counter', '=', observedCounter)
    .where('finished_at', 'is', null)
    .$if(!steal, (qb) =>
      qb.where((eb) => eb.or([eb('owner', 'is', null), eb('lease_expires_at', '<=', sql<Date>`now()`)])),
    )
    .returning(['lease_counter', 'checkpoint'])
    .executeTakeFirst();
  return row ? { ...key, counter: row.lease_counter, checkpoint: row.checkpoint } : undefined;
}

/** Extends the leases still held with their counters; returns those (the others are lost). */
export async function renewLeases(
  db: Db,
  owner: string,
  leases: readonly HeldLease[],
  durationMs: number,
): Promise<ShardKey[]> {
  if (leases.length === 0) return [];
  const result = await sql<{ stream_name: string; shard_id: string }>`
    UPDATE stream_shard_lease l
    SET lease_expires_at = now() + ${leaseInterval(durationMs)}, updated_at = now()
    FROM unnest(
      ${leases.map((lease) => lease.streamName)}::text[],
      ${leases.map((lease) => lease.shardId)}::text[],
      ${leases.map((lease) => String(lease.counter))}::bigint[]
    ) AS held (stream_name, shard_id, counter)
    WHERE l.stream_name = held.stream_name AND l.shard_id = held.shard_id
      AND l.owner = ${owner} AND l.lease_counter = held.counter AND l.finished_at IS NULL
    RETURNING l.stream_name, l.shard_id`.execute(db);
  return result.rows.map((row) => ({ streamName: row.stream_name, shardId: row.shard_id }));
}

/** Gives a lease up (graceful stop): another consumer may take it at once. */
export async function releaseLease(db: Db, lease: HeldLease, owner: string): Promise<boolean> {
  const result = await db
    .updateTable('stream_shard_lease')
    .set({ owner: null, lease_expires_at: null, updated_at: sql<Date>`now()` })
    .where('stream_name', '=', lease.streamName)
    .where('shard_id', '=', lease.shardId)
    .where('owner', '=', owner)
    .where('lease_counter', '=', lease.counter)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * The fence: moves the checkpoint (and, at a closed shard's end, marks it finished and
 * frees it) only while `owner` still holds the lease with `counter`, renewing it. Run it
 * first in the transaction that writes the records it covers: the row stays locked until
 * that transaction ends, so on a real server a consumer stealing the lease meanwhile waits,
 * and one that took it before makes this update nothing (the caller then rolls back).
 * Returns whether the lease was still held.
 */
export async function advanceCheckpoint(
  db: Db,
  lease: HeldLease,
  owner: string,
  update: { checkpoint: string | undefined; finished: boolean },
  durationMs: number,
): Promise<boolean> {
  const result = await db
    .updateTable('stream_shard_lease')
    .set({
      checkpoint: update.checkpoint === undefined ? sql<string | null>`checkpoint` : update.checkpoint,
      finished_at: update.finished ? sql<Date>`now()` : null,
      owner: update.finished ? null : owner,
      lease_expires_at: update.finished ? null : sql<Date>`now() + ${leaseInterval(durationMs)}`,
      updated_at: sql<Date>`now()`,
    })
    .where('stream_name', '=', lease.streamName)
    .where('shard_id', '=', lease.shardId)
    .where('owner', '=', owner)
    .where('lease_counter', '=', lease.counter)
    .where('finished_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
