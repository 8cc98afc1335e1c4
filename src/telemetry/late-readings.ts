import { HOUR_MS } from '../analytics/analytics-window.js';
import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import { AGGREGATE_VIEWS, getWatermarkMs, refreshAggregate } from './aggregates.repository.js';
import type { Stream } from './reading.js';

/**
 * Readings newer than this can never fall below an aggregate's watermark: the refresh
 * policies stop one hour (end_offset) before now, and the coarsest bucket is one hour.
 */
const ALWAYS_REAL_TIME_MS = HOUR_MS;

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

interface PendingRefresh {
  from: number;
  to: number;
  waiters: Waiter[];
}

/**
 * Keeps the continuous aggregates (hourly and quarter-hour) exact when readings arrive late. A continuous aggregate
 * serves materialized buckets below its watermark without looking at raw rows, so a late
 * reading for an already materialized hour would stay invisible until a policy refresh
 * covered that hour again (never, if it is older than the policy's start_offset).
 *
 * After a batch commits, the hours that received late readings are re-materialized before
 * the batch is acknowledged, so an acknowledged reading is always in the analytics.
 * Ranges noted while a refresh runs are merged into the next one (one refresh serves many
 * batches); live readings, newer than an hour, skip all of this.
 */
export class LateReadingRefresher {
  private readonly pending = new Map<Stream, PendingRefresh>();
  private running: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
  ) {}

  /** Resolves once every late reading among these timestamps is visible in the aggregate. */
  refreshFor(stream: Stream, timestamps: Iterable<Date>): Promise<void> {
    const threshold = Date.now() - ALWAYS_REAL_TIME_MS;
    let oldest = Infinity;
    let newest = -Infinity;
    for (const ts of timestamps) {
      const ms = ts.getTime();
      if (ms >= threshold) continue;
      if (ms < oldest) oldest = ms;
      if (ms > newest) newest = ms;
    }
    if (oldest === Infinity) return Promise.resolve();

    const from = Math.floor(oldest / HOUR_MS) * HOUR_MS;
    const to = (Math.floor(newest / HOUR_MS) + 1) * HOUR_MS;
    return new Promise<void>((resolve, reject) => {
      const current = this.pending.get(stream);
      if (current) {
        current.from = Math.min(current.from, from);
        current.to = Math.max(current.to, to);
        current.waiters.push({ resolve, reject });
      } else {
        this.pending.set(stream, { from, to, waiters: [{ resolve, reject }] });
      }
      this.kick();
    });
  }

  /**
   * Starts the refresh loop unless it runs. A range noted after the loop's last look at the
   * queue but before it finished is picked up by the restart in `finally`.
   */
  private kick(): void {
    if (this.running) return;
    this.running = this.run().finally(() => {
      this.running = undefined;
      if (this.pending.size > 0) this.kick();
    });
  }

  private async run(): Promise<void> {
    for (let next = this.takeNext(); next; next = this.takeNext()) {
      const [stream, { from, to, waiters }] = next;
      try {
        // Hours above the watermark are aggregated at query time already; refreshing them
        // would move the watermark past hours that are not materialized yet.
        for (const view of AGGREGATE_VIEWS[stream]) {
          const end = Math.min(to, await getWatermarkMs(this.db, view));
          if (from < end) await refreshAggregate(this.db, view, new Date(from), new Date(end));
        }
        for (const waiter of waiters) waiter.resolve();
      } catch (error) {
        this.logger.warn('refresh after late readings failed', {
          stream,
          from: new Date(from).toISOString(),
          to: new Date(to).toISOString(),
          err: error,
        });
        for (const waiter of waiters) waiter.reject(error);
      }
    }
  }

  private takeNext(): [Stream, PendingRefresh] | undefined {
    const next = this.pending.entries().next();
    if (next.done) return undefined;
    this.pending.delete(next.value[0]);
    return next.value;
  }
}
