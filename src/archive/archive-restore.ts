import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Db } from '../db/database.js';
import type { ReadingKind } from '../telemetry/reading.js';
import { DAY_MS } from '../time.js';
import { STREAM_FORMATS, type ArchiveRow } from './archive-format.js';
import { holdRestored, insertArchivedRows } from './archive-restore.repository.js';
import { listArchivedObjects, type ManifestRow } from './archive.repository.js';
import { fileChecksums, type ObjectStore } from './object-store.js';
import { readParquetFile } from './parquet-codec.js';

export interface ArchiveRange {
  stream: ReadingKind;
  from: Date;
  to: Date;
}

/** How long restored chunks stay before the archive job may drop them again (by default). */
export const DEFAULT_HOLD_MS = 7 * DAY_MS;

/**
 * Reads the archived objects of a stream that hold readings in [from, to), one at a time, each
 * downloaded to a temporary file and checked against the manifest's SHA-256 first.
 */
async function* archivedRows(
  db: Db,
  store: ObjectStore,
  range: ArchiveRange,
): AsyncGenerator<{ object: ManifestRow; rows: ArchiveRow[] }> {
  const format = STREAM_FORMATS[range.stream];
  const objects = await listArchivedObjects(db, format.hypertable, range);
  const dir = await mkdtemp(join(tmpdir(), 'ev-archive-read-'));
  try {
    for (const object of objects) {
      const file = join(dir, 'object.parquet');
      await store.get(object.object_key, file);
      const { sha256 } = await fileChecksums(file);
      if (sha256 !== object.sha256)
        throw new Error(`${object.object_key}: SHA-256 ${sha256}, manifest says ${object.sha256}`);
      for await (const rows of readParquetFile(file, format)) yield { object, rows };
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface RestoreReport {
  objects: number;
  rows: number;
  /** Rows put back (the others were still, or again, in the database). */
  inserted: number;
}

/**
 * Puts archived readings back into the hypertable: every archived chunk that overlaps
 * [from, to), WHOLE (so the archive job can compare the chunk with its manifest and drop it
 * again after `holdMs`, without a new object). Rows already stored are skipped: a restore can be
 * repeated and never duplicates a reading. The aggregates are not touched: they still hold these
 * readings (kept 2 years) and stay exact.
 */
export async function restoreArchive(
  db: Db,
  store: ObjectStore,
  range: ArchiveRange,
  holdMs = DEFAULT_HOLD_MS,
): Promise<RestoreReport> {
  const format = STREAM_FORMATS[range.stream];
  const report: RestoreReport = { objects: 0, rows: 0, inserted: 0 };
  let current: string | undefined;
  for await (const { object, rows } of archivedRows(db, store, range)) {
    if (current !== object.object_key) {
      current = object.object_key;
      report.objects += 1;
      // Held before the rows go in, so a job run in between cannot drop a half-restored chunk.
      await holdRestored(db, format.hypertable, [object.range_start], new Date(Date.now() + holdMs));
    }
    report.rows += rows.length;
    report.inserted += await insertArchivedRows(db, format, rows);
  }
  return report;
}

/**
 * The archived readings of a stream in [from, to), of one device or all, without restoring
 * them: read straight from the Parquet objects. Yields batches in device, time order per object.
 */
export async function* queryArchive(
  db: Db,
  store: ObjectStore,
  range: ArchiveRange & { device?: string | undefined },
): AsyncGenerator<ArchiveRow[]> {
  const fromUs = range.from.getTime() * 1000;
  const toUs = range.to.getTime() * 1000;
  for await (const { rows } of archivedRows(db, store, range)) {
    const matching = rows.filter(
      (row) => row.tsUs >= fromUs && row.tsUs < toUs && (range.device === undefined || row.device === range.device),
    );
    if (matching.length > 0) yield matching;
  }
}
