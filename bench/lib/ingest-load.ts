import { MINUTE_MS } from '../../src/time.js';
import type { EnergyForm } from '../../tools/simulator/fleet-model.js';
import type { JsonClient } from '../../tools/simulator/http-client.js';
import { runLoad } from './http-load.js';

/**
 * Readings for load generation: each device reports every 100 ms from `base` (20 minutes
 * ago), so that even 100 devices at 30,000 readings/s for 20 s stay in the past (all
 * "live", newer than an hour: no late-data refresh).
 */
const LOAD_STEP_MS = 100;
/**
 * The same energy in either form: a register device's total grows by the interval energy
 * at each step (from 1,000 kWh), so both forms store the same interval energies.
 */
function readingsFor(
  stream: 'meter' | 'vehicle',
  prefix: string,
  devices: number,
  first: number,
  count: number,
  base: number,
  form: EnergyForm = 'interval',
) {
  return Array.from({ length: count }, (_, j) => {
    const k = first + j;
    const step = Math.floor(k / devices);
    const timestamp = new Date(base + step * LOAD_STEP_MS).toISOString();
    const id = `${prefix}-${k % devices}`;
    const register = form === 'register';
    return stream === 'meter'
      ? {
          meterId: id,
          ...(register ? { kwhConsumedAcTotal: 1000 + step * 0.2 } : { kwhConsumedAc: 0.2 }),
          voltage: 230,
          timestamp,
        }
      : {
          vehicleId: id,
          soc: 50,
          ...(register ? { kwhDeliveredDcTotal: 1000 + step * 0.18 } : { kwhDeliveredDc: 0.18 }),
          batteryTemp: 30,
          timestamp,
        };
  });
}

/** Batches of `batch` readings, meter and vehicle requests alternating, over 4 connections. */
export function batchedIngest(
  client: JsonClient,
  prefix: string,
  devices: number,
  durationMs: number,
  batch = 500,
  form: EnergyForm = 'interval',
) {
  const base = Date.now() - 20 * MINUTE_MS;
  return runLoad({
    client,
    durationMs,
    concurrency: 4,
    request: (n) => {
      const stream = n % 2 === 0 ? 'meter' : 'vehicle';
      const body = readingsFor(stream, prefix, devices, Math.floor(n / 2) * batch, batch, base, form);
      return { method: 'POST', path: `/v1/ingestion/${stream}`, body, readings: batch };
    },
  });
}

/** One reading per request, meter and vehicle alternating; paced when `ratePerSecond` is given. */
export function singleIngest(
  client: JsonClient,
  prefix: string,
  devices: number,
  durationMs: number,
  concurrency: number,
  ratePerSecond?: number,
) {
  const base = Date.now() - 20 * MINUTE_MS;
  return runLoad({
    client,
    durationMs,
    concurrency,
    ratePerSecond,
    request: (n) => {
      const stream = n % 2 === 0 ? 'meter' : 'vehicle';
      const [body] = readingsFor(stream, prefix, devices, Math.floor(n / 2), 1, base);
      return { method: 'POST', path: `/v1/ingestion/${stream}`, body, readings: 1 };
    },
  });
}
