import { sql } from 'kysely';

import type { Db } from '../db/database.js';
import type { ChunkRef } from './archive-catalog.repository.js';
import type { ManifestRow } from './archive.repository.js';
import type { ArchiveStatus } from './archive.table.js';
import type { ChunkSummary } from './chunk-summary.js';

/*
 * The manifest row's lease (claimed_by/claimed_until) and every write made under it: each
 * write requires the claim, so an instance that lost it changes nothing.
 */

/** Who holds a chunk's manifest row, for how long: every write after the claim checks it. */
export interface Claim {
  hypertable: string;
  rangeStart: Date;
  owner: string;
  leaseMs: number;
}

/** A write under a claim found the row claimed by another instance (its lease had lapsed). */
export class ClaimLostError extends Error {
  constructor() {
    super('the claim on this chunk was lost to another instance');
  }
}

const leaseEnd = (leaseMs: number) => sql<Date>`now() + ${leaseMs}::float8 * interval '1 millisecond'`;

/**
 * Claims a chunk for one archiver (a lease until `leaseMs` from now), creating its manifest row
 * with the fixed object key on first sight. Returns the row when claimed, undefined when another
 * instance holds an unexpired lease. The key is never updated: whoever archives the range later
 * writes the same object.
 */
export async function claimChunk(
  db: Db,
  hypertable: string,
  chunk: ChunkRef,
  objectKey: string,
  owner: string,
  leaseMs: number,
): Promise<ManifestRow | undefined> {
  const until = leaseEnd(leaseMs);
  return db
    .insertInto('archive_manifest')
    .values({
      hypertable,
      range_start: chunk.rangeStart,
      range_end: chunk.rangeEnd,
      chunk_id: chunk.chunkId,
      object_key: objectKey,
      claimed_by: owner,
      claimed_until: until,
    })
    .onConflict((oc) =>
      oc
        .columns(['hypertable', 'range_start'])
        .doUpdateSet({ claimed_by: owner, claimed_until: until, updated_at: sql<Date>`now()` })
        .where((eb) =>
          eb.or([
            eb('archive_manifest.claimed_until', 'is', null),
            eb('archive_manifest.claimed_until', '<', sql<Date>`now()`),
            eb('archive_manifest.claimed_by', '=', owner),
          ]),
        ),
    )
    .returningAll()
    .executeTakeFirst();
}

export async function releaseClaim(db: Db, claim: Claim): Promise<void> {
  await db
    .updateTable('archive_manifest')
    .set({ claimed_by: null, claimed_until: null })
    .where('hypertable', '=', claim.hypertable)
    .where('range_start', '=', claim.rangeStart)
    .where('claimed_by', '=', claim.owner)
    .execute();
}

/**
 * Extends the lease (during a long export); throws when it was lost (expired and taken by
 * another instance): the work stops before it writes anything the other one relies on.
 */
export async function renewClaim(db: Db, claim: Claim): Promise<void> {
  const result = await db
    .updateTable('archive_manifest')
    .set({ claimed_until: leaseEnd(claim.leaseMs) })
    .where('hypertable', '=', claim.hypertable)
    .where('range_start', '=', claim.rangeStart)
    .where('claimed_by', '=', claim.owner)
    .executeTakeFirst();
  if (result.numUpdatedRows !== 1n) throw new ClaimLostError();
}

/** Records what was uploaded (status uploaded) or read back equal (verified). */
export async function recordObject(
  db: Db,
  claim: Claim,
  status: Extract<ArchiveStatus, 'uploaded' | 'verified'>,
  details: { schemaVersion: number; summary: ChunkSummary; sha256: string; bytes: number },
): Promise<void> {
  const { summary } = details;
  const result = await db
    .updateTable('archive_manifest')
    .set({
      status,
      schema_version: details.schemaVersion,
      row_count: summary.rows,
      min_ts: summary.minUs === null ? null : new Date(Math.floor(summary.minUs / 1000)),
      max_ts: summary.maxUs === null ? null : new Date(Math.floor(summary.maxUs / 1000)),
      // As text: a jsonb-typed parameter would be encoded as JSON once more (a JSON string).
      device_summary: sql<ChunkSummary>`${JSON.stringify(summary)}::text::jsonb`,
      sha256: details.sha256,
      bytes: details.bytes,
      verified_at: status === 'verified' ? sql<Date>`now()` : null,
      claimed_until: leaseEnd(claim.leaseMs),
      updated_at: sql<Date>`now()`,
    })
    .where('hypertable', '=', claim.hypertable)
    .where('range_start', '=', claim.rangeStart)
    .where('claimed_by', '=', claim.owner)
    .executeTakeFirst();
  if (result.numUpdatedRows !== 1n) throw new ClaimLostError();
}

/**
 * A failed attempt: counted, its error kept, the claim released. `resetToPending` when what the
 * manifest says can no longer be trusted (the chunk changed after its export), so the next run
 * exports and uploads again (to the same key).
 */
export async function recordFailure(db: Db, claim: Claim, error: string, resetToPending: boolean): Promise<void> {
  await db
    .updateTable('archive_manifest')
    .set((eb) => ({
      failures: eb('failures', '+', 1),
      last_error: error.slice(0, 2000),
      last_failed_at: sql<Date>`now()`,
      claimed_by: null,
      claimed_until: null,
      updated_at: sql<Date>`now()`,
      ...(resetToPending ? { status: 'pending' as const } : {}),
    }))
    .where('hypertable', '=', claim.hypertable)
    .where('range_start', '=', claim.rangeStart)
    // Only the holder records: an instance that lost its lease must not mark a chunk another
    // one has archived since as failing.
    .where('claimed_by', '=', claim.owner)
    .execute();
}
