import type { Db } from '../db/database.js';
import { AppError } from '../http/app-error.js';
import { findPerformance } from './analytics.repository.js';
import { planWindow } from './analytics-window.js';

const DAY_MS = 86_400_000;
export const DEFAULT_WINDOW_MS = DAY_MS;
export const MAX_WINDOW_MS = 31 * DAY_MS;
/** Devices report once a minute: the reading count a fully covered window would have. */
const NOMINAL_READING_INTERVAL_MS = 60_000;
/** Below this DC/AC ratio a charger or battery loses energy it should not: a fault. */
export const EFFICIENCY_FAULT_THRESHOLD = 0.85;

export type EfficiencyStatus = 'normal' | 'low' | 'implausible' | 'no_data';

export interface PerformanceReport {
  vehicleId: string;
  meterId: string;
  window: { from: string; to: string };
  acEnergyKwh: number;
  dcEnergyKwh: number;
  efficiencyRatio: number | null;
  efficiencyStatus: EfficiencyStatus;
  efficiencyThreshold: number;
  avgBatteryTempC: number | null;
  socMin: number | null;
  socMax: number | null;
  readings: { meter: number; vehicle: number };
  coverage: { expectedReadings: number; meter: number; vehicle: number };
}

/** Rounds away floating-point noise (0.30000000000000004) far below a watt-hour. */
const clean = (value: number, digits = 9) => Number(value.toFixed(digits));

/**
 * "low": below the fault threshold (hardware fault or energy leakage); "implausible": more
 * DC delivered than AC drawn, which no charger does (a wrong mapping or a faulty meter).
 */
export function efficiencyStatus(ratio: number | null): EfficiencyStatus {
  if (ratio === null) return 'no_data';
  if (ratio > 1) return 'implausible';
  if (ratio < EFFICIENCY_FAULT_THRESHOLD) return 'low';
  return 'normal';
}

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
): Promise<PerformanceReport> {
  const { from, to } = resolveWindow(query);
  const row = await findPerformance(db, vehicleId, planWindow(from, to));
  if (!row) throw AppError.notFound('vehicle_not_found', `Vehicle ${vehicleId} has no meter mapped.`);

  const ac = clean(row.ac_kwh);
  const dc = clean(row.dc_kwh);
  const ratio = ac > 0 ? clean(dc / ac, 6) : null;
  const expected = Math.floor((to.getTime() - from.getTime()) / NOMINAL_READING_INTERVAL_MS);
  const coverage = (count: number) => (expected > 0 ? clean(Math.min(1, count / expected), 4) : 0);
  return {
    vehicleId: row.vehicle_id,
    meterId: row.meter_id,
    window: { from: from.toISOString(), to: to.toISOString() },
    acEnergyKwh: ac,
    dcEnergyKwh: dc,
    efficiencyRatio: ratio,
    efficiencyStatus: efficiencyStatus(ratio),
    efficiencyThreshold: EFFICIENCY_FAULT_THRESHOLD,
    avgBatteryTempC:
      row.vehicle_readings > 0 && row.battery_temp_sum !== null
        ? clean(row.battery_temp_sum / row.vehicle_readings, 6)
        : null,
    socMin: row.soc_min,
    socMax: row.soc_max,
    readings: { meter: row.meter_readings, vehicle: row.vehicle_readings },
    coverage: { expectedReadings: expected, meter: coverage(row.meter_readings), vehicle: coverage(row.vehicle_readings) },
  };
}
