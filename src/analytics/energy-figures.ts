import type { z } from 'zod';

import type { seriesPoint } from './analytics.schema.js';
import { efficiencyOf, KWH_DECIMALS } from './efficiency-rule.js';

export { EFFICIENCY_FAULT_THRESHOLD, KWH_DECIMALS } from './efficiency-rule.js';

/** Rounds away floating-point noise (0.30000000000000004) far below a watt-hour. */
export const dropFloatNoise = (value: number, digits = KWH_DECIMALS) => Number(value.toFixed(digits));

/** Sums and counts as the database returns them for a window, a bucket or a vehicle. */
export interface EnergySums {
  ac_kwh: number;
  meter_readings: number;
  dc_kwh: number;
  vehicle_readings: number;
  battery_temp_sum: number | null;
}

export type EnergyFigures = Omit<z.infer<typeof seriesPoint>, 'start' | 'end'>;

/** The figures every analytics answer shows, computed the same way everywhere (efficiency-rule.ts). */
export function energyFigures(sums: EnergySums): EnergyFigures {
  const { acKwh, dcKwh, ratio, status } = efficiencyOf(sums.ac_kwh, sums.dc_kwh);
  return {
    acEnergyKwh: acKwh,
    dcEnergyKwh: dcKwh,
    efficiencyRatio: ratio,
    efficiencyStatus: status,
    avgBatteryTempC:
      sums.vehicle_readings > 0 && sums.battery_temp_sum !== null
        ? dropFloatNoise(sums.battery_temp_sum / sums.vehicle_readings, 6)
        : null,
    readings: { meter: sums.meter_readings, vehicle: sums.vehicle_readings },
  };
}
