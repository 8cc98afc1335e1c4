import { sql } from 'kysely';

import type { Db } from '../db/database.js';

/** Where the primary's WAL stood at one instant: every transaction committed before it is at or below `lsn`. */
export interface Fence {
  lsn: string;
  at: Date;
}

/** How far a read replica has replayed, compared with a fence taken on the primary. */
export interface ReplayPosition {
  /** False for a server that is not a standby (a promoted replica, or an embedded stand-in in tests). */
  inRecovery: boolean;
  /** It has replayed the fence's LSN: every transaction committed before the fence is visible on it. */
  reached: boolean;
  /** Commit time (primary clock) of the last transaction it replayed; null before the first one. */
  replayedAt: Date | null;
}

/**
 * The primary's current WAL write position. A transaction acknowledged before this runs has
 * its commit record below it (a commit is written before it returns, flushed too unless
 * synchronous_commit is off), so a replica that replayed up to it shows every acknowledged write.
 */
export async function takeFence(primary: Db): Promise<Fence> {
  const result = await sql<{ lsn: string; at: Date }>`SELECT pg_current_wal_lsn()::text AS lsn, now() AS at`.execute(
    primary,
  );
  const row = result.rows[0];
  if (!row) throw new Error('pg_current_wal_lsn() returned no row');
  return row;
}

/** One round trip to the replica: is it a standby, and has it replayed up to `fenceLsn`? */
export async function replayPosition(replica: Db, fenceLsn: string): Promise<ReplayPosition> {
  const result = await sql<{ in_recovery: boolean; reached: boolean | null; replayed_at: Date | null }>`
    SELECT pg_is_in_recovery() AS in_recovery,
           pg_last_wal_replay_lsn() >= ${fenceLsn}::pg_lsn AS reached,
           pg_last_xact_replay_timestamp() AS replayed_at`.execute(replica);
  const row = result.rows[0];
  if (!row) throw new Error('the replay position query returned no row');
  // Not in recovery: pg_last_wal_replay_lsn() is null and the server's data is its own current state.
  return {
    inRecovery: row.in_recovery,
    reached: row.in_recovery ? row.reached === true : true,
    replayedAt: row.replayed_at,
  };
}
