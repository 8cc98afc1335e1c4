import type { Db } from '../db/database.js';
import { vehicleNotMapped } from '../mapping/mapping.errors.js';
import { MINUTE_MS } from '../time.js';
import type { PerformanceReport } from './analytics.schema.js';
import { dropFloatNoise, EFFICIENCY_FAULT_THRESHOLD, energyFigures } from './energy-figures.js';
import { findPerformance } from './performance.repository.js';
import { resolveWindow } from './requested-window.js';
import { readWindow } from './window-snapshot.js';

/** Devices report once a minute: the reading count a fully covered window would have. */
const NOMINAL_READING_INTERVAL_MS = MINUTE_MS;

/** How one vehicle charged over a window: its figures, extremes and reading coverage. */
export async function getPerformance(
  db: Db,
  vehicleId: string,
  query: { from?: Date | undefined; to?: Date | undefined },
): Promise<PerformanceReport> {
  const window = resolveWindow(query);
  const row = await readWindow(db, window, 'hourly', (trx, plan) => findPerformance(trx, vehicleId, plan));
  if (!row) throw vehicleNotMapped(vehicleId);

  const { from, to } = window;
  const expected = Math.floor((to.getTime() - from.getTime()) / NOMINAL_READING_INTERVAL_MS);
  const coverage = (count: number) => (expected > 0 ? dropFloatNoise(Math.min(1, count / expected), 4) : 0);
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
