/** Readings as the service handles them once validated. Timestamps are at millisecond precision. */
export interface MeterReading {
  meterId: string;
  kwhConsumedAc: number;
  voltage: number;
  timestamp: Date;
}

export interface VehicleReading {
  vehicleId: string;
  soc: number;
  kwhDeliveredDc: number;
  batteryTemp: number;
  timestamp: Date;
}

export type Stream = 'meter' | 'vehicle';

/** One list per stream: the readings themselves, or something about each (positions). */
export interface ReadingsByStream<M = MeterReading, V = M extends MeterReading ? VehicleReading : M> {
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
