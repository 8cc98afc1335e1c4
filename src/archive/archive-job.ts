import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { ReadingKind } from '../telemetry/reading.js';
import { HOUR_MS, MINUTE_MS } from '../time.js';
import { listChunksEndingBy, type ChunkRef } from './archive-catalog.repository.js';
import { dropVerifiedChunk, readChunkRows } from './archive-chunk.repository.js';
import { claimChunk, recordFailure, recordObject, releaseClaim, type Claim } from './archive-claims.repository.js';
import { formatOfHypertable, objectKey, SCHEMA_VERSION, type ArchiveRow, type StreamFormat } from './archive-format.js';
import { readArchiveSettings } from './archive-settings.repository.js';
import type { ManifestRow } from './archive.repository.js';
import { compareSummaries, SummaryBuilder, type ChunkSummary } from './chunk-summary.js';
import { ClaimHeartbeat } from './claim-heartbeat.js';
import { fileChecksums, type ObjectStore } from './object-store.js';
import { readParquetFile, writeParquetFile } from './parquet-codec.js';
import { refreshBeforeDrop } from './refresh-before-drop.js';

/**
 * The archive job: moves every raw-history chunk older than the hot period to object storage,
 * then drops it. Per chunk, through the states of its manifest row (archive_manifest.status):
 *
 *   (no row) --claim--> PENDING --export, upload--> UPLOADED --read back, compare--> VERIFIED
 *            --refresh the aggregates over it; lock, compare again, aggregates exact?,
 *              drop_chunks + status, one transaction--> DROPPED
 *
 * - claim: a short lease on the row (claimed_by/claimed_until, 1 minute by the database's clock),
 *   so of several service instances only one works on a chunk. A heartbeat (claim-heartbeat.ts)
 *   renews it every 15 s while the run works on the chunk, so a live run keeps it however long
 *   the chunk takes, and a killed or crashed run's lease lapses within a minute: the next run
 *   takes the chunk over from its manifest state. Every later write of the row (and the drop)
 *   requires the claim, so an instance that lost it changes nothing; its upload in flight is
 *   aborted. A lease, not a session advisory lock: a lock would need one connection held for the
 *   whole chunk (the embedded database has one for everything), and on a server the lock of a
 *   host that vanished (power, network) lives on until TCP keepalive notices, hours by default;
 *   the lease lapses after a minute whatever happened to its holder.
 * - export: rows read in primary-key order in batches, written to a temporary Parquet file and
 *   summarized (chunk-summary.ts) on the way; uploaded to the chunk's FIXED key (chosen when the
 *   row was created, never changed), so a retry overwrites the same object and can never leave
 *   a second one.
 * - read back: the object is downloaded, its SHA-256 compared with the file's and its rows
 *   summarized again: any difference stops here (the chunk stays).
 * - drop: under a lock that keeps writers out, the database summarizes the chunk once more and
 *   it must equal the manifest's (else a row written after the export would be lost), then
 *   drop_chunks over exactly the chunk's range and the DROPPED status commit together.
 * A failure at any step records the error and releases the claim; the chunk stays until a
 * later run succeeds. A VERIFIED row skips straight to the drop (after checking the object is
 * still there); a chunk re-created by a restore finds its DROPPED row, is compared with it and
 * dropped again once its hold has passed, without a new upload.
 */
export interface ArchiveJobOptions {
  /** Key prefix in the bucket ("archive" gives archive/v2/stream=.../...). */
  prefix: string;
  /** Who claims chunks (default: host, pid and a random suffix, unique per process). */
  owner?: string;
  /** How long a claim holds without renewal (the heartbeat renews it 4 times per period). */
  leaseMs?: number;
  /** Rows per read from the database and per Parquet row group. */
  batchRows?: number;
  /** Where temporary Parquet files go. */
  tmpDir?: string;
  /** Called at each outcome (metrics). */
  onOutcome?: (stream: ReadingKind, outcome: ChunkOutcome, rows: number) => void;
  /** Tests: runs after the object was verified and recorded, before the drop (a throw = a crash there). */
  beforeDrop?: (chunk: ChunkRef) => void | Promise<void>;
}

export type ChunkOutcome = 'archived' | 'failed' | 'held' | 'busy';

export interface ArchiveRunReport {
  archived: number;
  failed: number;
  held: number;
  busy: number;
  /** Archive mode is on for a stream but no object store is configured: nothing was archived. */
  unconfigured: ReadingKind[];
}

/** A dead run's chunk is free again within this: long enough for a few missed renewals. */
export const DEFAULT_LEASE_MS = MINUTE_MS;
const DEFAULT_BATCH_ROWS = 50_000;

export class ArchiveJob {
  readonly name = 'archive';
  /** How often the scheduler runs it: the shortest run_interval of the streams in archive mode. */
  intervalMs = HOUR_MS;
  private readonly owner: string;

  constructor(
    private readonly db: Db,
    private readonly store: ObjectStore | undefined,
    private readonly logger: Logger,
    private readonly options: ArchiveJobOptions,
  ) {
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  }

  /** One pass over every stream in archive mode, oldest chunk first. */
  async run(now = Date.now()): Promise<ArchiveRunReport> {
    const report: ArchiveRunReport = { archived: 0, failed: 0, held: 0, busy: 0, unconfigured: [] };
    const settings = (await readArchiveSettings(this.db)).filter((setting) => setting.enabled);
    if (settings.length > 0) this.intervalMs = Math.min(...settings.map((setting) => setting.runIntervalMs));
    for (const setting of settings) {
      if (!this.store) {
        report.unconfigured.push(setting.stream);
        this.logger.error('archive mode is on but no bucket is configured (ARCHIVE_BUCKET): old chunks are kept', {
          stream: setting.stream,
        });
        continue;
      }
      const format = formatOfHypertable(setting.hypertable);
      const chunks = await listChunksEndingBy(this.db, setting.hypertable, new Date(now - setting.hotPeriodMs));
      for (const chunk of chunks) {
        const outcome = await this.archiveChunk(this.store, format, chunk, now);
        report[outcome.outcome] += 1;
        this.options.onOutcome?.(format.stream, outcome.outcome, outcome.rows);
      }
    }
    return report;
  }

  private async archiveChunk(
    store: ObjectStore,
    format: StreamFormat,
    chunk: ChunkRef,
    now: number,
  ): Promise<{ outcome: ChunkOutcome; rows: number }> {
    const key = objectKey(this.options.prefix, format.stream, chunk.rangeStart, chunk.chunkId);
    const row = await claimChunk(
      this.db,
      format.hypertable,
      chunk,
      key,
      this.owner,
      this.options.leaseMs ?? DEFAULT_LEASE_MS,
    );
    if (!row) return { outcome: 'busy', rows: 0 };
    const claim: Claim = {
      hypertable: row.hypertable,
      rangeStart: row.range_start,
      owner: this.owner,
      leaseMs: this.options.leaseMs ?? DEFAULT_LEASE_MS,
    };
    const log = this.logger.child({ stream: format.stream, chunk: chunk.table, key: row.object_key });
    if (row.status === 'dropped' && row.hold_until !== null && row.hold_until.getTime() > now) {
      await releaseClaim(this.db, claim);
      return { outcome: 'held', rows: 0 };
    }
    const heartbeat = new ClaimHeartbeat(this.db, claim, log);
    try {
      return await this.workOnChunk(store, format, chunk, row, claim, heartbeat, log);
    } finally {
      await heartbeat.stop();
    }
  }

  /** Claimed: from the row's state to DROPPED, or the failure recorded. */
  private async workOnChunk(
    store: ObjectStore,
    format: StreamFormat,
    chunk: ChunkRef,
    row: ManifestRow,
    claim: Claim,
    heartbeat: ClaimHeartbeat,
    log: Logger,
  ): Promise<{ outcome: ChunkOutcome; rows: number }> {
    let resetToPending = false;
    try {
      let expected: ChunkSummary;
      if (row.status === 'verified' || row.status === 'dropped') {
        // Exported and verified before (then a crash or a failed drop), or restored since.
        expected = await this.checkStoredObject(store, row);
      } else {
        expected = await this.exportAndVerify(store, format, chunk, row, heartbeat);
      }
      await this.options.beforeDrop?.(chunk);
      heartbeat.check();
      // Every aggregate over the chunk is brought up to date with its rows first (a late reading
      // since the last refresh, a stalled policy): after the drop they are all that is left.
      // The drop re-checks this under its lock, so a reading arriving in between stops it.
      await refreshBeforeDrop(this.db, format.hypertable, chunk.rangeStart, chunk.rangeEnd);
      await dropVerifiedChunk(this.db, claim, format, chunk, (current) => {
        const problems = compareSummaries(expected, current);
        if (problems.length > 0) {
          // A verified (not yet dropped) chunk that changed must be exported again; a restored
          // one that differs from its archive is left alone: the archive is never overwritten.
          resetToPending = row.status !== 'dropped';
          throw new Error(`the chunk differs from its archive: ${problems.join('; ')}`);
        }
      });
      log.info('chunk archived and dropped', { rows: expected.rows, compressed: chunk.compressed });
      return { outcome: 'archived', rows: expected.rows };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log.warn('archiving a chunk failed; it stays in the database', { err: error });
      await recordFailure(this.db, claim, message, resetToPending);
      return { outcome: 'failed', rows: 0 };
    }
  }

  /** PENDING or UPLOADED: export to the chunk's key, read back, compare, record VERIFIED. */
  private async exportAndVerify(
    store: ObjectStore,
    format: StreamFormat,
    chunk: ChunkRef,
    row: ManifestRow,
    heartbeat: ClaimHeartbeat,
  ): Promise<ChunkSummary> {
    const claim = heartbeat.claim;
    const dir = await mkdtemp(join(this.options.tmpDir ?? tmpdir(), 'ev-archive-'));
    try {
      const file = join(dir, 'chunk.parquet');
      const builder = new SummaryBuilder();
      const info = {
        stream: format.stream,
        hypertable: format.hypertable,
        chunkId: row.chunk_id,
        rangeStart: chunk.rangeStart,
        rangeEnd: chunk.rangeEnd,
      };
      await writeParquetFile(file, format, info, this.chunkBatches(format, chunk, builder, heartbeat));
      const summary = builder.finish();
      const checksums = await fileChecksums(file);
      // Never upload under a lost lease: the new holder may be verifying this very key. Renewed
      // just before, and aborted if the claim is lost (or cannot be renewed) while it runs.
      await heartbeat.renewNow();
      await heartbeat.guard((signal) => store.put(row.object_key, file, checksums, signal));
      const details = { schemaVersion: SCHEMA_VERSION, summary, sha256: checksums.sha256, bytes: checksums.bytes };
      await recordObject(this.db, claim, 'uploaded', details);

      const back = join(dir, 'read-back.parquet');
      await store.get(row.object_key, back);
      const backChecksums = await fileChecksums(back);
      if (backChecksums.sha256 !== checksums.sha256) {
        throw new Error(`read-back SHA-256 ${backChecksums.sha256} differs from the upload's ${checksums.sha256}`);
      }
      const problems = compareSummaries(summary, await summarizeFile(back, format));
      if (problems.length > 0) throw new Error(`read-back differs from the chunk: ${problems.join('; ')}`);
      await recordObject(this.db, claim, 'verified', details);
      return summary;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** VERIFIED or DROPPED: the object must still be there, as recorded; its summary is the manifest's. */
  private async checkStoredObject(store: ObjectStore, row: ManifestRow): Promise<ChunkSummary> {
    if (!row.device_summary || row.sha256 === null) throw new Error('the manifest row has no summary');
    const info = await store.head(row.object_key);
    if (!info) throw new Error(`the archived object ${row.object_key} is missing`);
    if (info.bytes !== row.bytes || info.sha256 !== row.sha256) {
      throw new Error(`the archived object ${row.object_key} is not the one recorded (size or SHA-256 differ)`);
    }
    return row.device_summary;
  }

  private async *chunkBatches(
    format: StreamFormat,
    chunk: ChunkRef,
    builder: SummaryBuilder,
    heartbeat: ClaimHeartbeat,
  ): AsyncGenerator<ArchiveRow[]> {
    const batchRows = this.options.batchRows ?? DEFAULT_BATCH_ROWS;
    let after: { device: string; tsUs: number } | undefined;
    for (;;) {
      // A chunk of 14.4 M rows takes minutes: stop as soon as the heartbeat finds the claim lost.
      heartbeat.check();
      const rows = await readChunkRows(this.db, format, chunk, after, batchRows);
      for (const row of rows) builder.add(row);
      if (rows.length > 0) yield rows;
      if (rows.length < batchRows) return;
      const last = rows[rows.length - 1]!;
      after = { device: last.device, tsUs: last.tsUs };
    }
  }
}

/** The summary of an archived Parquet file, read row group by row group. */
export async function summarizeFile(filename: string, format: StreamFormat): Promise<ChunkSummary> {
  const builder = new SummaryBuilder();
  for await (const rows of readParquetFile(filename, format)) for (const row of rows) builder.add(row);
  return builder.finish();
}
