import type { AggregateLevel } from '../aggregates/aggregate-levels.js';
import type { Db } from '../db/database.js';
import { AppError } from '../http/app-error.js';
import { vehicleWithoutMeter } from '../mapping/mapping.errors.js';
import { DAY_MS, HOUR_MS, QUARTER_HOUR_MS } from '../time.js';
import type { SeriesBucket, SeriesReport } from './analytics.schema.js';
import { EFFICIENCY_FAULT_THRESHOLD, energyFigures } from './energy-figures.js';
import { latestMeter, spansJson, vehicleMeterParts } from './meter-spans.js';
import { resolveWindow, windowsJson } from './requested-window.js';
import { findMeterSeries, findVehicleSeries, type BucketInterval } from './series.repository.js';
import { readWindow } from './window-snapshot.js';

/**
 * Each bucket size reads the coarsest aggregate that divides it: quarter hours for 15m,
 * hours for 1h and 1d (24 hourly rows per day), raw rows only for the minutes at the edges.
 */
const BUCKETS: Record<SeriesBucket, { ms: number; interval: BucketInterval; coarsest: AggregateLevel }> = {
  '15m': { ms: QUARTER_HOUR_MS, interval: '15 minutes', coarsest: 'quarter' },
  '1h': { ms: HOUR_MS, interval: '1 hour', coarsest: 'hourly' },
  '1d': { ms: DAY_MS, interval: '1 day', coarsest: 'hourly' },
};

/** Retention of the quarter-hour aggregates (migrations/1764201600005_quarter_hour_aggregates.sql). */
const QUARTER_HOUR_RETENTION_MS = 90 * DAY_MS;

/** The window's figures per UTC-aligned bucket: every bucket, empty ones with zeros. */
export async function getSeries(
  db: Db,
  vehicleId: string,
  query: { from?: Date | undefined; to?: Date | undefined; bucket: SeriesBucket },
): Promise<SeriesReport> {
  const requested = resolveWindow(query);
  if (query.bucket === '15m' && requested.from.getTime() < Date.now() - QUARTER_HOUR_RETENTION_MS) {
    throw AppError.validation(
      [{ path: 'query.from', message: 'quarter-hour detail is kept 90 days: use bucket=1h or 1d for older windows' }],
      'The window is older than the 15-minute data.',
    );
  }
  const bucket = BUCKETS[query.bucket];
  const { assignments, spans, acRows, dcRows, window } = await readWindow(
    db,
    requested,
    bucket.coarsest,
    async (trx, planner, window) => {
      const { assignments, spans, parts } = await vehicleMeterParts(trx, vehicleId, window, planner);
      return {
        assignments,
        spans,
        window,
        acRows: await findMeterSeries(trx, parts, bucket.interval),
        dcRows: await findVehicleSeries(trx, vehicleId, planner.vehicle, bucket.interval),
      };
    },
  );
  if (assignments.length === 0) throw await vehicleWithoutMeter(db, vehicleId);
  const { from, to } = window;
  const ac = new Map(acRows.map((row) => [row.start.getTime(), row]));
  const dc = new Map(dcRows.map((row) => [row.start.getTime(), row]));

  const points: SeriesReport['points'] = [];
  for (let start = Math.floor(from.getTime() / bucket.ms) * bucket.ms; start < to.getTime(); start += bucket.ms) {
    const a = ac.get(start);
    const d = dc.get(start);
    points.push({
      start: new Date(Math.max(start, from.getTime())).toISOString(),
      end: new Date(Math.min(start + bucket.ms, to.getTime())).toISOString(),
      ...energyFigures({
        ac_kwh: a?.ac_kwh ?? 0,
        meter_readings: a?.meter_readings ?? 0,
        dc_kwh: d?.dc_kwh ?? 0,
        vehicle_readings: d?.vehicle_readings ?? 0,
        battery_temp_sum: d?.battery_temp_sum ?? null,
      }),
    });
  }
  return {
    vehicleId,
    meterId: latestMeter(spans),
    meters: spansJson(spans),
    ...windowsJson(requested, window),
    bucket: query.bucket,
    efficiencyThreshold: EFFICIENCY_FAULT_THRESHOLD,
    points,
  };
}
