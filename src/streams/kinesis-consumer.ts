import { hostname } from 'node:os';

import type { KinesisClient } from '@aws-sdk/client-kinesis';

import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { StreamMetrics } from '../metrics/metrics.js';
import type { ReadingKind } from '../telemetry/reading.js';
import { SECOND_MS } from '../time.js';
import { ConsumerMetrics } from './consumer-metrics.js';
import { listShards } from './kinesis-client.js';
import { planLeases, shardKeyOf } from './lease-plan.js';
import { ShardCommit, type CommitDeps, type CommitHooks } from './shard-commit.js';
import {
  listLeases,
  registerShards,
  releaseLease,
  renewLeases,
  takeLease,
  type LeaseRow,
  type ShardKey,
} from './shard-lease.repository.js';
import { ShardReader } from './shard-reader.js';
import { recordDecoder, type DecodedRecord, type RecordRules, type StreamRecord } from './stream-records.js';

export interface ConsumedStream {
  name: string;
  kind: ReadingKind;
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

/** Seams for tests: both sit around a shard's commit (shard-commit.ts). */
export type ConsumerHooks = CommitHooks;

export type ConsumerState = 'idle' | 'running' | 'stopping' | 'stopped';

/** A consumer id unique to this process: host, pid and a random suffix. */
export function defaultConsumerId(): string {
  return `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

const DEFAULT_SHARD_SYNC_INTERVAL_MS = 60 * SECOND_MS;

/**
 * Consumes Kinesis streams into the telemetry tables, exactly once in effect (each shard's
 * commits: shard-commit.ts). This class is the balancer: it holds the leases and a reader
 * per leased shard (shard-reader.ts).
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
 */
export class KinesisConsumer {
  private stateValue: ConsumerState = 'idle';
  private readonly readers = new Map<string, ShardReader>();
  private readonly kinds: Map<string, ReadingKind>;
  private timer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  private round: Promise<void> | undefined;
  private lastShardSync = -Infinity;
  private readonly decoders = new Map<ReadingKind, (record: StreamRecord) => DecodedRecord>();
  private readonly metrics: ConsumerMetrics;
  /** What every shard's commits share. */
  private readonly commits: CommitDeps;

  constructor(
    private readonly db: Db,
    private readonly kinesis: KinesisClient,
    private readonly options: ConsumerOptions,
    metrics: StreamMetrics,
    private readonly logger: Logger,
  ) {
    this.kinds = new Map(options.streams.map((stream) => [stream.name, stream.kind]));
    for (const kind of ['meter', 'vehicle'] as const) this.decoders.set(kind, recordDecoder(kind, options.rules));
    this.metrics = new ConsumerMetrics(metrics);
    this.commits = {
      db,
      consumerId: options.consumerId,
      leaseDurationMs: options.leaseDurationMs,
      maxReadingsPerCommit: options.maxReadingsPerCommit,
      hooks: options.hooks,
      metrics: this.metrics,
    };
  }

  get id(): string {
    return this.options.consumerId;
  }

  get state(): ConsumerState {
    return this.stateValue;
  }

  /** The shards this consumer is reading now. */
  get heldShards(): ShardKey[] {
    return [...this.readers.values()].filter((r) => r.state === 'reading').map((r) => r.key);
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
      if (reader.state !== 'stopped') continue;
      try {
        if (await releaseLease(this.db, reader.lease, this.id)) this.metrics.leaseChanged(reader.key, 'released');
      } catch (error) {
        // It expires by itself within the lease duration.
        this.logger.warn('releasing a lease failed', { ...reader.key, err: error });
      }
      this.metrics.forget(reader.key);
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
      if (reader.state !== 'reading') this.readers.delete(key);
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
    this.metrics.leaseChanged(row, change);
    this.logger.info(`shard lease ${change}`, {
      ...(steal ? { from: row.owner } : {}),
      streamName: row.streamName,
      shardId: row.shardId,
      counter: taken.counter,
      checkpoint: taken.checkpoint,
    });
    const kind = this.kinds.get(row.streamName)!;
    const reader = new ShardReader(new ShardCommit(taken, this.commits), {
      kinesis: this.kinesis,
      maxRecords: this.options.maxRecords,
      pollIntervalMs: this.options.pollIntervalMs,
      // A child of a split or merge starts at its beginning whatever KINESIS_INITIAL_POSITION
      // says: LATEST would skip what was put on it while its parents were being finished.
      initialPosition: row.parentShardIds.length > 0 ? 'TRIM_HORIZON' : this.options.initialPosition,
      decode: this.decoders.get(kind)!,
      metrics: this.metrics,
      logger: this.logger,
    });
    this.readers.set(shardKeyOf(row), reader);
    reader.start();
  }

  /** Registers the shards of every stream; false if a stream could not be listed. */
  private async syncShards(): Promise<boolean> {
    let complete = true;
    for (const stream of this.options.streams) {
      try {
        await registerShards(this.db, stream.name, await listShards(this.kinesis, stream.name));
      } catch (error) {
        complete = false;
        this.metrics.failed(stream.name, 'kinesis');
        this.logger.warn('listing the shards of a stream failed', { streamName: stream.name, err: error });
      }
    }
    return complete;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.round = this.balance()
        .catch((error: unknown) => {
          this.metrics.failed('', 'database');
          this.logger.warn('lease round failed', { err: error });
        })
        .finally(() => {
          this.round = undefined;
          if (this.stateValue === 'running') this.schedule(this.options.leaseDurationMs / 3);
        });
    }, delayMs);
  }
}
