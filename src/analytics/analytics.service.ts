import type { Db } from '../db/database.js';
import { AppError } from '../http/app-error.js';
import { vehicleNotMapped } from '../mapping/mapping.errors.js';
import { planWindow, type Materialized } from './analytics-window.js';
import { findPerformance } from './analytics.repository.js';
import type { PerformanceReport } from './analytics.schema.js';
import { clean, EFFICIENCY_FAULT_THRESHOLD, energyFigures } from './energy-figures.js';

const DAY_MS = 86_400_000;
export const DEFAULT_WINDOW_MS = DAY_MS;
export const MAX_WINDOW_MS = 31 * DAY_MS;
/** Devices report once a minute: the reading count a fully covered window would have. */
const NOMINAL_READING_INTERVAL_MS = 60_000;

export function resolveWindow(query: { from?: Date; to?: Date }, now = new Date()): { from: Date; to: Date } {
  const to = query.to ?? now;
  const from = query.from ?? new Date(to.getTime() - DEFAULT_WINDOW_MS);
  if (from.getTime() >= to.getTime()) {
    throw AppError.validation([{ path: 'query.from', message: 'must be earlier than "to"' }], 'The window is empty.');
  }
  if (to.getTime() - from.getTime() > MAX_WINDOW_MS) {
    throw AppError.validation(
      [{ path: 'query.from', message: 'the window may span at most 31 days' }],
      'The window is too long.',
    );
  }
  return { from, to };
}

export async function getPerformance(
  db: Db,
  vehicleId: string,
  query: { from?: Date; to?: Date },
  materialized: Materialized = {},
): Promise<PerformanceReport> {
  const { from, to } = resolveWindow(query);
  const row = await findPerformance(db, vehicleId, planWindow(from, to, 'hourly', materialized));
  if (!row) throw vehicleNotMapped(vehicleId);

  const expected = Math.floor((to.getTime() - from.getTime()) / NOMINAL_READING_INTERVAL_MS);
  const coverage = (count: number) => (expected > 0 ? clean(Math.min(1, count / expected), 4) : 0);
  return {
    vehicleId: row.vehicle_id,
    meterId: row.meter_id,
    window: { from: from.toISOString(), to: to.toISOString() },
    ...energyFigures(row),
    efficiencyThreshold: EFFICIENCY_FAULT_THRESHOLD,
    socMin: row.soc_min,
    socMax: row.soc_max,
    coverage: {
      expectedReadings: expected,
      meter: coverage(row.meter_readings),
      vehicle: coverage(row.vehicle_readings),
    },
  };
}
