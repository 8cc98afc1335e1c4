import type { Db } from '../db/database.js';
import { readArchiveSettings } from './archive-settings.repository.js';
import { listFailingChunks } from './archive.repository.js';

/** How many chunks are shown by name in /readyz (all of them are counted). */
const SHOWN_CHUNKS = 5;

export interface ArchiveStatus {
  /** Streams whose raw history is archived before it is dropped (the rest: plain retention). */
  archivedStreams: string[];
  /** Chunks whose last archive attempt failed: they are kept in the database until one succeeds. */
  failingChunks: number;
  chunks: { stream: string; key: string; failures: number; lastError: string | null }[];
  problems: string[];
}

/** The archive's state for /readyz: it never makes the service unready, it informs. */
export async function readArchiveStatus(db: Db, storeConfigured: boolean): Promise<ArchiveStatus> {
  const archivedStreams = (await readArchiveSettings(db)).filter((s) => s.enabled).map((s) => s.stream);
  const failing = await listFailingChunks(db);
  const problems =
    archivedStreams.length > 0 && !storeConfigured
      ? [`archive mode is on for ${archivedStreams.join(', ')} but ARCHIVE_BUCKET is not set: old chunks are kept`]
      : [];
  return {
    archivedStreams,
    failingChunks: failing.length,
    chunks: failing.slice(0, SHOWN_CHUNKS).map((chunk) => ({
      stream: chunk.stream,
      key: chunk.objectKey,
      failures: chunk.failures,
      lastError: chunk.lastError,
    })),
    problems,
  };
}
