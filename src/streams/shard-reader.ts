import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type ChildShard,
  type KinesisClient,
  type _Record,
} from '@aws-sdk/client-kinesis';

import type { Logger } from '../logger.js';
import { SECOND_MS } from '../time.js';
import type { ConsumerMetrics } from './consumer-metrics.js';
import { classifyKinesisError } from './kinesis-client.js';
import { DatabaseFailure, LeaseLostError, type ShardCommit } from './shard-commit.js';
import type { ShardKey, TakenLease } from './shard-lease.repository.js';
import type { DecodedRecord, StreamRecord } from './stream-records.js';

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 10 * SECOND_MS;

export type ReaderState = 'reading' | 'finished' | 'lost' | 'stopped';

/** What a reader needs of its shard's commits (shard-commit.ts). */
export type ShardCommits = Pick<ShardCommit, 'lease' | 'checkpoint' | 'commitRead'>;

export interface ShardReaderDeps {
  kinesis: KinesisClient;
  /** Records per GetRecords at most. */
  maxRecords: number;
  /** The pause after a read that found nothing new. */
  pollIntervalMs: number;
  /** Where a shard without a checkpoint starts. */
  initialPosition: 'TRIM_HORIZON' | 'LATEST';
  decode: (record: StreamRecord) => DecodedRecord;
  metrics: Pick<ConsumerMetrics, 'leaseChanged' | 'behind' | 'forget' | 'failed'>;
  logger: Logger;
}

/**
 * Reads one leased shard: GetRecords from the checkpoint, each read committed with its
 * checkpoint (shard-commit.ts). States:
 *
 *   reading --the shard's final read committed--> finished
 *           --the balancer could not renew the lease, or a commit met the fence--> lost
 *           --the consumer stops (a commit under way finishes first)--> stopped
 *
 * - reading: an iterator that expires, or any failure to read or commit, restarts from the
 *   last committed checkpoint; throttling (with the same iterator) and failures back off.
 * - finished and lost end the read at once; the balancer drops the reader at its next round.
 * - stopped: the consumer releases the lease for the others.
 */
export class ShardReader {
  private stateValue: ReaderState = 'reading';
  private readonly abort = new AbortController();
  private done: Promise<void> = Promise.resolve();
  private backoffMs = 0;
  readonly key: ShardKey;

  constructor(
    private readonly commits: ShardCommits,
    private readonly deps: ShardReaderDeps,
  ) {
    this.key = { streamName: commits.lease.streamName, shardId: commits.lease.shardId };
  }

  get state(): ReaderState {
    return this.stateValue;
  }

  /** The lease the reader holds, with the counter it was taken with. */
  get lease(): TakenLease {
    return this.commits.lease;
  }

  start(): void {
    this.done = this.run();
  }

  /** Stops reading; a commit under way finishes (or fails) first. */
  async stop(): Promise<void> {
    if (this.stateValue === 'reading') this.stateValue = 'stopped';
    this.abort.abort();
    await this.done;
  }

  /** The lease is gone: stop at once (a commit under way fails at the fence). */
  lose(): void {
    if (this.stateValue !== 'reading') return;
    this.stateValue = 'lost';
    this.deps.metrics.leaseChanged(this.key, 'lost');
    this.deps.logger.info('shard lease lost', { ...this.key, counter: this.lease.counter });
    this.abort.abort();
    this.deps.metrics.forget(this.key);
  }

  private async run(): Promise<void> {
    const { kinesis, maxRecords, pollIntervalMs, metrics, logger } = this.deps;
    let iterator: string | undefined;
    while (this.stateValue === 'reading') {
      try {
        iterator ??= await this.iterator();
        const result = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: maxRecords }), {
          abortSignal: this.abort.signal,
        });
        if (this.stateValue !== 'reading') return;
        if (result.MillisBehindLatest !== undefined) metrics.behind(this.key, result.MillisBehindLatest);
        const records = result.Records ?? [];
        const ended = !result.NextShardIterator;
        if (records.length > 0 || ended) await this.commit(records, ended, result.ChildShards ?? []);
        this.backoffMs = 0;
        if (ended) {
          this.stateValue = 'finished';
          metrics.leaseChanged(this.key, 'finished');
          metrics.forget(this.key);
          logger.info('shard read to its end', { ...this.key, children: result.ChildShards?.map((c) => c.ShardId) });
          return;
        }
        iterator = result.NextShardIterator;
        if (records.length === 0) await this.sleep(pollIntervalMs);
      } catch (error) {
        if (this.stateValue !== 'reading') return;
        if (error instanceof LeaseLostError) {
          this.lose();
          return;
        }
        const failure = classifyKinesisError(error);
        const kind = error instanceof DatabaseFailure ? 'database' : failure === 'other' ? 'kinesis' : failure;
        metrics.failed(this.key.streamName, kind);
        if (failure === 'expired_iterator') {
          iterator = undefined;
          continue;
        }
        // Throttled: the same iterator, later. Anything else: from the checkpoint, later
        // (the iterator may be unusable, e.g. after an emulator restart).
        if (failure !== 'throttled') iterator = undefined;
        this.backoffMs = Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, this.backoffMs * 2));
        logger.warn('reading a shard failed; retrying', {
          ...this.key,
          kind,
          retryInMs: this.backoffMs,
          err: error instanceof DatabaseFailure ? error.cause : error,
        });
        await this.sleep(this.backoffMs * (0.5 + Math.random() / 2));
      }
    }
  }

  private async iterator(): Promise<string> {
    const checkpoint = this.commits.checkpoint;
    const position =
      checkpoint !== null
        ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const, StartingSequenceNumber: checkpoint }
        : { ShardIteratorType: this.deps.initialPosition };
    const result = await this.deps.kinesis.send(
      new GetShardIteratorCommand({ StreamName: this.key.streamName, ShardId: this.key.shardId, ...position }),
      { abortSignal: this.abort.signal },
    );
    if (!result.ShardIterator) throw new Error('GetShardIterator returned no iterator');
    return result.ShardIterator;
  }

  /** Decodes a read (the SDK's records) and commits it. */
  private async commit(records: _Record[], ended: boolean, children: ChildShard[]): Promise<void> {
    const decoded = records.map((record) =>
      this.deps.decode({
        sequenceNumber: record.SequenceNumber!,
        partitionKey: record.PartitionKey ?? '',
        arrivedAt: record.ApproximateArrivalTimestamp ?? null,
        data: record.Data ?? new Uint8Array(),
      }),
    );
    await this.commits.commitRead(decoded, ended, children);
  }

  private sleep(ms: number): Promise<void> {
    const signal = this.abort.signal;
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
