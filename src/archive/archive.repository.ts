import type { Selectable } from 'kysely';

import type { Db } from '../db/database.js';
import type { ArchiveManifestTable, ArchiveStatus } from './archive.table.js';

/*
 * Reads of the archive manifest (archive_manifest). Its writes are in archive-claims.repository.ts
 * (under a chunk's claim) and archive-restore.repository.ts (holds); the SQL over chunks in
 * archive-chunk.repository.ts, the settings and the catalog in their own files.
 */

export type ManifestRow = Selectable<ArchiveManifestTable>;

/** Manifest rows whose objects hold readings in [from, to), oldest first. */
export async function listArchivedObjects(
  db: Db,
  hypertable: string,
  range: { from: Date; to: Date },
): Promise<ManifestRow[]> {
  return db
    .selectFrom('archive_manifest')
    .selectAll()
    .where('hypertable', '=', hypertable)
    .where('status', 'in', ['verified', 'dropped'])
    .where('range_start', '<', range.to)
    .where('range_end', '>', range.from)
    .orderBy('range_start')
    .execute();
}

export interface FailingChunk {
  stream: string;
  objectKey: string;
  rangeStart: Date;
  status: ArchiveStatus;
  failures: number;
  lastError: string | null;
  lastFailedAt: Date | null;
}

/** Chunks whose last archive attempt failed (they are still in the database). */
export async function listFailingChunks(db: Db): Promise<FailingChunk[]> {
  const rows = await db
    .selectFrom('archive_manifest as m')
    .innerJoin('archive_settings as s', 's.hypertable', 'm.hypertable')
    .select(['s.stream', 'm.object_key', 'm.range_start', 'm.status', 'm.failures', 'm.last_error', 'm.last_failed_at'])
    .where('m.failures', '>', 0)
    .orderBy('m.range_start')
    .execute();
  return rows.map((row) => ({
    stream: row.stream,
    objectKey: row.object_key,
    rangeStart: row.range_start,
    status: row.status,
    failures: row.failures,
    lastError: row.last_error,
    lastFailedAt: row.last_failed_at,
  }));
}
