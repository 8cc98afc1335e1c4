import type { Db } from '../db/database.js';
import { vehicleWithoutMeter } from '../mapping/mapping.errors.js';
import { MINUTE_MS } from '../time.js';
import type { PerformanceReport } from './analytics.schema.js';
import { dropFloatNoise, EFFICIENCY_FAULT_THRESHOLD, energyFigures } from './energy-figures.js';
import { latestMeter, spansJson, vehicleMeterParts } from './meter-spans.js';
import { findPerformance } from './performance.repository.js';
import { resolveWindow, windowsJson } from './requested-window.js';
import { readWindow } from './window-snapshot.js';

/** Devices report once a minute: the reading count a fully covered window would have. */
const NOMINAL_READING_INTERVAL_MS = MINUTE_MS;

/**
 * How one vehicle charged over a window: its figures, extremes and reading coverage. The AC
 * side adds up the meter of each assignment over the part of the window it held.
 */
export async function getPerformance(
  db: Db,
  vehicleId: string,
  query: { from?: Date | undefined; to?: Date | undefined },
): Promise<PerformanceReport> {
  const requested = resolveWindow(query);
  const { assignments, spans, row, window } = await readWindow(
    db,
    requested,
    'hourly',
    async (trx, planner, window) => {
      const { assignments, spans, parts } = await vehicleMeterParts(trx, vehicleId, window, planner);
      return { assignments, spans, window, row: await findPerformance(trx, vehicleId, planner.vehicle, parts) };
    },
  );
  if (assignments.length === 0) throw await vehicleWithoutMeter(db, vehicleId);

  const { from, to } = window;
  const expected = Math.floor((to.getTime() - from.getTime()) / NOMINAL_READING_INTERVAL_MS);
  const coverage = (count: number) => (expected > 0 ? dropFloatNoise(Math.min(1, count / expected), 4) : 0);
  return {
    vehicleId,
    meterId: latestMeter(spans),
    meters: spansJson(spans),
    ...windowsJson(requested, window),
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
