import type { Db } from '../db/database.js';
import { AGGREGATE_VIEWS, getMaterializedSpans } from '../telemetry/aggregates.repository.js';
import type { Materialized } from './analytics-window.js';

/** Refresh policies run every 5 minutes; a few seconds of staleness costs nothing. */
const MAX_AGE_MS = 5_000;

/**
 * Where the aggregates are materialized, per level (the narrower span of the two streams),
 * cached briefly so analytics requests do not each pay catalog queries. A stale value is
 * never wrong: watermarks only move forward and the span keeps its materialized buckets
 * (retention only drops buckets far older than any raw reading), so a stale span is at
 * most narrower than the truth and its rows are read raw.
 */
export class AggregateWatermarks {
  private cached: { at: number; value: Promise<Materialized> } | undefined;

  constructor(private readonly db: Db) {}

  get(): Promise<Materialized> {
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

  private async load(): Promise<Materialized> {
    const spans = await getMaterializedSpans(this.db);
    const span = (index: number) => {
      const meter = spans.get(AGGREGATE_VIEWS.meter[index]!) ?? { from: Infinity, until: -Infinity };
      const vehicle = spans.get(AGGREGATE_VIEWS.vehicle[index]!) ?? { from: Infinity, until: -Infinity };
      return { from: Math.max(meter.from, vehicle.from), until: Math.min(meter.until, vehicle.until) };
    };
    // AGGREGATE_VIEWS lists the finest first: [15m, hourly].
    return { quarter: span(0), hourly: span(1) };
  }
}
