import type { Db } from '../db/database.js';
import { AGGREGATE_VIEWS, getAllWatermarksMs } from '../telemetry/aggregates.repository.js';
import type { MaterializedUntil } from './analytics-window.js';

/** Refresh policies run every 5 minutes; a few seconds of staleness costs nothing. */
const MAX_AGE_MS = 5_000;

/**
 * How far the aggregates are materialized, per level (the lower of the two streams),
 * cached briefly so analytics requests do not each pay a catalog query. A stale value is
 * never wrong: watermarks only move forward, and below a stale one the aggregates are
 * just as materialized; the rows between it and the real one are read raw.
 */
export class AggregateWatermarks {
  private cached: { at: number; value: Promise<MaterializedUntil> } | undefined;

  constructor(private readonly db: Db) {}

  get(): Promise<MaterializedUntil> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > MAX_AGE_MS) {
      const value = this.load();
      // A failed lookup is not kept: the next request asks again.
      value.catch(() => {
        if (this.cached?.value === value) this.cached = undefined;
      });
      this.cached = { at: now, value };
    }
    return this.cached.value;
  }

  private async load(): Promise<MaterializedUntil> {
    const marks = await getAllWatermarksMs(this.db);
    const lowest = (index: number) =>
      Math.min(marks.get(AGGREGATE_VIEWS.meter[index]!) ?? -Infinity, marks.get(AGGREGATE_VIEWS.vehicle[index]!) ?? -Infinity);
    // AGGREGATE_VIEWS lists the finest first: [15m, hourly].
    return { quarter: lowest(0), hourly: lowest(1) };
  }
}
