import type { MeterReading, ReadingKind, VehicleReading } from '../../src/telemetry/reading.js';

/**
 * One reading as a property test generates it, in either energy form: the oracle works on these
 * (watt-hours, exact integers), the service gets them as readings (asReading).
 */
export interface Arrival {
  stream: ReadingKind;
  device: string;
  ts: number;
  /** Interval energy (Wh) or register (Wh); the other null. */
  intervalWh: number | null;
  registerWh: number | null;
}

/** The reading the API or the writer gets for an arrival (other fields fixed). */
export const asReading = (a: Arrival): MeterReading | VehicleReading =>
  a.stream === 'meter'
    ? {
        meterId: a.device,
        kwhConsumedAc: a.intervalWh === null ? null : a.intervalWh / 1000,
        kwhConsumedAcTotal: a.registerWh === null ? null : a.registerWh / 1000,
        voltage: 230,
        timestamp: new Date(a.ts),
      }
    : {
        vehicleId: a.device,
        soc: 50,
        kwhDeliveredDc: a.intervalWh === null ? null : a.intervalWh / 1000,
        kwhDeliveredDcTotal: a.registerWh === null ? null : a.registerWh / 1000,
        batteryTemp: 30,
        timestamp: new Date(a.ts),
      };
