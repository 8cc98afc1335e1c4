import type { z } from 'zod';

import type { EfficiencyStatus, seriesPoint } from './analytics.schema.js';

/** Below this DC/AC ratio a charger or battery loses energy it should not: a fault. */
export const EFFICIENCY_FAULT_THRESHOLD = 0.85;

/** Energies are shown (and compared) to this many decimals of a kWh: a microwatt-hour. */
export const KWH_DECIMALS = 9;

/**
 * Rounds away floating-point noise (0.30000000000000004) far below a watt-hour. The ratio is
 * computed from the rounded energies, so an AC sum too small to show (5e-324) has no ratio
 * instead of an overflowing one; the fleet query applies the same rule in SQL.
 */
export const dropFloatNoise = (value: number, digits = KWH_DECIMALS) => Number(value.toFixed(digits));

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

/** Sums and counts as the database returns them for a window, a bucket or a vehicle. */
export interface EnergySums {
  ac_kwh: number;
  meter_readings: number;
  dc_kwh: number;
  vehicle_readings: number;
  battery_temp_sum: number | null;
}

export type EnergyFigures = Omit<z.infer<typeof seriesPoint>, 'start' | 'end'>;

/** The figures every analytics answer shows, computed the same way everywhere. */
export function energyFigures(sums: EnergySums): EnergyFigures {
  const ac = dropFloatNoise(sums.ac_kwh);
  const dc = dropFloatNoise(sums.dc_kwh);
  const ratio = ac > 0 ? dropFloatNoise(dc / ac, 6) : null;
  return {
    acEnergyKwh: ac,
    dcEnergyKwh: dc,
    efficiencyRatio: ratio,
    efficiencyStatus: efficiencyStatus(ratio),
    avgBatteryTempC:
      sums.vehicle_readings > 0 && sums.battery_temp_sum !== null
        ? dropFloatNoise(sums.battery_temp_sum / sums.vehicle_readings, 6)
        : null,
    readings: { meter: sums.meter_readings, vehicle: sums.vehicle_readings },
  };
}
