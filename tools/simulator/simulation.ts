import { MINUTE_MS } from '../../src/time.js';
import { createFleet, type EnergyForm, type MeterPayload, type VehiclePayload } from './fleet-model.js';
import { forEachConcurrent, JsonClient } from './http-client.js';
import type { KinesisSink } from './kinesis-sink.js';
import type { OcppMinute, OcppSink } from './ocpp-sink.js';

export interface SimulationOptions {
  url: string;
  /** A key with the ingest and admin scopes (mappings are set through the API). */
  apiKey: string;
  vehicles: number;
  seed: number;
  faultyShare: number;
  /** Interval readings (default) or running registers with resets. */
  energyForm?: EnergyForm;
  /** Backfill this much history (ms) as fast as the service takes it, then stop. */
  backfillMs?: number;
  /** Backfill up to this instant (epoch ms; default: the current minute). */
  backfillEndMs?: number;
  /** Live mode: simulated minutes per wall-clock minute. */
  speed: number;
  /** Live mode: stop after this long (ms of wall clock); runs until aborted otherwise. */
  durationMs?: number;
  /** Readings per request in backfill mode. */
  batch: number;
  concurrency: number;
  /** Put readings on Kinesis streams instead of posting them (mappings still go through the API). */
  kinesis?: KinesisSink;
  /**
   * Send meter readings as OCPP 1.6J charging stations (one per meter) instead of posting them:
   * id tokens instead of mappings, assignments from the stations' transactions. Implies register
   * energies. Vehicle readings still go over HTTP.
   */
  ocpp?: OcppSink;
  signal?: AbortSignal;
  onProgress?: (stats: SimulationStats) => void;
}

export interface SimulationStats {
  sent: number;
  /** Over HTTP: stored. To Kinesis: put on the stream (the consumer stores them). */
  accepted: number;
  duplicates: number;
  errors: number;
  requests: number;
  elapsedMs: number;
  faultyVehicles: string[];
}

/** Within the API's bulk limit (MAX_BULK_MAPPINGS). */
const MAPPINGS_PER_REQUEST = 10_000;

type Batch = { ocpp: OcppMinute[] } | { path: string; readings: MeterPayload[] | VehiclePayload[] };

function isIngestResult(body: unknown): body is { accepted: number; duplicates: number } {
  return typeof body === 'object' && body !== null && 'accepted' in body && 'duplicates' in body;
}

/** Maps every vehicle to its meter, then sends readings (backfill or live) through the API. */
export async function runSimulation(options: SimulationOptions): Promise<SimulationStats> {
  const fleet = createFleet(
    options.vehicles,
    options.seed,
    options.faultyShare,
    options.ocpp ? 'register' : options.energyForm,
  );
  const client = new JsonClient(options.url, options.concurrency, options.apiKey);
  const started = performance.now();
  const stats: SimulationStats = {
    sent: 0,
    accepted: 0,
    duplicates: 0,
    errors: 0,
    requests: 0,
    elapsedMs: 0,
    faultyVehicles: fleet.filter((v) => v.faulty).map((v) => v.vehicleId),
  };
  const progress = setInterval(() => {
    stats.elapsedMs = performance.now() - started;
    options.onProgress?.(stats);
  }, 1000);

  const post = async (path: string, readings: MeterPayload[] | VehiclePayload[] | MeterPayload | VehiclePayload) => {
    const count = Array.isArray(readings) ? readings.length : 1;
    if (options.kinesis) {
      try {
        const list = (Array.isArray(readings) ? readings : [readings]) as MeterPayload[] | VehiclePayload[];
        await options.kinesis.put(path.endsWith('/meter') ? 'meter' : 'vehicle', list);
        stats.requests += 1;
        stats.accepted += count;
      } catch {
        stats.errors += count;
      }
      stats.sent += count;
      return;
    }
    for (let attempt = 0; ; attempt += 1) {
      try {
        const res = await client.send('POST', path, readings);
        stats.requests += 1;
        if (res.status === 202 && isIngestResult(res.body)) {
          stats.sent += count;
          stats.accepted += res.body.accepted;
          stats.duplicates += res.body.duplicates;
          return;
        }
        // 503: the service asks us to come back; anything else is a real error.
        if (res.status !== 503 || attempt >= 20) throw new Error(`HTTP ${res.status}: ${JSON.stringify(res.body)}`);
      } catch (error) {
        if (attempt >= 20) {
          stats.errors += count;
          stats.sent += count;
          return;
        }
        void error;
      }
      await new Promise((done) => setTimeout(done, 100 * (attempt + 1)));
    }
  };

  const ocpp = options.ocpp;
  if (ocpp) {
    // Over OCPP a meter value counts as accepted once its MeterValues was answered (the
    // service answers only after committing it; duplicates are not told apart).
    ocpp.onOutcome = (outcome, values) => {
      if (outcome === 'confirmed') stats.requests += 1;
      stats.sent += values;
      stats[outcome === 'confirmed' ? 'accepted' : 'errors'] += values;
    };
  }
  const sendMeters = async (minutes: OcppMinute[]) => {
    await ocpp?.put(minutes);
  };

  try {
    if (ocpp) await ocpp.connect(fleet, client, options.concurrency);
    // The whole fleet's mapping in bulk requests (all or nothing each); over OCPP the
    // stations' transactions assign the vehicles instead.
    for (let first = 0; !ocpp && first < fleet.length; first += MAPPINGS_PER_REQUEST) {
      const chunk = fleet.slice(first, first + MAPPINGS_PER_REQUEST);
      const res = await client.send(
        'PUT',
        '/v1/mappings',
        chunk.map(({ vehicleId, meterId }) => ({ vehicleId, meterId })),
      );
      if (res.status !== 200)
        throw new Error(`mapping the fleet failed: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    }

    if (options.backfillMs !== undefined) {
      const end = Math.floor((options.backfillEndMs ?? Date.now()) / MINUTE_MS) * MINUTE_MS;
      const start = end - Math.floor(options.backfillMs / MINUTE_MS) * MINUTE_MS;
      const requests = function* () {
        let meters: OcppMinute[] = [];
        let vehicles: VehiclePayload[] = [];
        const batch = (): Batch[] => [
          ocpp ? { ocpp: meters } : { path: '/v1/ingestion/meter', readings: meters.map((m) => m.meter) },
          { path: '/v1/ingestion/vehicle', readings: vehicles },
        ];
        for (let t = start; t < end && !options.signal?.aborted; t += MINUTE_MS) {
          for (const vehicle of fleet) {
            const { meter, vehicle: reading } = vehicle.step(new Date(t));
            meters.push({ meter, plugged: vehicle.plugged });
            vehicles.push(reading);
            if (meters.length >= options.batch) {
              yield* batch();
              meters = [];
              vehicles = [];
            }
          }
        }
        if (meters.length > 0) yield* batch();
      };
      // The OCPP batches are queued on their stations in this order when they are taken, so
      // each station's calls stay in order whatever the concurrency.
      await forEachConcurrent(requests(), options.concurrency, (b) =>
        'ocpp' in b ? sendMeters(b.ocpp) : post(b.path, b.readings),
      );
    } else {
      // Live: every simulated minute each device posts its own reading, as real ones do.
      const tickMs = MINUTE_MS / options.speed;
      const stopAt = options.durationMs === undefined ? Infinity : Date.now() + options.durationMs;
      let simulated = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
      while (!options.signal?.aborted && Date.now() < stopAt) {
        const tickStarted = Date.now();
        const at = new Date(Math.min(simulated, Date.now()));
        const readings = fleet.map((vehicle) => ({ ...vehicle.step(at), plugged: vehicle.plugged }));
        await forEachConcurrent(readings, options.concurrency, async ({ meter, vehicle, plugged }) => {
          await (ocpp ? sendMeters([{ meter, plugged }]) : post('/v1/ingestion/meter', meter));
          await post('/v1/ingestion/vehicle', vehicle);
        });
        simulated += MINUTE_MS;
        const wait = tickMs - (Date.now() - tickStarted);
        if (wait > 0 && Date.now() + wait < stopAt) await new Promise((done) => setTimeout(done, wait));
        else if (wait > 0) break;
      }
    }
    // A backfill's last meter values may still be queued on their stations.
    await ocpp?.flush();
  } finally {
    clearInterval(progress);
    client.close();
    await ocpp?.disconnect();
  }
  stats.elapsedMs = performance.now() - started;
  return stats;
}
