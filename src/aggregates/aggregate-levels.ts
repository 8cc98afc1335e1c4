import type { ReadingKind } from '../telemetry/reading.js';
import { HOUR_MS, QUARTER_HOUR_MS } from '../time.js';

/** The levels of continuous aggregates over each stream's raw history, coarsest first. */
export const AGGREGATE_LEVELS = ['hourly', 'quarter'] as const;
export type AggregateLevel = (typeof AGGREGATE_LEVELS)[number];

export const AGGREGATE_VIEWS = {
  hourly: { meter: 'meter_telemetry_hourly', vehicle: 'vehicle_telemetry_hourly' },
  quarter: { meter: 'meter_telemetry_15m', vehicle: 'vehicle_telemetry_15m' },
} as const satisfies Record<AggregateLevel, Record<ReadingKind, string>>;

export type AggregateView = (typeof AGGREGATE_VIEWS)[AggregateLevel][ReadingKind];

export const BUCKET_MS: Record<AggregateLevel, number> = { hourly: HOUR_MS, quarter: QUARTER_HOUR_MS };

/** Every continuous aggregate, finest first (the order a full refresh should take). */
export const ALL_AGGREGATE_VIEWS: readonly AggregateView[] = [
  AGGREGATE_VIEWS.quarter.meter,
  AGGREGATE_VIEWS.quarter.vehicle,
  AGGREGATE_VIEWS.hourly.meter,
  AGGREGATE_VIEWS.hourly.vehicle,
];
