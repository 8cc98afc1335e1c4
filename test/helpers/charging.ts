import { MINUTE_MS } from '../../src/time.js';
import { meterReading, vehicleReading, type TestService } from './test-service.js';

/**
 * A timeline of whole minutes starting `hoursBack` hours ago, and charging on it: what the alert
 * tests feed the evaluator (readings around it are inside every default window).
 */
export function chargingTimeline(svc: () => TestService, hoursBack: number) {
  const base = Math.floor((Date.now() - hoursBack * 60 * MINUTE_MS) / MINUTE_MS) * MINUTE_MS;
  const at = (minutes: number) => new Date(base + minutes * MINUTE_MS);

  /** 1 kWh AC a minute on `meterId` and `dcPerKwh` DC on `vehicleId`, for minutes [from, to). */
  async function charged(vehicleId: string, meterId: string, from: number, to: number, dcPerKwh: number) {
    const minutes = Array.from({ length: to - from }, (_, i) => from + i);
    const meter = await svc().post(
      '/v1/ingestion/meter',
      minutes.map((m) => meterReading(meterId, at(m), 1)),
    );
    const vehicle = await svc().post(
      '/v1/ingestion/vehicle',
      minutes.map((m) => vehicleReading(vehicleId, at(m), dcPerKwh)),
    );
    if (meter.status !== 202 || vehicle.status !== 202)
      throw new Error(`ingest failed: ${meter.status} ${vehicle.status}`);
  }
  return { at, charged };
}
