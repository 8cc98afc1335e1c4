import type { ChildShard } from '@aws-sdk/client-kinesis';

import type { Db } from '../db/database.js';
import { dedupeBatch, writeBatch } from '../telemetry/batch-writer.js';
import type { ReadingsByKind } from '../telemetry/reading.js';
import type { CommitTally, ConsumerMetrics } from './consumer-metrics.js';
import { insertDeadLetters, type DeadLetter } from './dead-letter.repository.js';
import { advanceCheckpoint, registerShards, type ShardKey, type TakenLease } from './shard-lease.repository.js';
import { commitRuns, type DecodedRecord } from './stream-records.js';

/**
 * The commits of one leased shard, and the checkpoint they have moved to.
 *
 * Exactly once in effect: a run of records, the dead letters among them and the checkpoint
 * after its last record commit in ONE transaction, whose first statement is the fenced
 * checkpoint update (shard-lease.repository.ts `advanceCheckpoint`). So the checkpoint never
 * passes a record that is not committed, a consumer that lost its lease commits nothing, and
 * what is read again after a crash (from the checkpoint) is stored already: the readings'
 * (device, timestamp) dedup and the dead letters' unique key make the repeat change nothing.
 *
 * Against the embedded database everything shares its one connection, so the commits of
 * all shards (and of several consumers in one process, as in the tests) run one after
 * another and a lease can never be taken while a commit holds its row. On a server each
 * commit takes a pool connection; consumers in other processes then really run at the same
 * time, and the row lock of the fenced update is what orders a commit and a steal.
 */
export class ShardCommit {
  private checkpointValue: string | null;
  readonly key: ShardKey;

  constructor(
    readonly lease: TakenLease,
    private readonly deps: CommitDeps,
  ) {
    this.key = { streamName: lease.streamName, shardId: lease.shardId };
    this.checkpointValue = lease.checkpoint;
  }

  /** The last record committed (null: none yet, read from the initial position). */
  get checkpoint(): string | null {
    return this.checkpointValue;
  }

  /**
   * Commits one read in runs (`commitRuns`); the last run of a shard's final read also
   * finishes the shard and registers its children. Throws LeaseLostError or DatabaseFailure.
   */
  async commitRead(decoded: readonly DecodedRecord[], ended: boolean, children: readonly ChildShard[]): Promise<void> {
    const runs = commitRuns(decoded, this.deps.maxReadingsPerCommit);
    if (runs.length === 0) runs.push([]);
    for (const [index, run] of runs.entries()) {
      const last = index === runs.length - 1;
      await this.commitRun(run, ended && last, last ? children : []);
    }
  }

  private async commitRun(run: DecodedRecord[], finish: boolean, children: readonly ChildShard[]): Promise<void> {
    const { db, hooks, metrics } = this.deps;
    const checkpoint = run.at(-1)?.record.sequenceNumber;
    const { rows } = dedupeBatch(
      run.flatMap((decoded) => ('readings' in decoded ? [{ stream: decoded.kind, readings: decoded.readings }] : [])),
    );
    const letters = run.flatMap((decoded) => deadLetterOf(this.key, decoded));
    let skipped: ReadingsByKind<number> = { meter: [], vehicle: [] };
    try {
      await db.transaction().execute(async (trx) => {
        const held = await advanceCheckpoint(
          trx,
          this.lease,
          this.deps.consumerId,
          { checkpoint, finished: finish },
          this.deps.leaseDurationMs,
        );
        if (!held) throw new LeaseLostError();
        if (rows.meter.length + rows.vehicle.length > 0) skipped = await writeBatch(trx, rows);
        await insertDeadLetters(trx, letters);
        const childShards = children.map((child) => ({
          shardId: child.ShardId!,
          parentShardIds: child.ParentShards ?? [],
        }));
        await registerShards(trx, this.key.streamName, childShards);
        await hooks?.beforeCommit?.(this.key);
      });
    } catch (error) {
      throw error instanceof LeaseLostError ? error : new DatabaseFailure(error);
    }
    if (checkpoint !== undefined) this.checkpointValue = checkpoint;
    hooks?.afterCommit?.(this.key, checkpoint, finish);
    metrics.committed(this.key.streamName, tally(run, letters, rows.meter.length + rows.vehicle.length, skipped));
  }
}

/** Seams for tests, around each commit of a shard. */
export interface CommitHooks {
  /** Inside a commit's transaction, after the readings are written, before it commits. */
  beforeCommit?(shard: ShardKey): Promise<void> | void;
  /** After a commit, with the checkpoint it moved to (undefined: a closed shard's end without records). */
  afterCommit?(shard: ShardKey, checkpoint: string | undefined, finished: boolean): void;
}

/** What the commits of every shard share: the consumer's settings and where they report. */
export interface CommitDeps {
  db: Db;
  /** The lease owner the fenced checkpoint update checks. */
  consumerId: string;
  leaseDurationMs: number;
  /** Readings per transaction at most: a larger read is committed in several runs. */
  maxReadingsPerCommit: number;
  hooks?: CommitHooks | undefined;
  metrics: Pick<ConsumerMetrics, 'committed'>;
}

/** The commit found the lease in other hands: rolled back; the shard is no longer read here. */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

/** A commit failed in the database (not a lost lease): retried from the checkpoint. */
export class DatabaseFailure extends Error {
  override name = 'DatabaseFailure';
  constructor(cause: unknown) {
    super('committing a stream batch failed', { cause });
  }
}

/** A refused record as its dead letter (none for a record whose readings are stored). */
function deadLetterOf(key: ShardKey, decoded: DecodedRecord): DeadLetter[] {
  if (!('refused' in decoded)) return [];
  return [
    {
      ...key,
      sequenceNumber: decoded.record.sequenceNumber,
      partitionKey: decoded.record.partitionKey,
      arrivedAt: decoded.record.arrivedAt,
      reason: decoded.refused.reason,
      details: decoded.refused.details,
      payload: Buffer.from(decoded.record.data),
    },
  ];
}

/** `written`: readings sent to the database after the batch's own dedup; `skipped`: of those, the ones it had. */
function tally(
  run: readonly DecodedRecord[],
  letters: readonly DeadLetter[],
  written: number,
  skipped: ReadingsByKind<number>,
): CommitTally {
  const total = run.reduce((n, decoded) => n + ('readings' in decoded ? decoded.readings.length : 0), 0);
  const duplicates = total - written + skipped.meter.length + skipped.vehicle.length;
  return {
    stored: run.length - letters.length,
    deadLetters: letters.map((letter) => letter.reason),
    accepted: total - duplicates,
    duplicates,
    rejected: run.reduce((n, decoded) => n + ('refused' in decoded ? decoded.refused.readings : 0), 0),
  };
}
