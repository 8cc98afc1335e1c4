import type { StreamMetrics } from '../metrics/metrics.js';
import type { KinesisFailure } from './kinesis-client.js';
import type { ShardKey } from './shard-lease.repository.js';
import type { DeadLetterReason } from './stream.table.js';

export type LeaseChange = 'taken' | 'stolen' | 'lost' | 'released' | 'finished';

/** Why a Kinesis call, a round or a commit failed (the `kind` label of the errors counter). */
export type ConsumerFailure = Exclude<KinesisFailure, 'other'> | 'kinesis' | 'database';

/** What one committed run held, counted. */
export interface CommitTally {
  /** Records stored (their readings written or found already there). */
  stored: number;
  /** The reason of each record dead-lettered. */
  deadLetters: DeadLetterReason[];
  /** Readings new to the database. */
  accepted: number;
  /** Readings stored already (repeated on the stream, or read again after a crash). */
  duplicates: number;
  /** Readings of the dead-lettered records. */
  rejected: number;
}

/**
 * The consumer's metrics, said as what happened (a lease changed hands, a shard's lag, a
 * failure, a commit) instead of which counter moves: the balancer, the shard readers and the
 * commits each report through the few methods they are given.
 */
export class ConsumerMetrics {
  constructor(private readonly metrics: StreamMetrics) {}

  leaseChanged(key: ShardKey, change: LeaseChange): void {
    this.metrics.leaseChanges.inc({ stream_name: key.streamName, change });
  }

  /** How far the shard's reader is behind the stream's tip, as the last read said. */
  behind(key: ShardKey, millis: number): void {
    this.metrics.millisBehindLatest.set(labels(key), millis);
  }

  /** The shard is no longer read here: its lag is another consumer's to report, or none. */
  forget(key: ShardKey): void {
    this.metrics.millisBehindLatest.remove(labels(key));
  }

  /** `streamName` is '' for a failure of no one stream (a balancing round). */
  failed(streamName: string, kind: ConsumerFailure): void {
    this.metrics.errors.inc({ stream_name: streamName, kind });
  }

  committed(streamName: string, tally: CommitTally): void {
    const { records, readings, deadLetters } = this.metrics;
    records.inc({ stream_name: streamName, outcome: 'stored' }, tally.stored);
    records.inc({ stream_name: streamName, outcome: 'dead_lettered' }, tally.deadLetters.length);
    readings.inc({ stream_name: streamName, outcome: 'accepted' }, tally.accepted);
    readings.inc({ stream_name: streamName, outcome: 'duplicate' }, tally.duplicates);
    readings.inc({ stream_name: streamName, outcome: 'rejected' }, tally.rejected);
    for (const reason of tally.deadLetters) deadLetters.inc({ stream_name: streamName, reason });
  }
}

const labels = (key: ShardKey) => ({ stream_name: key.streamName, shard_id: key.shardId });
