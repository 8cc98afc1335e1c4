import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import { getWatermarkMs, refreshAggregate } from './aggregates.repository.js';
import type { Stream } from './reading.js';

import { HOUR_MS } from '../analytics/analytics-window.js';

/**
 * Readings newer than this can never fall below an aggregate's watermark: the refresh
 * policies stop one hour (end_offset) before now, and the bucket is one hour.
 */
const ALWAYS_REAL_TIME_MS = HOUR_MS;

/**
 * Keeps the hourly aggregates exact when readings arrive late. A continuous aggregate
 * serves materialized buckets below its watermark without looking at raw rows, so a late
 * reading for an already materialized hour would stay invisible until a policy refresh
 * covered that hour again (never, if it is older than the policy's start_offset).
 * After each committed batch we re-materialize the hours that received late readings,
 * off the request path, coalescing ranges while a refresh runs.
 */
export class LateReadingRefresher {
  private readonly ranges = new Map<Stream, { from: number; to: number }>();
  private running: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
  ) {}

  /** Records the time range of a committed batch; cheap, and a no-op for live readings. */
  noteStored(stream: Stream, timestamps: Iterable<Date>): void {
    const threshold = Date.now() - ALWAYS_REAL_TIME_MS;
    let from = Infinity;
    let to = -Infinity;
    for (const ts of timestamps) {
      const ms = ts.getTime();
      if (ms >= threshold) continue;
      if (ms < from) from = ms;
      if (ms > to) to = ms;
    }
    if (from === Infinity) return;
    const hourFrom = Math.floor(from / HOUR_MS) * HOUR_MS;
    const hourTo = (Math.floor(to / HOUR_MS) + 1) * HOUR_MS;
    const current = this.ranges.get(stream);
    this.ranges.set(stream, {
      from: Math.min(hourFrom, current?.from ?? hourFrom),
      to: Math.max(hourTo, current?.to ?? hourTo),
    });
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves when every noted range has been refreshed. */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  private async run(): Promise<void> {
    while (this.ranges.size > 0) {
      const [stream, range] = this.ranges.entries().next().value as [Stream, { from: number; to: number }];
      this.ranges.delete(stream);
      try {
        // Hours above the watermark are aggregated at query time already; refreshing them
        // would move the watermark over hours not yet materialized.
        const watermark = await getWatermarkMs(this.db, stream);
        const to = Math.min(range.to, watermark);
        if (range.from < to) await refreshAggregate(this.db, stream, new Date(range.from), new Date(to));
      } catch (error) {
        this.logger.warn('refresh after late readings failed; the policy refresh will cover it', {
          stream,
          from: new Date(range.from).toISOString(),
          to: new Date(range.to).toISOString(),
          err: error,
        });
      }
    }
  }
}
