import { hostname } from 'node:os';

import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  type ChildShard,
  type KinesisClient,
  type _Record,
} from '@aws-sdk/client-kinesis';

import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { StreamMetrics } from '../metrics/metrics.js';
import { dedupeBatch, writeBatch } from '../telemetry/batch-writer.js';
import type { ReadingsByStream, Stream } from '../telemetry/reading.js';
import { SECOND_MS } from '../time.js';
import { insertDeadLetters, type DeadLetter } from './dead-letter.repository.js';
import { classifyKinesisError } from './kinesis-client.js';
import { planLeases, shardKeyOf } from './lease-plan.js';
import {
  advanceCheckpoint,
  listLeases,
  registerShards,
  releaseLease,
  renewLeases,
  takeLease,
  type HeldLease,
  type LeaseRow,
  type ShardKey,
} from './shard-lease.repository.js';
import {
  commitRuns,
  recordDecoder,
  type DecodedRecord,
  type RecordRules,
  type StreamRecord,
} from './stream-records.js';

export interface ConsumedStream {
  name: string;
  kind: Stream;
}

export interface ConsumerOptions {
  streams: readonly ConsumedStream[];
  /** Unique per running consumer: it names the lease owner. */
  consumerId: string;
  leaseDurationMs: number;
  pollIntervalMs: number;
  maxRecords: number;
  initialPosition: 'TRIM_HORIZON' | 'LATEST';
  rules: RecordRules;
  /** Readings per transaction at most: a larger read is committed in several runs. */
  maxReadingsPerCommit: number;
  /** How often the shard list is read again (new streams' shards; children also come with their parent's end). */
  shardSyncIntervalMs?: number;
  hooks?: ConsumerHooks;
  /** Destroy the Kinesis client (its keep-alive sockets) on stop: the consumer created it. */
  ownsClient?: boolean;
}

/** Seams for tests. */
export interface ConsumerHooks {
  /** Inside a commit's transaction, after the readings are written, before it commits. */
  beforeCommit?(shard: ShardKey): Promise<void> | void;
  /** After a commit, with the checkpoint it moved to (undefined: a closed shard's end without records). */
  afterCommit?(shard: ShardKey, checkpoint: string | undefined, finished: boolean): void;
}

export type ConsumerState = 'idle' | 'running' | 'stopping' | 'stopped';

/** A consumer id unique to this process: host, pid and a random suffix. */
export function defaultConsumerId(): string {
  return `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

const DEFAULT_SHARD_SYNC_INTERVAL_MS = 60 * SECOND_MS;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 10 * SECOND_MS;

/** The commit found the lease in other hands: roll back, stop reading the shard. */
class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

/**
 * Consumes Kinesis streams into the telemetry tables, exactly once in effect.
 *
 * States:
 * - idle: constructed, nothing held;
 * - running: every lease period / 3 a round syncs the shard list (now and then), renews the
 *   leases held, drops the ones lost, and takes or steals leases towards a fair share
 *   (lease-plan.ts); each held shard has a reader that polls GetRecords from its checkpoint
 *   and commits what it read;
 * - stopping (`stop`): no new rounds or reads; each reader finishes the batch it is
 *   committing, then the leases still held are released for the other consumers;
 * - stopped.
 *
 * Exactly once in effect: a batch of records, the dead letters among them and the checkpoint
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
export class KinesisConsumer {
  private stateValue: ConsumerState = 'idle';
  private readonly readers = new Map<string, ShardReader>();
  private readonly kinds: Map<string, Stream>;
  private timer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  private round: Promise<void> | undefined;
  private lastShardSync = -Infinity;
  private readonly decoders = new Map<Stream, (record: StreamRecord) => DecodedRecord>();

  constructor(
    private readonly db: Db,
    private readonly kinesis: KinesisClient,
    private readonly options: ConsumerOptions,
    private readonly metrics: StreamMetrics,
    private readonly logger: Logger,
  ) {
    this.kinds = new Map(options.streams.map((stream) => [stream.name, stream.kind]));
    for (const kind of ['meter', 'vehicle'] as const) this.decoders.set(kind, recordDecoder(kind, options.rules));
  }

  get id(): string {
    return this.options.consumerId;
  }

  get state(): ConsumerState {
    return this.stateValue;
  }

  /** The shards this consumer is reading now. */
  get heldShards(): ShardKey[] {
    return [...this.readers.values()].filter((r) => r.outcome === 'reading').map((r) => r.key);
  }

  start(): void {
    if (this.stateValue !== 'idle') return;
    this.stateValue = 'running';
    this.logger.info('stream consumer started', {
      consumerId: this.id,
      streams: this.options.streams.map((s) => s.name),
    });
    this.schedule(0);
  }

  /** Finishes the batches being committed, releases the leases, and resolves when stopped. */
  stop(): Promise<void> {
    return (this.stopping ??= this.shutDown());
  }

  private async shutDown(): Promise<void> {
    const wasRunning = this.stateValue === 'running';
    this.stateValue = 'stopping';
    if (this.timer) clearTimeout(this.timer);
    await this.round;
    const readers = [...this.readers.values()];
    await Promise.all(readers.map((reader) => reader.stop()));
    for (const reader of readers) {
      if (reader.outcome !== 'stopped') continue;
      try {
        if (await releaseLease(this.db, reader.lease, this.id)) this.leaseChange(reader.key, 'released');
      } catch (error) {
        // It expires by itself within the lease duration.
        this.logger.warn('releasing a lease failed', { ...reader.key, err: error });
      }
      this.metrics.millisBehindLatest.remove({ stream_name: reader.key.streamName, shard_id: reader.key.shardId });
    }
    this.readers.clear();
    if (this.options.ownsClient) this.kinesis.destroy();
    this.stateValue = 'stopped';
    if (wasRunning) this.logger.info('stream consumer stopped', { consumerId: this.id });
  }

  /** One balancing round now (tests; otherwise every lease period / 3). */
  async balance(): Promise<void> {
    if (this.stateValue !== 'running') return;
    const intervalMs = this.options.shardSyncIntervalMs ?? DEFAULT_SHARD_SYNC_INTERVAL_MS;
    if (performance.now() - this.lastShardSync >= intervalMs) {
      if (await this.syncShards()) this.lastShardSync = performance.now();
    }
    for (const [key, reader] of this.readers) {
      if (reader.outcome !== 'reading') this.readers.delete(key);
    }
    const held = [...this.readers.values()];
    const renewed = new Set(
      (
        await renewLeases(
          this.db,
          this.id,
          held.map((reader) => reader.lease),
          this.options.leaseDurationMs,
        )
      ).map(shardKeyOf),
    );
    for (const reader of held) {
      if (renewed.has(shardKeyOf(reader.key))) continue;
      // Taken by another consumer (or finished meanwhile by this one's reader).
      reader.lose();
      this.readers.delete(shardKeyOf(reader.key));
    }
    if (this.stateValue !== 'running') return;
    const rows = await listLeases(
      this.db,
      this.options.streams.map((s) => s.name),
    );
    const plan = planLeases(rows, this.id, new Set(this.readers.keys()));
    for (const row of plan.take) await this.acquire(row, row.live && row.owner !== null);
    if (plan.steal) await this.acquire(plan.steal, true);
  }

  private async acquire(row: LeaseRow, steal: boolean): Promise<void> {
    if (this.stateValue !== 'running') return;
    const taken = await takeLease(this.db, row, this.id, row.counter, this.options.leaseDurationMs, steal);
    if (!taken) return; // another consumer was faster
    const change = steal && row.owner !== this.id ? 'stolen' : 'taken';
    this.leaseChange(row, change);
    this.logger.info(`shard lease ${change}`, {
      ...(steal ? { from: row.owner } : {}),
      streamName: row.streamName,
      shardId: row.shardId,
      counter: taken.counter,
      checkpoint: taken.checkpoint,
    });
    const kind = this.kinds.get(row.streamName)!;
    // A child of a split or merge starts at its beginning whatever KINESIS_INITIAL_POSITION
    // says: LATEST would skip what was put on it while its parents were being finished.
    const start = row.parentShardIds.length > 0 ? 'TRIM_HORIZON' : this.options.initialPosition;
    const reader = new ShardReader(taken, start, this.decoders.get(kind)!, this);
    this.readers.set(shardKeyOf(row), reader);
    reader.start();
  }

  /** Registers the shards of every stream; false if a stream could not be listed. */
  private async syncShards(): Promise<boolean> {
    let complete = true;
    for (const stream of this.options.streams) {
      try {
        const shards: { shardId: string; parentShardIds: string[] }[] = [];
        let nextToken: string | undefined;
        do {
          const page = await this.kinesis.send(
            new ListShardsCommand(nextToken ? { NextToken: nextToken } : { StreamName: stream.name }),
          );
          for (const shard of page.Shards ?? []) {
            shards.push({
              shardId: shard.ShardId!,
              parentShardIds: [shard.ParentShardId, shard.AdjacentParentShardId].filter((id) => id !== undefined),
            });
          }
          nextToken = page.NextToken;
        } while (nextToken);
        await registerShards(this.db, stream.name, shards);
      } catch (error) {
        complete = false;
        this.metrics.errors.inc({ stream_name: stream.name, kind: 'kinesis' });
        this.logger.warn('listing the shards of a stream failed', { streamName: stream.name, err: error });
      }
    }
    return complete;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.round = this.balance()
        .catch((error: unknown) => {
          this.metrics.errors.inc({ stream_name: '', kind: 'database' });
          this.logger.warn('lease round failed', { err: error });
        })
        .finally(() => {
          this.round = undefined;
          if (this.stateValue === 'running') this.schedule(this.options.leaseDurationMs / 3);
        });
    }, delayMs);
  }

  /** @internal for the readers */
  leaseChange(key: ShardKey, change: 'taken' | 'stolen' | 'lost' | 'released' | 'finished'): void {
    this.metrics.leaseChanges.inc({ stream_name: key.streamName, change });
  }

  /** @internal for the readers */
  get context() {
    return { db: this.db, kinesis: this.kinesis, options: this.options, metrics: this.metrics, logger: this.logger };
  }
}

/**
 * Reads one leased shard: GetRecords from the checkpoint, each read committed (in runs, see
 * `commitRuns`) with its checkpoint, until the shard ends (finished), the lease is lost or
 * the consumer stops. An iterator that expires, or any failure to read or commit, restarts
 * from the last committed checkpoint; throttling and failures back off.
 */
class ShardReader {
  outcome: 'reading' | 'finished' | 'lost' | 'stopped' = 'reading';
  private checkpoint: string | null;
  private readonly abort = new AbortController();
  private done: Promise<void> = Promise.resolve();
  private backoffMs = 0;
  readonly key: ShardKey;

  constructor(
    readonly lease: HeldLease & { checkpoint: string | null },
    private readonly initialPosition: 'TRIM_HORIZON' | 'LATEST',
    private readonly decode: (record: StreamRecord) => DecodedRecord,
    private readonly consumer: KinesisConsumer,
  ) {
    this.key = { streamName: lease.streamName, shardId: lease.shardId };
    this.checkpoint = lease.checkpoint;
  }

  start(): void {
    this.done = this.run();
  }

  /** Stops reading; a commit under way finishes (or fails) first. */
  async stop(): Promise<void> {
    if (this.outcome === 'reading') this.outcome = 'stopped';
    this.abort.abort();
    await this.done;
  }

  /** The lease is gone: stop at once (a commit under way fails at the fence). */
  lose(): void {
    if (this.outcome !== 'reading') return;
    this.outcome = 'lost';
    this.consumer.leaseChange(this.key, 'lost');
    this.consumer.context.logger.info('shard lease lost', { ...this.key, counter: this.lease.counter });
    this.abort.abort();
    this.consumer.context.metrics.millisBehindLatest.remove({
      stream_name: this.key.streamName,
      shard_id: this.key.shardId,
    });
  }

  private async run(): Promise<void> {
    const { kinesis, options, metrics, logger } = this.consumer.context;
    const labels = { stream_name: this.key.streamName, shard_id: this.key.shardId };
    let iterator: string | undefined;
    while (this.outcome === 'reading') {
      try {
        iterator ??= await this.iterator();
        const result = await kinesis.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: options.maxRecords }),
          {
            abortSignal: this.abort.signal,
          },
        );
        if (this.outcome !== 'reading') return;
        if (result.MillisBehindLatest !== undefined) metrics.millisBehindLatest.set(labels, result.MillisBehindLatest);
        const records = result.Records ?? [];
        const ended = !result.NextShardIterator;
        if (records.length > 0 || ended) await this.commit(records, ended, result.ChildShards ?? []);
        this.backoffMs = 0;
        if (ended) {
          this.outcome = 'finished';
          this.consumer.leaseChange(this.key, 'finished');
          metrics.millisBehindLatest.remove(labels);
          logger.info('shard read to its end', { ...this.key, children: result.ChildShards?.map((c) => c.ShardId) });
          return;
        }
        iterator = result.NextShardIterator;
        if (records.length === 0) await this.sleep(options.pollIntervalMs);
      } catch (error) {
        if (this.outcome !== 'reading') return;
        if (error instanceof LeaseLostError) {
          this.lose();
          return;
        }
        const failure = classifyKinesisError(error);
        const kind = error instanceof DatabaseFailure ? 'database' : failure === 'other' ? 'kinesis' : failure;
        metrics.errors.inc({ stream_name: this.key.streamName, kind });
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
    const { kinesis } = this.consumer.context;
    const position =
      this.checkpoint !== null
        ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const, StartingSequenceNumber: this.checkpoint }
        : { ShardIteratorType: this.initialPosition };
    const result = await kinesis.send(
      new GetShardIteratorCommand({ StreamName: this.key.streamName, ShardId: this.key.shardId, ...position }),
      { abortSignal: this.abort.signal },
    );
    if (!result.ShardIterator) throw new Error('GetShardIterator returned no iterator');
    return result.ShardIterator;
  }

  /** Commits a read in runs; the last run of a shard's final read also finishes the shard. */
  private async commit(records: _Record[], ended: boolean, children: ChildShard[]): Promise<void> {
    const decoded = records.map((record) =>
      this.decode({
        sequenceNumber: record.SequenceNumber!,
        partitionKey: record.PartitionKey ?? '',
        arrivedAt: record.ApproximateArrivalTimestamp ?? null,
        data: record.Data ?? new Uint8Array(),
      }),
    );
    const runs = commitRuns(decoded, this.consumer.context.options.maxReadingsPerCommit);
    if (runs.length === 0) runs.push([]);
    for (const [index, run] of runs.entries()) {
      const last = index === runs.length - 1;
      await this.commitRun(run, ended && last, last ? children : []);
    }
  }

  private async commitRun(run: DecodedRecord[], finish: boolean, children: ChildShard[]): Promise<void> {
    const { db, options, metrics } = this.consumer.context;
    const checkpoint = run.at(-1)?.record.sequenceNumber;
    const { rows } = dedupeBatch(
      run.flatMap((decoded) => ('readings' in decoded ? [{ stream: decoded.kind, readings: decoded.readings }] : [])),
    );
    const letters: DeadLetter[] = run.flatMap((decoded) =>
      'refused' in decoded
        ? [
            {
              ...this.key,
              sequenceNumber: decoded.record.sequenceNumber,
              partitionKey: decoded.record.partitionKey,
              arrivedAt: decoded.record.arrivedAt,
              reason: decoded.refused.reason,
              details: decoded.refused.details,
              payload: Buffer.from(decoded.record.data),
            },
          ]
        : [],
    );
    let skipped: ReadingsByStream<number> = { meter: [], vehicle: [] };
    try {
      await db.transaction().execute(async (trx) => {
        const held = await advanceCheckpoint(
          trx,
          this.lease,
          this.consumer.id,
          { checkpoint, finished: finish },
          options.leaseDurationMs,
        );
        if (!held) throw new LeaseLostError();
        if (rows.meter.length + rows.vehicle.length > 0) skipped = await writeBatch(trx, rows);
        await insertDeadLetters(trx, letters);
        const childShards = children.map((child) => ({
          shardId: child.ShardId!,
          parentShardIds: child.ParentShards ?? [],
        }));
        await registerShards(trx, this.key.streamName, childShards);
        await options.hooks?.beforeCommit?.(this.key);
      });
    } catch (error) {
      throw error instanceof LeaseLostError ? error : new DatabaseFailure(error);
    }
    if (checkpoint !== undefined) this.checkpoint = checkpoint;
    options.hooks?.afterCommit?.(this.key, checkpoint, finish);

    const name = this.key.streamName;
    const total = run.reduce((n, decoded) => n + ('readings' in decoded ? decoded.readings.length : 0), 0);
    const written = rows.meter.length + rows.vehicle.length;
    const duplicates = total - written + skipped.meter.length + skipped.vehicle.length;
    const rejected = run.reduce((n, decoded) => n + ('refused' in decoded ? decoded.refused.readings : 0), 0);
    metrics.records.inc({ stream_name: name, outcome: 'stored' }, run.length - letters.length);
    metrics.records.inc({ stream_name: name, outcome: 'dead_lettered' }, letters.length);
    metrics.readings.inc({ stream_name: name, outcome: 'accepted' }, total - duplicates);
    metrics.readings.inc({ stream_name: name, outcome: 'duplicate' }, duplicates);
    metrics.readings.inc({ stream_name: name, outcome: 'rejected' }, rejected);
    for (const letter of letters) metrics.deadLetters.inc({ stream_name: name, reason: letter.reason });
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

/** A commit failed in the database (not a lost lease): retried from the checkpoint. */
class DatabaseFailure extends Error {
  override name = 'DatabaseFailure';
  constructor(cause: unknown) {
    super('committing a stream batch failed', { cause });
  }
}
