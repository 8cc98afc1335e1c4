import type { ExecutionContext } from 'ava';

import type { MeterReading, ReadingKind, VehicleReading } from '../../src/telemetry/reading.js';
import type { TestService } from './test-service.js';

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

/**
 * Posts arrivals through the API, one request per reading kind, each checked 202; returns how
 * many the service answered as duplicates.
 */
export async function postArrivals(t: ExecutionContext, svc: TestService, arrivals: Arrival[]): Promise<number> {
  let duplicates = 0;
  for (const kind of ['meter', 'vehicle'] as const) {
    const bodies = arrivals
      .filter((a) => a.stream === kind)
      .map((a) => {
        const { timestamp, ...reading } = asReading(a);
        const fields = Object.entries(reading).filter(([, value]) => value !== null);
        return { ...Object.fromEntries(fields), timestamp: timestamp.toISOString() };
      });
    if (bodies.length === 0) continue;
    const res = await svc.post(`/v1/ingestion/${kind}`, bodies);
    t.is(res.status, 202, JSON.stringify(res.body));
    duplicates += res.body.duplicates as number;
  }
  return duplicates;
}
