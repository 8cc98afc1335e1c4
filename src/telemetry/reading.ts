/**
 * Readings as the service handles them once validated. Timestamps are at millisecond
 * precision. A reading carries its energy in one of two forms, the other one null:
 * - interval: the energy since the device's previous reading (`kwhConsumedAc`);
 * - register: the device's running total (`kwhConsumedAcTotal`); the interval energy is
 *   derived when it is stored, in timestamp order (register-chain.repository.ts).
 */
export interface MeterReading {
  meterId: string;
  kwhConsumedAc: number | null;
  kwhConsumedAcTotal: number | null;
  voltage: number;
  timestamp: Date;
}

export interface VehicleReading {
  vehicleId: string;
  soc: number;
  kwhDeliveredDc: number | null;
  kwhDeliveredDcTotal: number | null;
  batteryTemp: number;
  timestamp: Date;
}

/** The register a reading carries, or null for an interval reading. */
export function registerOf(reading: MeterReading | VehicleReading): number | null {
  return 'meterId' in reading ? reading.kwhConsumedAcTotal : reading.kwhDeliveredDcTotal;
}

/**
 * Which device a reading comes from: a meter (AC energy drawn from the grid) or a vehicle (DC
 * energy delivered to its battery). Each kind has its own tables and aggregates. Not a Kinesis
 * stream (src/streams/), although each of those carries readings of one kind.
 */
export type ReadingKind = 'meter' | 'vehicle';

/** One list per reading kind: the readings themselves, or something about each (positions). */
export interface ReadingsByKind<M = MeterReading, V = M extends MeterReading ? VehicleReading : M> {
  meter: M[];
  vehicle: V[];
}

export function deviceIdOf(reading: MeterReading | VehicleReading): string {
  return 'meterId' in reading ? reading.meterId : reading.vehicleId;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
}
